"""The bundled demo races (issue 15): four 2024 Grands Prix that make a fresh install useful offline.

They are ordinary FastF1-format laps (``bundled/demo/``, built by ``scripts/build_demo_set.py``)
ingested through the normal, atomic and idempotent ingestion, with each race marked ``demo`` in the
store's race metadata. They are loaded only into an empty store, and only once: after
``f1analyzer demo remove`` a marker file keeps an emptied store empty; ``demo load`` clears it.
"""

from __future__ import annotations

from pathlib import Path

from ..log import get_logger
from .ingest import ingest_files
from .schema import SESSIONS
from .store import RaceStore

log = get_logger("data.demo")

DEMO_DIR = Path(__file__).resolve().parents[1] / "bundled" / "demo"
DEMO_LAPS = DEMO_DIR / "demo_laps_2024.csv.gz"
#: in the store folder: the demo set was removed on purpose, do not load it on an empty store again
REMOVED_MARKER = ".demo-removed"

#: how to get whole seasons, said wherever the demo races are shown
WHOLE_SEASONS_HINT = ("Whole seasons: `f1analyzer ingest --live --season 2024` (FastF1, needs the internet) "
                      "or `f1analyzer ingest PATH` with FastF1-format lap files.")


def load_demo(store: RaceStore) -> list[tuple[int, int]]:
    """Ingest the demo races (replacing those rounds if stored) and mark them demo; returns
    (season, round) of each. Idempotent: loading twice leaves the same store."""
    results = ingest_files([DEMO_LAPS], store, compounds_file=DEMO_DIR / "compound_selection.toml",
                           session="race", replace=True, demo=True)
    (store.root / REMOVED_MARKER).unlink(missing_ok=True)
    out = []
    for r in results:
        if not r.ok:  # the bundled file is tested; a refusal here is a broken install
            raise RuntimeError(f"the bundled demo set was refused: {r.error}")
        out += [(int(r.season), rnd) for rnd in r.rounds]
    log.info("demo races loaded: %s", out)
    return out


def remove_demo(store: RaceStore) -> list[tuple[int, int]]:
    """Remove every race marked demo (other races stay) and remember not to load them again;
    returns (season, round) of each removed. Idempotent."""
    races = store.races(session=None)
    removed = []
    if len(races):
        demo = races[races["demo"]]
        for (season, session), g in demo.groupby(["season", "session"]):
            if session in SESSIONS:
                removed += [(int(season), r) for r in store.remove_races(int(season), set(g["round"]), session=session)]
    store.root.mkdir(parents=True, exist_ok=True)
    (store.root / REMOVED_MARKER).touch()
    return removed


def load_demo_if_empty(store: RaceStore) -> bool:
    """Load the demo races when the store is empty and they were never removed on purpose."""
    if not store.is_empty() or (store.root / REMOVED_MARKER).exists():
        return False
    try:
        load_demo(store)
    except Exception as exc:  # noqa: BLE001 - a demo that cannot load must not stop the server
        log.warning("the demo races could not be loaded: %s", exc)
        return False
    return True
