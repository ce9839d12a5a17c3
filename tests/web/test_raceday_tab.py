"""The dashboard's Race-day tab in headless Chromium: a stored race replayed as live, the timing
tower updating from the SSE stream without a reload, a driver's call, rejoin and threats, on a
laptop and a phone viewport."""

from __future__ import annotations

from tests.helpers import api_server, service_env

from .conftest import SYN_DRIVERS, SYN_ROUND, SYN_SEASON, PageWatch
from .test_dashboard import LAPTOP, PHONE, WAIT_MS, open_dashboard


def _follow(page, speed: str, from_lap: str) -> None:
    page.fill("#rd-speed", speed)
    page.fill("#rd-from", from_lap)
    page.click("#rd-follow")


def test_race_day_tower_updates_from_the_stream(synthetic_home, browser_context_factory, tmp_path):
    env = service_env(synthetic_home, F1A_INDEX_ON_START="false", F1A_LIVE_N_SIMS=20, F1A_LIVE_MAX_ADVISED=2)
    with api_server(env, log_path=tmp_path / "api.log") as base:
        watch = PageWatch(base)
        page = open_dashboard(browser_context_factory(LAPTOP), base, watch, f"/#/race/{SYN_SEASON}/{SYN_ROUND}/raceday")
        page.wait_for_selector("#panel-raceday:not([hidden])")
        # ~82 s laps at 160x: a lap every half second, from lap 6 through the lap-9 Safety Car
        _follow(page, "160", "6")
        page.wait_for_function("() => document.querySelector('#rd-tower').dataset.lap === '6'", timeout=WAIT_MS)
        assert page.locator("#rd-tower tbody tr").count() == len(SYN_DRIVERS)
        page.click("#rd-tower tbody tr[data-driver=NOR]")
        assert page.locator("#rd-tower tr.rd-selected").get_attribute("data-driver") == "NOR"
        page.wait_for_selector("#rd-call", timeout=WAIT_MS)
        assert page.text_content("#rd-call").startswith("NOR: ")
        assert "rejoins P" in page.text_content("#rd-rejoin")
        # today's tyre life next to the lap: the circuit's history, or the factor the race has shown
        assert page.text_content("#rd-life").startswith("Tyre life")
        # the tower moves on by itself (no reload): later laps, the Safety Car banner
        page.wait_for_function("() => Number(document.querySelector('#rd-tower').dataset.lap) >= 9", timeout=WAIT_MS)
        seen = page.evaluate("() => performance.getEntriesByType('navigation').length")
        assert seen == 1
        page.wait_for_function("() => /Race over/.test(document.querySelector('#rd-message').textContent)",
                               timeout=WAIT_MS)
        assert page.get_attribute("#rd-tower", "data-lap") == "20"
        assert "SAR" in page.text_content("#rd-tower") and page.locator("#rd-tower tr.rd-out").count() == 1

        phone = open_dashboard(browser_context_factory(PHONE, mobile=True), base, watch,
                               f"/#/race/{SYN_SEASON}/{SYN_ROUND}/raceday")
        _follow(phone, "0", "15")
        phone.wait_for_function("() => document.querySelector('#rd-tower').dataset.lap === '20'", timeout=WAIT_MS)
        phone.click("#rd-tower tbody tr >> nth=0")
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE[0] + 1, f"page scrolls sideways on a phone ({width}px)"
        phone.screenshot(path=str(tmp_path / "phone-raceday.png"), full_page=True)
    # the page closes its EventSource itself at the "end" event: Chromium reports that as aborted
    problems = [p for p in watch.problems() if not (p.startswith("request failed:") and "/stream net::ERR_ABORTED" in p)]
    assert not problems, "\n".join(problems)
