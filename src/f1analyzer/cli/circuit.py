"""`f1analyzer circuit NAME`: what the fitted race models say about one track."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer
from rich.table import Table

from ..data.formatting import lap_time
from ..models.bundled import as_race_models
from ..models.overtaking import HELD_GAP_PROBS
from ..models.tyre_circuits import ordering
from ..simulation.scenario.pit_and_passing import held_gap_for
from .common import Col, CsvFlag, WideFlag, console, emit_table, print_json, services

#: the usual F1 sidewall colours
COMPOUND_COLOURS = {"SOFT": "#da291c", "MEDIUM": "#ffd12e", "HARD": "#4d4d4d"}


def _models():
    return as_race_models(services().model_set())


def circuit_payload(cm, models, season: int | None = None) -> dict:
    """JSON-ready description of a circuit model (the era of ``season`` when given)."""
    era = cm.era
    if season is not None:
        wanted = models.era_of(season)
        era = wanted if wanted in cm.compounds_by_era else cm.era
    compounds = cm.compounds_by_era.get(era, cm.compounds)
    out = cm.to_dict()
    out["era_shown"] = era
    out["compounds"] = {c: m.to_dict() for c, m in compounds.items()}
    out["mean_deg_s_per_lap"] = {c: round(float(m.deg_s(20.0)) / 20.0, 4) for c, m in compounds.items()}
    out["degradation_curves"] = {
        c: [round(float(x), 4) for x in m.delta_s(np.arange(1, 41))] for c, m in compounds.items()}
    out["tyre_fit"] = tyre_fit_payload(cm, era)
    # the gap a car that cannot pass is held at (all circuits, this era's cars: the simulator's)
    out["held_gap_s"] = list(held_gap_for(models, era))
    return out


def tyre_fit_payload(cm, era: str) -> dict:
    """The raw pooled tyre fit of ``era`` as the simulator receives it before any safety net:
    the allocation behind SOFT/MEDIUM/HARD, per-code values, and whether it is physically ordered."""
    compounds = cm.compounds_by_era.get(era, cm.compounds)
    diag = dict((getattr(cm, "tyre_diagnostics_by_era", {}) or {}).get(era) or {})
    check = ordering(compounds)
    codes = (getattr(cm, "tyre_codes_by_era", {}) or {}).get(era) or {}
    return {
        "era": era,
        "pooled": bool(codes),
        "allocation": (getattr(cm, "tyre_allocation_by_era", {}) or {}).get(era),
        "ordered": check["ordered"], "pace_ordered": check["pace_ordered"], "wear_ordered": check["wear_ordered"],
        "enough_laps": check["enough_laps"], "pairs": check["pairs"],
        "codes": {c: {"pace_offset_s": round(m.pace_offset_s, 4), "pace_offset_se_s": round(m.pace_offset_se_s, 4),
                      "wear_s_per_lap": round(float(m.coef_s[0]), 5), "wear_se_s": round(float(m.coef_se_s[0]), 5),
                      "cliff_lap": m.cliff_lap, "n_laps": m.n_laps} for c, m in sorted(codes.items())},
        **{k: v for k, v in diag.items() if k not in ("pairs", "compared", "ordered", "pace_ordered",
                                                       "wear_ordered", "enough_laps", "allocation")},
    }


def plot_degradation(compounds: dict, path: Path, title: str, max_age_laps: int = 40) -> Path:
    """Write a PNG of pace offset + wear against tyre age for each compound."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ages = np.arange(0, max_age_laps + 1)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    for c, m in compounds.items():
        label = f"{c} ({m.curve}{'' if m.own_fit else ', all-circuit average'})"
        ax.plot(ages, m.delta_s(ages), color=COMPOUND_COLOURS.get(c, "C0"), lw=2.2,
                ls="-" if m.own_fit else "--", label=label)
    ax.set_xlabel("tyre age (laps completed on the set)")
    ax.set_ylabel("lap time vs fresh MEDIUM (s)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def circuit(
    name: Annotated[str, typer.Argument(
        help="Circuit key, name, location or Grand Prix ('monza', 'Silverstone', 'Italian GP').")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full circuit model as JSON.")] = False,
    plot: Annotated[Optional[Path], typer.Option(
        "--plot", help="Write the degradation curves to this PNG file.")] = None,
    season: Annotated[Optional[int], typer.Option(help="Show the tyre models of this season's car era.")] = None,
    as_csv: CsvFlag = False,
    wide: WideFlag = False,
) -> None:
    """Tyre degradation, pit loss, Safety Car odds and overtaking at one circuit."""
    models = _models()
    cm = models.circuit(name)
    data = circuit_payload(cm, models, season)
    compounds = cm.compounds_by_era.get(data["era_shown"], cm.compounds)
    if plot is not None:
        plot_degradation(compounds, plot, f"{cm.name}: tyre degradation ({data['era_shown']} cars)")
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]{cm.name}[/] ({cm.key}) — {cm.n_races} races "
                  f"({', '.join(map(str, cm.seasons))}), {cm.total_laps} laps; tyre era {data['era_shown']}")
    rows = []
    for c, m in compounds.items():
        cliff = f"after {m.cliff_lap:.0f} laps +{m.cliff_slope_s:.3f}s/lap" if m.curve == "cliff" else "-"
        seen = ", ".join(f"{k}" for k, _ in sorted(m.codes.items(), key=lambda kv: -kv[1])[:4]) or "-"
        rows.append([c, m.curve + ("" if m.own_fit else " (avg)"), f"{m.pace_offset_s:+.2f}",
                     f"{data['mean_deg_s_per_lap'][c]:.3f}", cliff, m.n_laps, m.n_stints, seen])
    emit_table([Col("compound"), Col("curve"), Col("vs MEDIUM (s)", justify="right"),
                Col("wear (s/lap)", justify="right"), Col("cliff", wide=True), Col("laps", justify="right"),
                Col("stints", wide=True, justify="right"), Col("codes seen")], rows, as_csv=as_csv, wide=wide,
               title="Tyres (fuel-corrected, clean laps; wear: 20-lap mean)")
    if as_csv:
        return
    fit = data["tyre_fit"]
    if fit["enough_laps"]:
        alloc = fit.get("allocation") or {}
        which = ", ".join(f"{c} = {alloc[c]}" for c in ("SOFT", "MEDIUM", "HARD") if c in alloc)
        console.print(("Tyre fit physically ordered as fitted" if fit["ordered"] else
                       "Tyre fit NOT physically ordered as fitted ("
                       + ", ".join(k for k in ("pace", "wear") if not fit[f"{k}_ordered"])
                       + "): the simulator reorders it and lowers the answer's confidence")
                      + (f"; {which}" if which else ""))
    s = Table("quantity", "value", title="Race")
    s.add_row("fuel effect", f"{cm.fuel_effect_s_per_lap:.3f} s/lap")
    s.add_row("base lap (mid-field, MEDIUM, race-end fuel)", lap_time(cm.base_lap_time_s))
    s.add_row("pit loss green / SC / VSC", f"{cm.pit_loss_s:.1f} ± {cm.pit_loss_sd_s:.1f} / {cm.pit_loss_sc_s:.1f} / "
              f"{cm.pit_loss_vsc_s:.1f} s ({cm.n_pit_stops} green stops)")
    s.add_row("Safety Car", f"P(≥1) {cm.sc.p_at_least_one:.0%}, {cm.sc.mean_count:.2f} per race"
              + (" (mostly all-circuit average)" if cm.sc.shrunk else ""))
    s.add_row("Virtual Safety Car", f"P(≥1) {cm.vsc.p_at_least_one:.0%}, {cm.vsc.mean_count:.2f} per race"
              + (" (mostly all-circuit average)" if cm.vsc.shrunk else ""))
    s.add_row("overtaking", f"needs {cm.overtake_threshold_s:.2f} s/lap advantage; "
              f"{cm.overtakes_per_race:.0f} green-flag passes per race")
    held = data["held_gap_s"]
    s.add_row("held up behind a car", f"{np.interp(0.5, HELD_GAP_PROBS, held):.2f} s back (5-95 %: {held[0]:.2f}-{held[-1]:.2f} s; "
              f"{data['era_shown']} cars, all circuits)")
    s.add_row("start", f"lap 1 costs {cm.first_lap_loss_s:.1f} s + {cm.per_grid_slot_loss_s:.2f} s per position; "
              f"position change sd {cm.lap1_position_change_sd:.1f}")
    s.add_row("retirements", f"{cm.retirement_prob:.1%} per car")
    s.add_row("lap noise", f"{cm.lap_noise_sd_s:.2f} s")
    console.print(s)
    if plot is not None:
        console.print(f"plot written to {plot}")


def register(app: typer.Typer) -> None:
    app.command("circuit")(circuit)
