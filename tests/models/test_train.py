"""Training pipeline and the `train` command (synthetic store; real data where marked)."""

from __future__ import annotations

import json

import pytest

from f1analyzer.cli import main
from f1analyzer.config import get_settings
from f1analyzer.data.store import RaceStore
from f1analyzer.errors import DataNotLoadedError, InvalidRequestError
from f1analyzer.models import training
from f1analyzer.models.loading import ModelSet, load_model_set
from f1analyzer.models.training import no_data_message, train
from tests.models.test_train_synthdata import fill_store, synthetic_laps


@pytest.fixture(autouse=True)
def _no_data_dir(monkeypatch):
    """Synthetic tests must not ingest the real data when F1_DATA_DIR happens to be set."""
    from f1analyzer.config import reset_settings

    for var in ("F1_DATA_DIR", "F1A_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    reset_settings()


@pytest.fixture
def synthetic_home(f1a_home):
    fill_store(RaceStore(get_settings().store_dir), synthetic_laps(seasons=(2021, 2022, 2023)))
    return f1a_home


def test_no_data_message():
    assert no_data_message([2015, 2016, 2017]) == "no data for 2015–2017: skipped"
    assert no_data_message([2012, 2015, 2016]) == "no data for 2012, 2015–2016: skipped"
    assert no_data_message([]) is None


def test_train_registers_a_model_set(synthetic_home):
    settings = get_settings()
    steps = []
    rep = train(settings, 2019, 2023, progress=lambda d, i, n: steps.append((d, i, n)))
    assert rep.seasons == [2021, 2022, 2023] and rep.skipped_seasons == [2019, 2020]
    assert rep.skipped_message == "no data for 2019–2020: skipped"
    ev = rep.evaluation
    assert ev["season"] == 2023 and ev["train_seasons"] == [2021, 2022]
    assert ev["one_lap_ahead"]["n_laps"] > 0 and ev["stint_forecast"]["n_laps"] > 0
    assert steps[-1][1] == steps[-1][2]
    ms = load_model_set(settings)
    assert ms.source == "registry" and ms.version == rep.version
    assert ms.laptime is not None and ms.pitstop is not None
    meta = ms.metadata
    assert meta["training_seasons"] == [2021, 2022, 2023] and meta["data_hash"] == rep.data_hash
    assert meta["metrics"]["season"] == 2023 and meta["code"]["f1analyzer"]


def test_quick_subset(synthetic_home):
    rep = train(get_settings(), 2021, 2023, quick=True)
    assert rep.quick and rep.seasons == [2022, 2023]
    assert all(max(r) <= training.QUICK_ROUNDS for r in rep.rounds.values())


def test_errors(f1a_home):
    with pytest.raises(InvalidRequestError):
        train(get_settings(), 2024, 2020)
    with pytest.raises(DataNotLoadedError, match="F1_DATA_DIR"):
        train(get_settings(), 2015, 2016)


def test_cli_train_json_and_missing_index_builder(synthetic_home, capsys, monkeypatch):
    from f1analyzer.app import admin

    monkeypatch.setattr(admin, "build_knowledge_index",
                        lambda settings, progress=None: (False, "knowledge index not built yet: test"))
    # RaceModels is another module's concern (and logs to stdout when it fails on synthetic races)
    monkeypatch.setattr(training, "fit_race_models", lambda *a: (None, "skipped in this test"))
    code = main(["train", "--start-year", "2021", "--end-year", "2023", "--quick", "--init-vectordb", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["version"] and out["knowledge_index"].startswith("knowledge index not built yet")


def test_cli_train_prints_the_evaluation_and_the_pit_calibration(synthetic_home, capsys, monkeypatch):
    """The seed's ``train_models.py --quick`` prints tables, not JSON: that path once failed after
    training (a NameError in the calibration table)."""
    monkeypatch.setattr(training, "fit_race_models", lambda *a: (None, "skipped in this test"))
    code = main(["train", "--start-year", "2021", "--end-year", "2023", "--quick"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "evaluation on" in text and "pit in 3 laps" in text and "pit-stop calibration" in text


def test_model_set_held_by_the_application_services(synthetic_home):
    from f1analyzer.app.services import Services

    rep = train(get_settings(), 2021, 2023, quick=True)
    services = Services.build(get_settings())
    assert services.models_ok() is True
    ms = services.model_set()
    assert isinstance(ms, ModelSet) and ms.version == rep.version and services.model_set() is ms


@pytest.mark.realdata
def test_real_train_ingests_and_skips_missing_seasons(data_dir, monkeypatch):
    from f1analyzer.config import reset_settings

    monkeypatch.setenv("F1_DATA_DIR", str(data_dir))
    reset_settings()
    rep = train(get_settings(), 2015, 2019, quick=True)
    assert rep.skipped_seasons == [2015, 2016, 2017]
    assert rep.skipped_message == "no data for 2015–2017: skipped"
    assert rep.ingested_seasons == [2018, 2019] and rep.seasons == [2018, 2019]
    ev = rep.evaluation
    assert ev["one_lap_ahead"]["mae_s"] < ev["one_lap_ahead"]["baseline_mae_s"]
    assert load_model_set(get_settings()).source == "registry"
