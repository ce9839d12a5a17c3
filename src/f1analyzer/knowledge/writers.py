"""Document writers: race, circuit and season passages written from the store and the models.

Two steps, so that the shipped bundle can hold small derived facts instead of laps:

1. :func:`race_facts` reads the race store once and reduces every race to a plain dict of
   *facts* (classification, stints, pit stops, Safety Car / VSC / red-flag phases by lap, undercuts
   and overcuts, retirements). Facts are JSON-able and hold no lap times.
2. :func:`race_document`, :func:`circuit_documents` and :func:`season_documents` turn facts (and
   the fitted :class:`~f1analyzer.models.race_models.RaceModels` for circuits) into prose with
   stable ids: ``race:2021:11``, ``circuit:monza``, ``season:2021``.

Every number in a passage comes from the data or a fitted model, so the narration number check can
trust it. The first sentence of each passage says what it is about (winner, event, circuit,
season): the embedder only reads the first 256 word pieces; BM25 reads everything.

Undercut detection, in plain terms: driver A pits on lap *a* under green while rival B, one place
ahead at the end of lap *a − 1*, pits 1–6 laps later. At the end of B's out-lap, if A is ahead
the undercut worked; if A pitted from *ahead* and B (staying out longer) is now ahead, B's
overcut worked.

Layout: the facts and race passages are here; :func:`circuit_documents` and
:func:`season_documents` live in :mod:`.writers_circuit`, the wording helpers (driver names,
compound labels, lists) in :mod:`.writers_text`; all are re-exported here.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import pandas as pd

from f1analyzer.knowledge.documents import Document
from f1analyzer.log import get_logger
from f1analyzer.config import get_settings
from f1analyzer.models.loading import current_race_models

# circuit/season passages and the wording helpers live in their own modules; every name stays
# importable from here (``writers.circuit_documents``, ``writers.driver_name``, ...)
from f1analyzer.knowledge.writers_circuit import (  # noqa: F401 - re-exported
    _difficulty,
    _winner_plan,
    circuit_documents,
    season_documents,
)
from f1analyzer.knowledge.writers_text import (  # noqa: F401 - re-exported
    _ALIASES,
    _STOP_WORDS,
    DRIVER_NAMES,
    _event_where,
    _join,
    _laps,
    _num,
    _runs,
    _stop_word,
    _surname,
    compound_label,
    driver_name,
)
from f1analyzer.data.derive import classification

log = get_logger("knowledge.writers")

#: stops at most this many laps apart form one undercut/overcut exchange
UNDERCUT_MAX_GAP_LAPS = 6
_WET = {"INTERMEDIATE", "WET"}


# ------------------------------------------------------------------------------- facts
def _track_phases(race_laps: pd.DataFrame, results: pd.DataFrame) -> dict[str, list[list[int]]]:
    """SC / VSC lap ranges read from the race leader's laps (the leader's lap k defines lap k;
    back-markers see the same period on a lower lap number); red flags from any car."""
    laps = race_laps[["lap_number", "position", "track_status"]].copy()
    laps["track_status"] = laps["track_status"].fillna("").astype(str)
    pos = laps["position"].astype("float64")
    lead = laps[pos == 1].drop_duplicates("lap_number").set_index("lap_number")["track_status"]
    union = laps.groupby("lap_number")["track_status"].agg(lambda s: "".join(sorted(set("".join(s)))))
    status = {int(k): str(lead.get(k, v)) for k, v in union.items()}
    # a red flag stops everyone: any car's lap showing it counts (the leader's may miss it)
    return {
        "sc": _runs(k for k, s in status.items() if "4" in s),
        "vsc": _runs(k for k, s in status.items() if "6" in s or "7" in s),
        "red": _runs(int(k) for k, s in union.items() if "5" in s),
    }


def _moves(race_laps: pd.DataFrame, stops: pd.DataFrame) -> list[dict]:
    """Undercuts and overcuts between cars running nose to tail (see module docstring)."""
    pos = race_laps.pivot_table(index="lap_number", columns="driver", values="position",
                                aggfunc="first")
    green = stops[~(stops["under_sc"].astype(bool) | stops["under_vsc"].astype(bool)
                    | stops["under_red_flag"].astype(bool))]
    by_driver = {d: sorted(int(x) for x in g["lap"]) for d, g in green.groupby("driver")}
    all_stops = {d: sorted(int(x) for x in g["lap"]) for d, g in stops.groupby("driver")}

    def p(lap: int, drv: str) -> float:
        try:
            v = pos.at[lap, drv]
        except KeyError:
            return math.nan
        return float(v) if pd.notna(v) else math.nan

    out: list[dict] = []
    seen: set[tuple] = set()
    for a, a_laps in by_driver.items():
        for la in a_laps:
            if la < 2:
                continue
            pa = p(la - 1, a)
            if math.isnan(pa):
                continue
            for b, b_laps in by_driver.items():
                if b == a:
                    continue
                pb = p(la - 1, b)
                if math.isnan(pb) or abs(pb - pa) != 1:
                    continue
                later = [lb for lb in b_laps if la < lb <= la + UNDERCUT_MAX_GAP_LAPS]
                if not later:
                    continue
                lb = later[0]
                # B must not have stopped in between (that would be another exchange)
                if any(la - 1 <= x < lb for x in all_stops.get(b, []) if x != lb):
                    continue
                pa2, pb2 = p(lb + 1, a), p(lb + 1, b)
                if math.isnan(pa2) or math.isnan(pb2):
                    continue
                key = (a, b, la, lb)
                if key in seen:
                    continue
                seen.add(key)
                if pb < pa and pa2 < pb2:
                    out.append({"kind": "undercut", "driver": a, "rival": b, "driver_lap": la,
                                "rival_lap": lb, "from_position": int(pa),
                                "to_position": int(pa2)})
                elif pa < pb and pb2 < pa2:
                    out.append({"kind": "overcut", "driver": b, "rival": a, "driver_lap": lb,
                                "rival_lap": la, "from_position": int(pb),
                                "to_position": int(pb2)})
    out.sort(key=lambda m: (m["driver_lap"], m["to_position"]))
    return out


def race_facts(store, seasons: Iterable[int] | None = None) -> list[dict]:
    """Plain-data facts of every stored race (or of ``seasons``), ordered by season and round.

    Each dict: ``season, round, event, circuit, total_laps, results`` (``[position, driver,
    team, laps, finished]``), ``stints`` (driver → ``[compound, start_lap, end_lap]``),
    ``stops`` (driver → ``[lap, compound_before, compound_after, "green"|"sc"|"vsc"|"red"]``),
    ``phases`` (``sc``/``vsc``/``red`` → lap ranges), ``moves`` (undercuts/overcuts),
    ``start_compounds`` (compound → cars), ``lap1_leader``, ``wet``.
    """

    races = store.races()
    if races.empty:
        return []
    if seasons is not None:
        wanted = {int(s) for s in seasons}
        races = races[races["season"].astype(int).isin(wanted)]
    out = []
    for season in sorted({int(s) for s in races["season"]}):
        laps = pd.DataFrame(store.laps(season))
        stints = store.stints(season)
        stops = store.pit_stops(season)
        lap_groups = dict(tuple(laps.groupby("round", sort=False)))
        stint_groups = dict(tuple(stints.groupby("round", sort=False)))
        stop_groups = dict(tuple(stops.groupby("round", sort=False)))
        for r in races[races["season"].astype(int) == season].sort_values("round").to_dict("records"):
            rnd = int(r["round"])
            rl = lap_groups.get(rnd)
            if rl is None or rl.empty:
                continue
            out.append(_facts_of_race(r, rl, stint_groups.get(rnd, stints.iloc[:0]),
                                      stop_groups.get(rnd, stops.iloc[:0]), classification))
    return out


def _finished(rl: pd.DataFrame, res: pd.DataFrame) -> list[bool]:
    """Was each classified car still running at the flag?

    ``classification`` marks a car retired when its last lap ended before the winner finished;
    in a few races of the shared data the final laps of every car but the winner are missing,
    which would "retire" the whole field. Here a car retired only when it did not complete the
    distance and its last lap ended more than 2.5 typical laps before the winner finished.
    """
    times = res["last_session_time_s"].astype("float64")
    lap_times = rl["lap_time_s"].astype("float64").dropna()
    lap_s = float(lap_times.median()) if len(lap_times) else math.nan
    end = float(times.iloc[0]) if len(times) else math.nan
    if not (math.isfinite(end) and math.isfinite(lap_s)):
        return [bool(x) for x in res["finished"]]
    total = int(res["laps"].max())
    return [bool(laps >= total or (math.isfinite(t) and t >= end - 2.5 * lap_s))
            for laps, t in zip(res["laps"], times)]


def _facts_of_race(info: dict, rl: pd.DataFrame, st: pd.DataFrame, ps: pd.DataFrame,
                   classification) -> dict:
    res = classification(rl)
    finished = _finished(rl, res)
    results = [[int(x.position), str(x.driver), str(x.team) if pd.notna(x.team) else "",
                int(x.laps), bool(fin)] for x, fin in zip(res.itertuples(index=False), finished)]
    stints: dict[str, list] = {}
    for x in st.sort_values(["driver", "stint"]).itertuples(index=False):
        stints.setdefault(str(x.driver), []).append([str(x.compound), int(x.start_lap),
                                                     int(x.end_lap)])
    stops: dict[str, list] = {}
    for x in ps.sort_values(["driver", "lap"]).itertuples(index=False):
        kind = ("red" if bool(x.under_red_flag) else "sc" if bool(x.under_sc)
                else "vsc" if bool(x.under_vsc) else "green")
        stops.setdefault(str(x.driver), []).append([int(x.lap), str(x.compound_before),
                                                    str(x.compound_after), kind])
    first = rl[rl["lap_number"] == 1]
    start = Counter(str(c) for c in first["compound"])
    lead1 = first[first["position"].astype("float64") == 1]["driver"]
    wet = bool(len(rl) and rl["compound"].isin(list(_WET)).mean() > 0.1)
    return {
        "season": int(info["season"]), "round": int(info["round"]), "event": str(info["event"]),
        "circuit": str(info["circuit_key"]), "total_laps": int(info["total_laps"]),
        "results": results, "stints": stints, "stops": stops,
        "phases": _track_phases(rl, res), "moves": _moves(rl, ps),
        "start_compounds": dict(sorted(start.items(), key=lambda kv: (-kv[1], kv[0]))),
        "lap1_leader": str(lead1.iloc[0]) if len(lead1) else None, "wet": wet,
    }


# ------------------------------------------------------------------------------- race passages
def race_id(season: int, rnd: int) -> str:
    return f"race:{int(season)}:{int(rnd):02d}"


def _stint_phrase(stints: list, stops: list) -> str:
    parts = [f"{compound_label(c)} ({_laps(a, b)})" for c, a, b in stints]
    text = " → ".join(parts)
    if stops:
        marks = [f"{lap}{' under the Safety Car' if k == 'sc' else ' under the VSC' if k == 'vsc' else ' during the red flag' if k == 'red' else ''}"
                 for lap, _, _, k in stops]
        text += f", stopping on lap{'s' if len(stops) > 1 else ''} {_join(marks)}"
    else:
        text += ", without a stop"
    return text


def _phase_sentence(phases: dict) -> str:
    parts = []
    for key, label in (("sc", "the Safety Car"), ("vsc", "a Virtual Safety Car (VSC)"),
                       ("red", "a red flag")):
        runs = phases.get(key) or []
        if runs:
            parts.append(f"{label} on {_join([_laps(a, b) for a, b in runs])}")
    if not parts:
        return ("The race ran green throughout: no Safety Car, no Virtual Safety Car and no red "
                "flag.")
    return "Neutralisations: " + "; ".join(parts) + "."


def race_document(f: dict) -> Document:
    """The passage of one race (id ``race:<season>:<round, 2 digits>``)."""
    results = f["results"]
    winner = results[0] if results else None
    where = _event_where(f)
    title = f"{f['season']} {f['event']} — race summary (round {f['round']})"
    s: list[str] = []
    if winner:
        wstops = f["stops"].get(winner[1], [])
        s.append(f"{driver_name(winner[1])} won the {f['season']} {where}, round {f['round']} of "
                 f"the {f['season']} season, over {f['total_laps']} laps driving for {winner[2]}, "
                 f"on a {_stop_word(len(wstops))} strategy.")
        podium = [f"{p}. {_surname(d)} ({t})" for p, d, t, _, _ in results[:3]]
        s.append(f"Podium: {_join(podium)}.")
    s.append(_phase_sentence(f["phases"]))
    # lap 1
    lap1 = []
    if f.get("lap1_leader"):
        lap1.append(f"{_surname(f['lap1_leader'])} led at the end of lap 1")
    start = f.get("start_compounds") or {}
    if start:
        lap1.append("the cars started on " + _join([f"{compound_label(c)} ({n})"
                                                    for c, n in start.items()]))
    early = [d for _, d, _, laps, fin in results if not fin and laps <= 1]
    if early:
        lap1.append(f"{_join([_surname(d) for d in early])} retired on the opening lap")
    ph = f["phases"]
    if any(a <= 1 for a, _ in ph.get("sc", [])):
        lap1.append("the Safety Car came out on lap 1")
    if any(a <= 2 for a, _ in ph.get("red", [])):
        lap1.append(f"the race was red-flagged on lap {min(a for a, _ in ph['red'])}")
    if lap1:
        s.append("Lap 1 and the start: " + "; ".join(lap1) + ".")
    if f.get("wet"):
        s.append("It was a wet or mixed-conditions race: intermediate or wet tyres were used "
                 "for a large share of the laps.")
    if winner:
        s.append(f"Winner's strategy: {_surname(winner[1])} ran "
                 f"{_stint_phrase(f['stints'].get(winner[1], []), f['stops'].get(winner[1], []))}.")
    # decisive moves
    moves = f.get("moves") or []
    if moves:
        texts = []
        for m in moves[:8]:
            if m["kind"] == "undercut":
                texts.append(f"{_surname(m['driver'])} undercut {_surname(m['rival'])}: pitted "
                             f"on lap {m['driver_lap']} from P{m['from_position']}, one place "
                             f"behind, {_surname(m['rival'])} stopped on lap {m['rival_lap']}, "
                             f"and {_surname(m['driver'])} came out ahead in P{m['to_position']}")
            else:
                texts.append(f"{_surname(m['driver'])} overcut {_surname(m['rival'])}: stayed out "
                             f"until lap {m['driver_lap']} while {_surname(m['rival'])}, one "
                             f"place behind, pitted on lap {m['rival_lap']}, and kept the place "
                             f"(P{m['to_position']})")
        n_u = sum(1 for m in moves if m["kind"] == "undercut")
        s.append(f"Decisive pit-stop moves: {n_u} undercut{'s' if n_u != 1 else ''} worked and "
                 f"{len(moves) - n_u} overcut{'s' if len(moves) - n_u != 1 else ''} held.")
        s.extend(t + "." for t in texts)
    else:
        s.append("No undercut or overcut changed the order between cars running nose to tail.")
    # retirements
    dnf = [(d, laps) for _, d, _, laps, fin in results if not fin]
    if dnf:
        s.append("Retirements: " + _join([f"{_surname(d)} after {laps} lap{'s' if laps != 1 else ''}"
                                          for d, laps in dnf]) + ".")
    else:
        s.append("Every car that started was classified (no retirements in the lap data).")
    # stops overview
    n_stops = Counter(len(f["stops"].get(d, [])) for _, d, _, _, fin in results if fin)
    if n_stops:
        s.append("Stops among finishers: " + _join([f"{n} ran a {_stop_word(k)}"
                                                    for k, n in sorted(n_stops.items())]) + ".")
    under_sc = sorted({(lap, d) for d, st in f["stops"].items() for lap, _, _, k in st
                       if k in ("sc", "vsc")})
    if under_sc:
        by_lap: dict[int, list[str]] = defaultdict(list)
        for lap, d in under_sc:
            by_lap[lap].append(_surname(d))
        s.append("Cheap stops under the Safety Car or VSC: " + "; ".join(
            f"lap {lap}: {_join(ds)}" for lap, ds in sorted(by_lap.items())) + ".")
    # classification and every driver's strategy
    s.append("Classification: " + ", ".join(
        f"{p}. {_surname(d)}" + ("" if fin else " (DNF)") for p, d, _, _, fin in results) + ".")
    for p, d, team, laps, fin in results:
        st = f["stints"].get(d)
        if st:
            s.append(f"{_surname(d)} ({d}, {team}, P{p}): "
                     f"{_stint_phrase(st, f['stops'].get(d, []))}.")
    return Document(id=race_id(f["season"], f["round"]), kind="race", title=title,
                    text=" ".join(s), season=f["season"], round=f["round"], event=f["event"],
                    circuit=f["circuit"], drivers=tuple(r[1] for r in results))


# ------------------------------------------------------------------------------- all together
def write_documents(facts: Sequence[dict], race_models=None) -> list[Document]:
    """Race, circuit and season passages of ``facts`` (rule notes not included)."""
    docs = [race_document(f) for f in facts]
    docs += circuit_documents(facts, race_models)
    docs += season_documents(facts)
    return docs


def current_race_models_or_none(settings=None):
    """The active fitted race models (registry, else bundled), or None when there are none."""
    try:
        return current_race_models(settings or get_settings())
    except Exception as exc:  # noqa: BLE001 - circuits are then written without model numbers
        log.warning("no race models for the circuit documents: %s", exc)
        return None
