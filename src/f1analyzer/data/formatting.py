"""How times, percentiles and compounds are written for people (issue 15).

Fans read lap times as ``1:36.296`` and race times as ``1:24:31.5`` (FastF1, the broadcasts); JSON
keeps plain seconds in ``*_s`` fields, and these helpers are for tables and text only. Percentiles
are written "10th percentile"/"10th–90th" and never "P10", which reads as tenth place. The dashboard
has the same rules in ``static/format.js``.
"""

from __future__ import annotations

import math

#: how the three dry compounds are named beside their Pirelli code
DRY = ("HARD", "MEDIUM", "SOFT")


def _missing(seconds) -> bool:
    return seconds is None or (isinstance(seconds, float) and math.isnan(seconds))


def lap_time(seconds: float | None) -> str:
    """A lap time: ``96.296`` → ``1:36.296``, ``59.1`` → ``59.100``; empty when unknown."""
    if _missing(seconds):
        return ""
    ms = round(float(seconds) * 1000)
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    minutes, rest = divmod(ms, 60_000)
    if minutes:
        return f"{sign}{minutes}:{rest // 1000:02d}.{rest % 1000:03d}"
    return f"{sign}{rest // 1000}.{rest % 1000:03d}"


def race_time(seconds: float | None) -> str:
    """A race (or long) time to the tenth: ``5071.5`` → ``1:24:31.5``, ``754.2`` → ``12:34.2``."""
    if _missing(seconds):
        return ""
    tenths = round(float(seconds) * 10)
    sign = "-" if tenths < 0 else ""
    tenths = abs(tenths)
    hours, rest = divmod(tenths, 36_000)
    minutes, rest = divmod(rest, 600)
    secs = f"{rest // 10:02d}.{rest % 10}"
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs}"
    return f"{sign}{minutes}:{secs}" if minutes else f"{sign}{rest // 10}.{rest % 10}"


def gap(seconds: float | None) -> str:
    """A gap between cars: ``+1.234`` (``+1:02.345`` past a minute)."""
    if _missing(seconds):
        return ""
    text = lap_time(abs(float(seconds)))
    return ("-" if seconds < 0 else "+") + text


def stop_count(n: int) -> str:
    """``0`` → ``no stop``, ``1`` → ``1 stop``, ``2`` → ``2 stops`` (CLI lines and narratives)."""
    n = int(n)
    return "no stop" if n == 0 else f"{n} stop" + ("" if n == 1 else "s")


def ordinal(n: int) -> str:
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def percentile(q: float) -> str:
    """``10`` (or ``0.1``) → ``10th percentile``: never "P10", which reads as tenth place."""
    q = float(q)
    q = q * 100 if 0 < q < 1 else q
    return f"{ordinal(round(q))} percentile"


def compound_label(compound: str | None, event_codes: list[str] | None = None) -> str:
    """``SOFT`` with the event's codes ``["C3","C4","C5"]`` (hardest first) → ``SOFT (C5)``;
    other compounds, or no codes, as they are."""
    if not compound:
        return ""
    name = str(compound).upper()
    codes = list(event_codes or [])
    if name in DRY and len(codes) == 3:
        return f"{name} ({codes[DRY.index(name)]})"
    return name
