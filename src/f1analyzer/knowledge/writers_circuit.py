"""Circuit and season documents (ids ``circuit:<key>``, ``season:<year>``) written from race
facts (:func:`f1analyzer.knowledge.writers.race_facts`) and the fitted race models.

Re-exported by :mod:`f1analyzer.knowledge.writers`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from f1analyzer.data.circuits import get_circuit
from f1analyzer.knowledge.documents import Document
from f1analyzer.knowledge.writers_text import (
    _join,
    _num,
    _stop_word,
    _surname,
    compound_label,
    driver_name,
)


# ------------------------------------------------------------------------------- circuits
def _winner_plan(f: dict) -> tuple[str, int, str] | None:
    if not f["results"]:
        return None
    w = f["results"][0][1]
    seq = [compound_label(c) for c, _, _ in f["stints"].get(w, [])]
    return w, len(f["stops"].get(w, [])), " → ".join(seq)


def _difficulty(threshold_s: float, thresholds: Sequence[float]) -> str:
    """Overtaking difficulty from the pace advantage needed to pass, ranked among circuits."""
    if not thresholds:
        return "average"
    rank = float(np.mean(np.asarray(thresholds) < threshold_s))
    if threshold_s >= 3.0:
        return "very hard"
    return "easy" if rank < 1 / 3 else "moderate" if rank < 2 / 3 else "hard"


def circuit_documents(facts: Sequence[dict], race_models=None) -> list[Document]:
    """One passage per circuit (id ``circuit:<key>``) from the fitted models and the winners'
    strategies there. Circuits without a fitted model still get the winners' strategies."""
    by_circuit: dict[str, list[dict]] = defaultdict(list)
    for f in facts:
        by_circuit[f["circuit"]].append(f)
    models = getattr(race_models, "circuits_", {}) if race_models is not None else {}
    thresholds = [float(cm.overtake_threshold_s) for cm in models.values()]
    keys = sorted(set(by_circuit) | set(models))
    docs = []
    for key in keys:
        c = get_circuit(key)
        name = c.name if c else key
        races = sorted(by_circuit.get(key, []), key=lambda f: (f["season"], f["round"]))
        events = sorted({f["event"] for f in races}) or (list(c.events) if c else [])
        label = f"{c.location}, {c.country}" if c else key
        s = [f"{name} ({label}) is the circuit of the {_join(events) or key}."]
        cm = models.get(key)
        if cm is not None:
            s.append(f"Strategy profile fitted on {cm.n_races} race{'s' if cm.n_races != 1 else ''} "
                     f"({_join([str(x) for x in cm.seasons])}); a race is about {cm.total_laps} "
                     f"laps.")
            s.append(f"Pit stop cost: a green-flag stop loses about {_num(cm.pit_loss_s)} s "
                     f"against staying out (spread {_num(cm.pit_loss_sd_s)} s, from "
                     f"{cm.n_pit_stops} stops); under the Safety Car it costs about "
                     f"{_num(cm.pit_loss_sc_s)} s and under a Virtual Safety Car about "
                     f"{_num(cm.pit_loss_vsc_s)} s"
                     + (f"; the pit-lane transit takes {_num(cm.pit_lane_time_s)} s"
                        if cm.pit_lane_time_s else "") + ".")
            deg = []
            for comp in ("SOFT", "MEDIUM", "HARD"):
                tm = cm.compounds.get(comp)
                if tm is None:
                    continue
                wear10 = float(tm.deg_s(10.0))
                per_lap = float(tm.coef_s[0])
                off = float(tm.pace_offset_s)
                ref = ("the Medium reference" if comp == "MEDIUM" else
                       f"{_num(abs(off), 2)} s {'faster' if off < 0 else 'slower'} than a fresh "
                       f"Medium")
                deg.append(f"{compound_label(comp)} degrades {_num(per_lap, 3)} s per lap "
                           f"({_num(wear10, 2)} s after 10 laps), fresh pace {ref}"
                           + (f", with a cliff after about {int(round(tm.cliff_lap))} laps"
                              if tm.curve == "cliff" and tm.cliff_lap else "")
                           + ("" if tm.own_fit else " (all-circuit average)"))
            if deg:
                s.append(f"Tyre degradation ({cm.era} cars): " + "; ".join(deg) + ".")
            s.append(f"Safety Car risk: {_num(100 * cm.sc.p_at_least_one, 0)}% of races see at "
                     f"least one Safety Car ({_num(cm.sc.mean_count, 2)} per race on average) "
                     f"and {_num(100 * cm.vsc.p_at_least_one, 0)}% at least one Virtual Safety "
                     f"Car (VSC).")
            diff = _difficulty(float(cm.overtake_threshold_s), thresholds)
            s.append(f"Overtaking is {diff} here: a car needs about "
                     f"{_num(cm.overtake_threshold_s, 2)} s per lap of pace advantage for an even "
                     f"chance to pass, and races average {_num(cm.overtakes_per_race, 0)} on-track "
                     f"position changes; track position is "
                     f"{'worth a lot, so the undercut is powerful' if diff in ('hard', 'very hard') else 'less decisive, so tyre offsets pay off'}.")
            s.append(f"Retirement risk: {_num(100 * cm.retirement_prob, 0)}% of cars per race.")
        plans = [(f, _winner_plan(f)) for f in races]
        plans = [(f, p) for f, p in plans if p]
        if plans:
            s.append("Winning strategies here: " + "; ".join(
                f"{f['season']} {_surname(w)} ({_stop_word(n)}, {seq})" for f, (w, n, seq) in plans)
                + ".")
            counts = Counter(n for _, (_, n, _) in plans)
            common, k = counts.most_common(1)[0]
            s.append(f"The most common winning plan is a {_stop_word(common)} ({k} of "
                     f"{len(plans)} races).")
            sc_races = sum(1 for f in races if f["phases"].get("sc"))
            s.append(f"In the stored races, {sc_races} of {len(races)} had a Safety Car.")
        drivers = tuple(dict.fromkeys(p[0] for _, p in plans))
        docs.append(Document(
            id=f"circuit:{key}", kind="circuit",
            title=f"{name} circuit profile — pit loss, tyre degradation, Safety Car, overtaking",
            text=" ".join(s), circuit=key, event=events[0] if len(events) == 1 else None,
            drivers=drivers))
    return docs


# ------------------------------------------------------------------------------- seasons
def season_documents(facts: Sequence[dict]) -> list[Document]:
    """One passage per season (id ``season:<year>``): wins, podiums, stops, neutralisations."""
    by_season: dict[int, list[dict]] = defaultdict(list)
    for f in facts:
        by_season[int(f["season"])].append(f)
    docs = []
    for season, races in sorted(by_season.items()):
        races = sorted(races, key=lambda f: f["round"])
        winners = [f["results"][0] for f in races if f["results"]]
        wins = Counter(w[1] for w in winners)
        teams = Counter(w[2] for w in winners)
        podiums = Counter(d for f in races for _, d, _, _, _ in f["results"][:3])
        s = []
        if wins:
            (top, n_top), = wins.most_common(1)
            s.append(f"The {season} Formula 1 season in the data has {len(races)} Grands Prix "
                     f"(rounds {races[0]['round']}–{races[-1]['round']}); {driver_name(top)} won "
                     f"the most races, {n_top}.")
            s.append("Wins per driver: " + ", ".join(
                f"{_surname(d)} {n}" for d, n in wins.most_common()) + ".")
            s.append("Wins per team: " + ", ".join(f"{t} {n}" for t, n in teams.most_common())
                     + ".")
            s.append("Podiums per driver: " + ", ".join(
                f"{_surname(d)} {n}" for d, n in podiums.most_common(10)) + ".")
        stops = [len(f["stops"].get(d, [])) for f in races
                 for _, d, _, _, fin in f["results"] if fin]
        wstops = Counter(len(f["stops"].get(f["results"][0][1], [])) for f in races if f["results"])
        if stops:
            s.append(f"Typical strategy: finishers made {_num(np.mean(stops), 1)} stops on "
                     f"average (median {_num(np.median(stops), 0)}); winners ran "
                     + _join([f"a {_stop_word(k)} {n} time{'s' if n != 1 else ''}"
                              for k, n in sorted(wstops.items())]) + ".")
        n_sc = sum(1 for f in races if f["phases"].get("sc"))
        n_vsc = sum(1 for f in races if f["phases"].get("vsc"))
        n_red = sum(1 for f in races if f["phases"].get("red"))
        wet = [f["event"] for f in races if f.get("wet")]
        s.append(f"Safety Car frequency: {n_sc} of {len(races)} races had a Safety Car, {n_vsc} a "
                 f"Virtual Safety Car (VSC) and {n_red} a red flag"
                 + (f"; wet races: {_join(wet)}" if wet else "") + ".")
        s.append("Winners by round: " + "; ".join(
            f"round {f['round']} {f['event']}: {_surname(f['results'][0][1])}"
            for f in races if f["results"]) + ".")
        docs.append(Document(
            id=f"season:{season}", kind="season",
            title=f"{season} Formula 1 season summary — winners, strategies, Safety Cars",
            text=" ".join(s), season=season, drivers=tuple(d for d, _ in wins.most_common())))
    return docs
