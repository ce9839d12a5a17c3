"""A venue new to a model set gets priors from similar tracks (models/venues.py)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from f1analyzer.data.circuits import get_circuit
from f1analyzer.models.bundled import load_bundled_models
from f1analyzer.models.venues import SIMILAR_SHARE


@pytest.fixture(scope="module")
def bundled():
    return load_bundled_models()


def without(models, key):
    out = copy.copy(models)
    out.circuits_ = {k: v for k, v in models.circuits_.items() if k != key}
    return out


def test_new_venue_prior(bundled):
    prior = bundled.venue_prior("madring")
    assert (prior.key, prior.n_races, prior.seasons) == ("madring", 0, [])
    sims = prior.prior_from.split(", ")
    assert len(sims) == 3 and all(get_circuit(k).kind == "street" for k in sims)
    assert "new venue" in prior.source and all(bundled.circuits_[k].name in prior.source for k in sims)
    losses = [bundled.circuits_[k].pit_loss_s for k in sims]
    assert min(losses) <= prior.pit_loss_s <= max(losses)
    assert prior.total_laps == 56  # 5.474 km: the fewest laps covering 305 km
    # what similar tracks do not predict better stays on the all-circuit model
    assert prior.sc.to_dict() == bundled.global_.sc.to_dict()
    assert prior.retirement_prob == bundled.global_.retirement_prob
    assert all(not t.own_fit for t in prior.compounds.values())
    assert bundled.venue_prior("atlantis") is None
    assert "madring" not in bundled.circuits_  # asking does not add it


def test_known_venue_is_never_a_prior(bundled):
    # a venue the set knows keeps its own model everywhere (the prior is only for unknown ones)
    assert bundled.circuit("Monza").source == ""


def test_similar_tracks_predict_pit_loss_better_than_the_average(bundled):
    """Leave-one-out over circuits with >= 3 races: the reason SIMILAR_SHARE takes pit loss from
    similar tracks."""
    assert SIMILAR_SHARE["pit_loss_s"] > 0
    err_prior, err_global = [], []
    for key, cm in bundled.circuits_.items():
        if cm.n_races < 3:
            continue
        prior = without(bundled, key).venue_prior(key)
        err_prior.append(abs(prior.pit_loss_s - cm.pit_loss_s))
        err_global.append(abs(bundled.global_.pit_loss_s - cm.pit_loss_s))
    assert len(err_prior) >= 20
    assert np.mean(err_prior) < np.mean(err_global)


def test_the_same_grounds_come_first(bundled):
    prior = without(bundled, "bahrain_outer").venue_prior("bahrain_outer")
    assert prior.prior_from.split(", ")[0] == "bahrain"
    assert prior.total_laps == 87  # 3.543 km
