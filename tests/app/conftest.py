"""A real local Ray for the executor and batch tests: started once per session, 2 CPUs."""

from __future__ import annotations

import logging
import os

import pytest

from tests.helpers import REPO


@pytest.fixture(scope="session")
def ray_cluster():
    """``ray`` initialised on a local instance of 2 CPUs (no dashboard); shut down afterwards.

    Its workers import this checkout's package and the tests' task functions by name, so the
    repository and ``src`` go on their PYTHONPATH (workers inherit the environment at start).
    """
    import ray  # the test extra installs it

    paths = [str(REPO), str(REPO / "src")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    yield ray
    ray.shutdown()
