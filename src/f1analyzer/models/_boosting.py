"""What the learned LightGBM models (:mod:`.laptime`, :mod:`.pitstop`) share: their settings, the
booster parameters built from them, and the check of a compound name in single-state predictions."""

from __future__ import annotations

from ..errors import InvalidRequestError
from .features import COMPOUND_INDEX


class BoostedModel:
    """Base of the learned models: stores the LightGBM settings (estimator style, no other state).

    Subclasses give the defaults in their own ``__init__`` and pass every argument on.
    """

    def __init__(self, n_estimators: int, learning_rate: float, num_leaves: int, min_child_samples: int,
                 seed: int, n_jobs: int):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.seed = seed
        self.n_jobs = n_jobs

    def _params(self) -> dict:
        """LightGBM keyword arguments: the settings plus row/column subsampling and the seed."""
        return dict(n_estimators=self.n_estimators, learning_rate=self.learning_rate,
                    num_leaves=self.num_leaves, min_child_samples=self.min_child_samples,
                    subsample=0.8, subsample_freq=1, colsample_bytree=0.9,
                    random_state=self.seed, n_jobs=self.n_jobs)


def compound_key(compound: str) -> str:
    """``compound`` upper-cased, or :class:`InvalidRequestError` when it is not a known compound."""
    comp = str(compound).upper()
    if comp not in COMPOUND_INDEX:
        raise InvalidRequestError(f"Unknown compound {compound!r}. Valid: {', '.join(COMPOUND_INDEX)}.")
    return comp
