"""The executors: identical results everywhere, shared data sent once per worker, failures kept
per task, a killed Ray worker retried, Ctrl-C stopping every worker. Ray is a real local instance
(``ray_cluster``, 2 CPUs)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from f1analyzer.app.executors import (
    INSTALL_HINT,
    LocalExecutor,
    RayExecutor,
    SerialExecutor,
    Task,
    make_executor,
)
from f1analyzer.errors import BackendUnavailableError, ConfigError
from f1analyzer.simulation.seeds import task_seed
from tests.app import batch_tasks
from tests.helpers import wait_until

TASKS = [Task.of(f"demo/{n}", 11, n=n) for n in range(6)]


def executors(ray_cluster) -> dict:
    return {"serial": SerialExecutor(), "local": LocalExecutor(2), "ray": RayExecutor()}


def test_seed_comes_from_key_and_base_seed_only():
    a, b = Task.of("backtest/2023/5", 0), Task.of("backtest/2023/5", 0, round=5)
    assert a.seed == b.seed == task_seed("backtest/2023/5", 0)
    assert Task.of("backtest/2023/6", 0).seed != a.seed and Task.of("backtest/2023/5", 1).seed != a.seed
    assert 0 <= a.seed < 2 ** 31
    # a sweep's values of one race share their random numbers on purpose
    assert Task.of("sweep/x=1/2023/5", 0, seed_key="sweep/2023/5").seed == \
        Task.of("sweep/x=2/2023/5", 0, seed_key="sweep/2023/5").seed


def test_same_results_on_every_executor_in_task_order(ray_cluster):
    out = {}
    for name, ex in executors(ray_cluster).items():
        seen = []
        res = ex.map(batch_tasks.noisy_sum, TASKS, shared={"offset": 0.5},
                     progress=lambda r, done, total: seen.append((r and r.key, done, total)))
        assert [r.key for r in res] == [t.key for t in TASKS] and all(r.ok for r in res)
        out[name] = [r.value for r in res]
        # one call when the batch starts, then one per task
        assert seen[0] == (None, 0, 6) and [d for _, d, _ in seen[1:]] == list(range(1, 7))
    assert out["serial"] == out["local"] == out["ray"]
    assert len(set(out["serial"])) == 6  # every task its own random numbers


def test_batch_workers_run_their_simulations_on_one_thread(ray_cluster, monkeypatch):
    # the workers already keep every core busy with one race each; the caller keeps its setting
    monkeypatch.setenv("F1A_SIM_THREADS", "3")
    from f1analyzer.config import get_settings

    get_settings.cache_clear()
    try:
        for name, ex in executors(ray_cluster).items():
            res = ex.map(batch_tasks.sim_threads_here, TASKS[:2], shared={})
            assert [r.value for r in res] == ([3, 3] if name == "serial" else [1, 1]), name
    finally:
        get_settings.cache_clear()


def test_a_failing_task_is_reported_by_key_and_the_others_are_kept(ray_cluster):
    for name, ex in executors(ray_cluster).items():
        res = ex.map(batch_tasks.fail_on_odd, TASKS)
        assert [r.ok for r in res] == [True, False] * 3, name
        assert [r.value for r in res if r.ok] == [0, 2, 4]
        bad = res[1]
        assert bad.key == "demo/1" and bad.error == "InvalidRequestError: odd number 1"


@pytest.mark.parametrize("name", ["local", "ray"])
def test_shared_data_reach_each_worker_once(ray_cluster, name):
    ex = executors(ray_cluster)[name]
    res = ex.map(batch_tasks.who_has_shared, [Task.of(f"probe/{n}") for n in range(8)],
                 shared={"probe": batch_tasks.UnpickleProbe()})
    tokens_by_pid: dict[int, set] = {}
    for r in res:
        pid, token = r.value
        tokens_by_pid.setdefault(pid, set()).add(token)
    assert all(len(t) == 1 for t in tokens_by_pid.values()), tokens_by_pid  # unpickled once per worker
    assert os.getpid() not in tokens_by_pid and "caller" not in {t for s in tokens_by_pid.values() for t in s}


def test_ray_retries_a_killed_worker_and_the_answer_is_unchanged(ray_cluster, tmp_path):
    tasks = [Task.of(f"kill/{n}", 3, victim=(n == 2)) for n in range(4)]
    shared = {"offset": 0.0, "dir": str(tmp_path)}
    expected = [r.value for r in SerialExecutor().map(batch_tasks.noisy_sum, tasks, shared=shared)]
    marker = tmp_path / "victim.pid"
    killed = []

    def kill_victim(result, done, total):
        if not killed:
            pid = wait_until(lambda: marker.exists() and int(marker.read_text()), timeout_s=60)
            assert pid, "the victim task never started"
            os.kill(pid, 9)
            killed.append(pid)

    res = RayExecutor(max_retries=3).map(batch_tasks.killed_once, tasks, shared=shared, progress=kill_victim)
    assert killed and all(r.ok for r in res), [r.error for r in res]
    assert [r.value for r in res] == expected
    victim = res[2]
    assert victim.worker.split(":")[-1] != str(killed[0])  # the retry ran on another worker process


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/status").read_text().count("State:\tZ")


@pytest.mark.parametrize("name", ["local", "ray"])
def test_ctrl_c_stops_every_worker(ray_cluster, tmp_path, name):
    ex = executors(ray_cluster)[name]
    tasks = [Task.of(f"sleepy/{n}", n=n) for n in range(3)]
    running = tmp_path / "1.pid"

    def interrupt(result, done, total):
        if done >= 1:
            assert wait_until(running.exists, timeout_s=60), "task 1 never started"
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ex.map(batch_tasks.sleepy, tasks, shared={"dir": str(tmp_path)}, progress=interrupt)
    pid = int(running.read_text())
    assert wait_until(lambda: not _alive(pid), timeout_s=30), f"task 1's worker {pid} is still running"


def test_executor_names_and_the_ray_install_hint(monkeypatch):
    assert make_executor("serial").name == "serial"
    assert make_executor("local", workers=3).workers == 3
    with pytest.raises(ConfigError, match="serial, local, ray"):
        make_executor("spark")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(ConfigError) as err:
        make_executor("ray")
    assert err.value.message == INSTALL_HINT and "pip install 'f1analyzer[ray]'" in INSTALL_HINT


def test_duplicate_keys_are_refused():
    with pytest.raises(ValueError, match="duplicate task key 'a'"):
        SerialExecutor().map(batch_tasks.noisy_sum, [Task.of("a"), Task.of("a")], shared={"offset": 0})


def test_a_ray_address_with_no_cluster_says_what_to_do(monkeypatch):
    import ray

    # what ray.init(address="auto") raises when no Ray runs on the machine (a real cluster may be
    # running here: this session's own), seen by an executor that has not connected yet
    def no_cluster(**kwargs):
        raise ConnectionError("Could not find any running Ray instance. Please specify the one to connect to.")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", no_cluster)
    with pytest.raises(BackendUnavailableError) as err:
        RayExecutor("auto").connect()
    assert err.value.message.startswith("Cannot join the Ray cluster at 'auto' (Could not find any running Ray")
    assert "ray start --head" in err.value.message
