"""The application's Services: one store, the model set and its version, pinned sets, health."""

from __future__ import annotations

from f1analyzer.app.services import Services, open_store
from f1analyzer.backends.cache import MemoryCache
from f1analyzer.config import settings_with_home
from f1analyzer.models.registry import LocalRegistry
from tests.factories import model_set, services, strategy_env


def _register(settings, tag: str) -> str:
    # a registered set without race models borrows the bundled ones; its version is its own
    return LocalRegistry(settings.models_dir).register({"laptime": {"tag": tag}}, {"training_seasons": [2023]})


def test_model_set_follows_the_registry_version(tmp_path):
    settings = settings_with_home(tmp_path)
    svc = Services.build(settings, cache=MemoryCache(), model_check_interval_s=0.0)
    first = svc.model_set()
    assert first.source == "bundled" and svc.model_set() is first  # nothing registered: kept
    v1 = _register(settings, "one")
    assert svc.model_set().version == v1  # another process trained: followed on the next check
    assert svc.model_set().source == "registry"
    v2 = _register(settings, "two")
    assert svc.reload_models().version == v2


def test_a_long_check_interval_keeps_the_set_until_reload(tmp_path):
    settings = settings_with_home(tmp_path)
    svc = Services.build(settings, cache=MemoryCache(), model_check_interval_s=3600.0)
    before = svc.model_set()
    v1 = _register(settings, "one")
    assert svc.model_set() is before
    assert svc.reload_models().version == v1


def test_pinned_models_are_not_replaced_and_health_checks_run(tmp_path):
    store, models = strategy_env(tmp_path / "env")
    svc = services(tmp_path, model_set(models, version="pinned-1"))
    svc.model_check_interval_s = 0.0
    _register(svc.settings, "ignored")
    assert svc.model_set().version == "pinned-1"
    assert svc.models_ok() and svc.strategy_engine_ok() and svc.data_collector_ok()


def test_one_function_finds_the_store(tmp_path):
    settings = settings_with_home(tmp_path)
    assert open_store(settings).root == Services.build(settings, cache=MemoryCache()).store.root
