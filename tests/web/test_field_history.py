"""The strategy lab's "What the top ten did here before": ``field_history`` as a table and
``history_check`` as one line in the CLI's wording (``f1analyzer strategy``), under the options;
nothing for an answer without them (older or cached answers, a circuit with no earlier race).

One test serves contract-shaped answers through playwright's router (as test_dashboard does), the
other asks the real API on the strategy suites' synthetic store (tests/factories.py), where a 2023 Bahrain pre-race
answer has 2022 in its field history.
"""

from __future__ import annotations

import copy
import json

import httpx

from f1analyzer.app.history import history_check
from f1analyzer.cli.strategy import history_line
from f1analyzer.data.store import RaceStore
from tests.factories import fill_store, strategy_laps
from tests.helpers import api_server, service_env

from .conftest import SYN_ROUND, SYN_SEASON, PageWatch
from .test_dashboard import GENERATE, LAPTOP, PHONE, WAIT_MS, open_dashboard

SECTION = "#lab-results #lab-field-history"
TITLE = "What the top ten did here before"
INJECTED = 'Gran Premio <img src=x onerror="window.__pwned=1">'


def _race(season, rnd, era, wet, stops, green, compounds, first, n_cars=10, event="Italian Grand Prix"):
    return {"season": season, "round": rnd, "event": event, "era": era, "wet": wet, "total_laps": 53, "stops": stops,
            "green_stops": green, "compounds": compounds, "median_first_stop_lap": first, "n_cars": n_cars}


def _answer(history) -> dict:
    """GENERATE (rank 1: MEDIUM → HARD, first window laps 8–12) with this field history and the
    product's own ``history_check`` of it."""
    d = copy.deepcopy(GENERATE)
    d["field_history"] = history
    d["history_check"] = history_check(d["strategies"][0], history, "2022+")
    return d


#: the 2023 race is the comparable one (newest dry race of the 2022+ cars); 2022 was wet
HISTORY_A = [
    _race(2023, 14, "2022+", False, 1, 1, ["MEDIUM", "HARD"], 20.5),
    _race(2022, 16, "2022+", True, 2, 2, ["SOFT", "INTERMEDIATE", "MEDIUM"], 14.0),
    _race(2021, 14, "pre-2022", False, 1, 0, ["HARD", "MEDIUM"], None, n_cars=9),
]
#: the newest race was wet (and its name is markup: it must show as text), so 2022 is compared;
#: one of its two stops came under a Safety Car
HISTORY_B = [
    _race(2023, 14, "2022+", True, 2, 2, ["INTERMEDIATE", "MEDIUM", "HARD"], 11.0, event=INJECTED),
    _race(2022, 16, "2022+", False, 2, 1, ["SOFT", "HARD", "HARD"], 7.0),
]
ANSWER_A, ANSWER_B, ANSWER_EMPTY = _answer(HISTORY_A), _answer(HISTORY_B), _answer([])
ANSWER_OLD = copy.deepcopy(GENERATE)  # an answer from before the field history (or cached from then)

LINE_A = ("Our plan: 1 stop (M → H), first stop laps 8–12 — the 2023 field (same car era): 1 stop (M → H), "
          "first stop lap 20.5 (after our window)")
LINE_B = ("Our plan: 1 stop (M → H), first stop laps 8–12 — the 2022 field (same car era): 2 stops, 1 under green "
          "(S → H → H), first stop lap 7 (before our window)")


def _rows(page) -> list[list[str]]:
    return page.eval_on_selector_all(f"{SECTION} tbody tr",
                                     "trs => trs.map(tr => [...tr.children].map(c => c.textContent.trim()))")


def _submit(page) -> None:
    page.click("#lab-submit")
    page.wait_for_selector("#lab-results tr[data-rank]", timeout=WAIT_MS)


def test_field_history_section_renders_contract_shaped_answers(synthetic_home, browser_context_factory, tmp_path):
    # the dashboard's line is the CLI's line, word for word
    assert (history_line(ANSWER_A["history_check"]), history_line(ANSWER_B["history_check"])) == (LINE_A, LINE_B)
    assert ANSWER_EMPTY["history_check"] is None
    answers = [ANSWER_A, ANSWER_B, ANSWER_EMPTY, ANSWER_OLD, ANSWER_A]

    def generate(route):
        route.fulfill(status=200, content_type="application/json", body=json.dumps(answers.pop(0)))

    def fulfil(payload):
        return lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(payload))

    with api_server({"F1A_HOME": str(synthetic_home)}, log_path=tmp_path / "api.log") as base:
        spec = httpx.get(f"{base}/openapi.json", timeout=10).json()
        spec["paths"].setdefault("/strategy/generate", {"post": {}})
        watch = PageWatch(base)
        ctx = browser_context_factory(LAPTOP)
        ctx.route(f"{base}/openapi.json", fulfil(spec))
        ctx.route(f"{base}/strategy/generate", generate)
        page = open_dashboard(ctx, base, watch, f"/#/race/{SYN_SEASON}/{SYN_ROUND}/lab")
        page.wait_for_selector("#panel-lab:not([hidden])")
        page.wait_for_function("() => document.querySelectorAll('#lab-driver option').length > 0", timeout=WAIT_MS)

        # A: three earlier races, newest first; the line compares the 2023 one
        _submit(page)
        assert page.inner_text(f"{SECTION} h3") == TITLE
        assert _rows(page) == [
            ["2023", "Italian Grand Prix", "1", "M → H", "20.5", ""],
            ["2022", "Italian Grand Prix", "2", "S → I → M", "14", "☂ wet"],
            ["2021", "Italian Grand Prix", "1", "H → M", "–", ""],
        ]
        assert page.locator(f"{SECTION} tbody tr.wet").get_attribute("data-season") == "2022"
        assert page.inner_text(f"{SECTION} .history-check") == LINE_A
        # under the options, above the pit-window chart
        order = page.evaluate("""() => { const r = document.querySelector('#lab-results');
            const at = (sel) => [...r.querySelectorAll('*')].indexOf(r.querySelector(sel));
            return [at('table.strategies'), at('#lab-field-history'), at('#lab-plan-chart')]; }""")
        assert order[0] < order[1] < order[2], order
        page.screenshot(path=str(tmp_path / "field-history-light.png"), full_page=True)

        # the dark theme: the section's text takes the theme's ink, as the rest of the card does
        page.click("#theme-toggle")
        page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
        colours = page.evaluate("""() => [document.querySelector('#lab-field-history .history-check'),
            document.querySelector('#lab-field-history tbody td'), document.querySelector('#lab-field-history thead th'),
            document.querySelector('#lab-results table.strategies tbody td'), document.body].map((el) => getComputedStyle(el).color)""")
        assert len(set(colours)) == 1, colours
        # ... and the column heads stand on a dark ground (not the light theme's #f6f7f9 under light ink)
        head = page.evaluate("() => getComputedStyle(document.querySelector('#lab-field-history thead th')).backgroundColor")
        assert head != "rgb(246, 247, 249)", head
        page.screenshot(path=str(tmp_path / "field-history-dark.png"), full_page=True)
        page.click("#theme-toggle")

        # B: a race name holding markup shows as text; "1 under green" as the CLI says it
        _submit(page)
        rows = _rows(page)
        assert rows[0][1] == INJECTED and rows[0][5] == "☂ wet"
        assert rows[1] == ["2022", "Italian Grand Prix", "2", "S → H → H", "7", ""]
        assert page.locator(f"{SECTION} img").count() == 0 and page.evaluate("() => window.__pwned") is None
        assert page.inner_text(f"{SECTION} .history-check") == LINE_B

        # no earlier race here (field_history: []), and an answer without the fields: nothing at all
        for _ in (ANSWER_EMPTY, ANSWER_OLD):
            _submit(page)
            assert page.locator("#lab-field-history").count() == 0
            assert TITLE not in page.inner_text("#lab-results")
            assert page.locator("#lab-results tr[data-rank]").count() == 3

        # a phone: the section scrolls inside its box, not the page
        phone = browser_context_factory(PHONE, mobile=True)
        phone.route(f"{base}/openapi.json", fulfil(spec))
        phone.route(f"{base}/strategy/generate", generate)
        ppage = open_dashboard(phone, base, watch, f"/#/race/{SYN_SEASON}/{SYN_ROUND}/lab")
        ppage.wait_for_function("() => document.querySelectorAll('#lab-driver option').length > 0", timeout=WAIT_MS)
        _submit(ppage)
        ppage.wait_for_selector(SECTION)
        assert ppage.evaluate("() => document.documentElement.scrollWidth") <= PHONE[0] + 1
        ppage.screenshot(path=str(tmp_path / "field-history-phone.png"), full_page=True)
        assert not answers

    problems = watch.problems()
    assert not problems, "\n".join(problems)


def test_field_history_section_from_the_real_api(tmp_path, browser_context_factory):
    """2023 Bahrain (round 2) before the race: the top ten's 2022 Bahrain Grand Prix, and our plan against it."""
    home = tmp_path / "home"
    fill_store(RaceStore(home / "store"), strategy_laps())  # the store of tests.factories.strategy_env
    # the first answer fits the as-of models: seconds alone, past the 30 s default deadline on a
    # loaded machine (seen once); this test is about the page, not the speed
    env = service_env(home, F1A_INDEX_ON_START="false", F1A_REQUEST_DEADLINE_S="240")
    with api_server(env, log_path=tmp_path / "api.log") as base:
        watch = PageWatch(base)
        page = open_dashboard(browser_context_factory(LAPTOP), base, watch, "/#/race/2023/2/lab")
        page.wait_for_selector("#panel-lab:not([hidden])")
        page.wait_for_function("() => document.querySelectorAll('#lab-driver option').length > 0", timeout=WAIT_MS)
        with page.expect_response(lambda r: r.url.endswith("/strategy/generate"), timeout=300_000) as info:
            page.click("#lab-submit")
        answer = info.value.json()
        assert info.value.status == 200, answer
        page.wait_for_selector("#lab-results tr[data-rank]", timeout=WAIT_MS)
        history = answer["field_history"]
        assert [(r["season"], r["event"]) for r in history] == [(2022, "Bahrain Grand Prix")]
        page.wait_for_selector(SECTION)
        rows = _rows(page)
        assert [r[:2] for r in rows] == [["2022", "Bahrain Grand Prix"]]
        assert rows[0][2] == str(history[0]["stops"]) and "→" in rows[0][3]
        check = answer["history_check"]
        assert check is not None and check["season"] == 2022
        assert page.inner_text(f"{SECTION} .history-check") == history_line(check)
        page.screenshot(path=str(tmp_path / "field-history-real.png"), full_page=True)
    problems = watch.problems()
    assert not problems, "\n".join(problems)
