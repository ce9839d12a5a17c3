"""Pit-stop model: labels, estimator contract, ranking better than the base rate."""

from __future__ import annotations

import numpy as np
import pytest

from f1analyzer.errors import InvalidRequestError, NotFittedError
from f1analyzer.models.evaluate import classification_metrics, prepare_for_season, reliability_table
from f1analyzer.models.pitstop import HORIZON_LAPS, PIT_FEATURES, PitStopModel, pit_frame

SMALL = {"n_estimators": 60, "learning_rate": 0.1, "min_child_samples": 20}


def test_labels_mark_the_three_laps_before_each_in_lap(prepared):
    laps, prep = prepared
    frame = pit_frame(prep)
    d = laps[(laps["season"] == 2021) & (laps["round"] == 1) & (laps["driver"] == "AAA")]
    in_laps = d.loc[d["pit_in"], "lap_number"].tolist()
    f = frame[(frame["season"] == 2021) & (frame["round"] == 1) & (frame["driver"] == "AAA")].set_index("lap")
    for k, label in f["label"].items():
        expected = any(1 <= s - k <= HORIZON_LAPS for s in in_laps)
        assert label == int(expected), k
    assert not set(in_laps) & set(f.index)  # in-laps themselves are not scored
    assert set(PIT_FEATURES) <= set(frame.columns)


def test_contract_and_ranking(prepared):
    _laps, prep = prepared
    with pytest.raises(NotFittedError):
        PitStopModel().predict_proba(pit_frame(prep).head())
    train, test = prepare_for_season(prep, 2023)
    model = PitStopModel(**SMALL).fit(train)
    frame = pit_frame(test)
    p = model.predict_proba(frame)
    assert p.shape == (len(frame),) and ((p >= 0) & (p <= 1)).all()
    m = classification_metrics(p, frame["label"].to_numpy())
    assert m["pr_auc"] > 2 * m["base_rate"]
    q = model.predict_state(lap_number=14, total_laps=40, compound="SOFT", tyre_age_laps=13, circuit_key="monza")
    assert 0 <= q <= 1
    with pytest.raises(InvalidRequestError):
        model.predict_state(lap_number=40, total_laps=40, compound="SOFT", tyre_age_laps=13)


def test_reliability_table_bins():
    prob = np.array([0.05, 0.15, 0.15, 0.95, 1.0])
    label = np.array([0, 0, 1, 1, 1])
    t = reliability_table(prob, label)
    assert len(t) == 10 and sum(r["n"] for r in t) == 5
    assert t[1]["n"] == 2 and t[1]["observed"] == 0.5 and t[9]["n"] == 2


@pytest.mark.realdata
def test_real_pr_auc_well_above_base_rate(data_dir, tmp_path):
    from f1analyzer.data.ingest import ingest_files
    from f1analyzer.data.store import RaceStore
    from f1analyzer.models.evaluate import evaluate_season

    store = RaceStore(tmp_path / "store")
    ingest_files([data_dir / "laps" / f"{s}.csv.gz" for s in (2022, 2023, 2024)], store)
    pit = evaluate_season(store, 2024).pit_stop
    assert pit["n_laps"] > 10_000
    assert pit["pr_auc"] > 3 * pit["base_rate"]
    assert pit["ece"] < 0.05
