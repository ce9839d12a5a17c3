"""Fixtures for the dashboard tests: a synthetic race in a temp home, a real API process, Chromium.

Chromium is Debian's (``/usr/bin/chromium``) driven by the Python playwright package; it is never
downloaded. Every browser gets a fresh profile and XDG dirs under the test's tmp dir.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from f1analyzer.data.ingest import ingest_files
from f1analyzer.data.store import RaceStore

CHROMIUM = os.environ.get("F1A_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

SYN_SEASON = 2024
SYN_ROUND = 16
SYN_EVENT = "Italian Grand Prix"
SYN_LAPS = 20
SYN_SC_LAP = 9
#: driver, team, pace offset (s), first compound, in-lap of the stop, second compound, last lap
SYN_DRIVERS = [
    ("VER", "Red Bull Racing", 0.00, "MEDIUM", 11, "HARD", SYN_LAPS),
    ("NOR", "McLaren", 0.10, "MEDIUM", SYN_SC_LAP, "HARD", SYN_LAPS),
    ("LEC", "Ferrari", 0.25, "SOFT", 7, "HARD", SYN_LAPS),
    ("PIA", "McLaren", 0.35, "HARD", 13, "MEDIUM", SYN_LAPS),
    ("HAM", "Mercedes", 0.50, "MEDIUM", 12, "SOFT", SYN_LAPS),
    ("SAR", "Williams", 1.20, "SOFT", 6, "HARD", 14),  # retires after lap 14
]
_PACE = {"SOFT": (-0.5, 0.12), "MEDIUM": (0.0, 0.07), "HARD": (0.4, 0.04)}
_CODE = {"SOFT": "C5", "MEDIUM": "C4", "HARD": "C3"}


def _fmt_td(seconds: float) -> str:
    """FastF1's text form of a session time: ``0 days 01:02:03.456000``."""
    return str(pd.Timedelta(seconds=round(float(seconds), 3)))


def synthetic_laps(seed: int = 7) -> pd.DataFrame:
    """A small FastF1-shaped lap table: 6 drivers, two stints each, one SC lap, one retirement."""
    rng = np.random.default_rng(seed)
    start = 3600.0
    rows = []
    clock = {d[0]: start + i * 0.4 for i, d in enumerate(SYN_DRIVERS)}  # grid spacing
    for lap in range(1, SYN_LAPS + 1):
        ends = {}
        for drv, team, offset, c1, pit, c2, last in SYN_DRIVERS:
            if lap > last:
                continue
            stint = 1 if lap <= pit else 2
            comp = c1 if stint == 1 else c2
            age = lap if stint == 1 else lap - pit
            base, deg = _PACE[comp]
            t = 82.0 + offset + base + deg * age + 0.06 * (SYN_LAPS - lap) + rng.normal(0, 0.08)
            if lap == 1:
                t += 6.0
            if lap == SYN_SC_LAP:
                t += 25.0
            if lap == pit:
                t += 4.0 if lap != SYN_SC_LAP else 2.0
            if lap == pit + 1:
                t += 18.0
            clock[drv] += t
            ends[drv] = clock[drv]
            rows.append({
                "Time": _fmt_td(clock[drv]), "Driver": drv, "DriverNumber": str(10 + len(rows) % 90),
                "LapTime": "" if lap == 1 else f"{t:.3f}", "LapNumber": str(lap), "Stint": str(stint),
                "PitOutTime": _fmt_td(clock[drv] - t + 1.0) if lap == pit + 1 else "",
                "PitInTime": _fmt_td(clock[drv] - 1.0) if lap == pit else "",
                "Compound": comp, "CompoundName": _CODE[comp], "TyreLife": str(float(age)),
                "FreshTyre": "True", "Team": team, "TrackStatus": "4" if lap == SYN_SC_LAP else "1",
                "Position": "", "IsAccurate": "True", "RoundNumber": str(SYN_ROUND), "EventName": SYN_EVENT,
            })
        order = sorted(ends, key=ends.get)
        for r in rows:
            if r["LapNumber"] == str(lap):
                r["Position"] = str(float(order.index(r["Driver"]) + 1))
    return pd.DataFrame(rows)


def ingest_synthetic(home: Path) -> Path:
    """Write the synthetic race as a FastF1 CSV and ingest it into ``home``'s store."""
    src = home.parent / f"synthetic_{SYN_SEASON}.csv"
    home.mkdir(parents=True, exist_ok=True)
    synthetic_laps().to_csv(src, index=False)
    results = ingest_files([src], RaceStore(home / "store"))
    assert all(r.ok for r in results), [r.error for r in results]
    return src


@pytest.fixture
def synthetic_home(f1a_home: Path) -> Path:
    ingest_synthetic(f1a_home)
    return f1a_home


@dataclass
class PageWatch:
    """Everything a page did that a test should fail on."""

    base_url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    #: API answers >= 400 (a section shows a message for them; the test decides if they were expected)
    error_responses: list[tuple[int, str]] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("request", self._on_request)
        page.on("requestfailed", lambda req: self.failed_requests.append(f"{req.url} {req.failure}"))
        page.on("response", self._on_response)

    def _on_console(self, msg) -> None:
        if msg.type in ("error", "assert"):
            loc = msg.location or {}
            self.console_errors.append(f"{msg.text} @ {loc.get('url', '')}")

    def _on_request(self, req) -> None:
        if not (req.url.startswith(self.base_url) or req.url.startswith("data:") or req.url.startswith("about:")):
            self.foreign_requests.append(req.url)

    def _on_response(self, resp) -> None:
        if resp.status >= 400:
            self.error_responses.append((resp.status, resp.url))

    def problems(self, tolerated_paths: tuple[str, ...] = ()) -> list[str]:
        """Errors that fail a test. A console "Failed to load resource" line for an API answer
        with a 4xx/5xx status on one of ``tolerated_paths`` (optional sections showing their
        "unavailable" message) is not a page error: Chromium logs every such response."""
        tolerated_urls = {u for _, u in self.error_responses
                          if any(u[len(self.base_url):].startswith(p) for p in tolerated_paths)}
        out = [f"pageerror: {e}" for e in self.page_errors]
        for line in self.console_errors:
            if line.startswith("Failed to load resource") and line.split(" @ ")[-1] in tolerated_urls:
                continue
            out.append(f"console: {line}")
        out += [f"foreign request: {u}" for u in self.foreign_requests]
        out += [f"request failed: {u}" for u in self.failed_requests]
        return out


@pytest.fixture(scope="session")
def playwright_instance():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def browser_context_factory(playwright_instance, tmp_path) -> Iterator:
    """``make(viewport=(w, h), mobile=False)`` → a fresh persistent Chromium context."""
    contexts = []
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"), "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
           "HOME": str(tmp_path / "browser-home")}

    def make(viewport=(1366, 768), mobile=False):
        profile = tmp_path / f"chromium-profile-{len(contexts)}"
        ctx = playwright_instance.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS, env=env,
            viewport={"width": viewport[0], "height": viewport[1]}, is_mobile=mobile, has_touch=mobile,
            device_scale_factor=1, service_workers="block",
        )
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()
    shutil.rmtree(tmp_path / "browser-home", ignore_errors=True)
