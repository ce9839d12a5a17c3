"""Admin ingest against a real uvicorn process (issue 13, items 6 and 9).

Only regular files inside the data roots are read (a FIFO and a symlink to /dev/zero are refused
at once: they used to block the worker forever and grow it to 2.7 GB), a job can be cancelled
with ``DELETE /admin/jobs/{id}``, out-of-bounds rows are counted in the job result and in
``/races``, and a shrinking file needs ``"replace": true``.
"""

from __future__ import annotations

import fcntl
import os

import httpx
import pandas as pd
import pytest

from tests.api.test_service_admin import wait_job
from tests.data.frames import N_LAPS, race_frame, season_frame, write_csv
from tests.helpers import api_server, service_env, wait_until

KEY = "guard-key"
H = {"X-API-Key": KEY}
TIMEOUT = httpx.Timeout(20.0)  # a request that blocks fails the test instead of hanging it


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    home = tmp_path_factory.mktemp("guard_home")
    roots = tmp_path_factory.mktemp("roots")
    (roots / "a").mkdir()
    return home, roots


@pytest.fixture(scope="module")
def server(env):
    home, roots = env
    with api_server(service_env(home, API_KEYS=KEY, F1A_INDEX_ON_START="false",
                                F1A_INGEST_ROOTS=str(roots / "a"))) as url:
        yield url


def _ingest(url: str, body: dict) -> httpx.Response:
    return httpx.post(f"{url}/admin/ingest", json=body, headers=H, timeout=TIMEOUT)


def test_a_path_outside_the_roots_is_refused_naming_the_roots(server, env, tmp_path):
    _, roots = env
    outside = write_csv(season_frame(), tmp_path / "2023.csv")
    for path in (str(outside), str(roots / "a" / ".." / "2023.csv"), "/etc/passwd"):
        r = _ingest(server, {"paths": [path]})
        assert r.status_code == 422, r.text
        body = r.json()["error"]
        assert "outside the folders the admin API may read" in body["message"]
        assert str(roots / "a") in body["message"] and body["details"]["roots"] == [str(roots / "a")]


def test_a_symlink_out_of_the_roots_and_special_files_are_refused_quickly(server, env):
    _, roots = env
    link = roots / "a" / "2023.csv"
    link.symlink_to("/dev/zero")
    fifo = roots / "a" / "2022.csv"
    os.mkfifo(fifo)
    try:
        r = _ingest(server, {"paths": [str(link)]})
        assert r.status_code == 422 and "outside the folders" in r.json()["error"]["message"]
        r = _ingest(server, {"paths": [str(fifo)]})
        assert r.status_code == 422 and "not a regular file" in r.json()["error"]["message"]
        r = _ingest(server, {"paths": [str(roots / "a")]})  # a folder holding only those two
        assert r.status_code == 422 and "no lap files" in r.json()["error"]["message"]
    finally:
        link.unlink()
        fifo.unlink()
    assert httpx.get(f"{server}/health", timeout=TIMEOUT).status_code == 200  # worker not stuck


def test_out_of_bounds_rows_are_counted_in_the_job_and_in_races(server, env):
    _, roots = env
    df = pd.concat([season_frame(), race_frame(41, "Nowhere Grand Prix")], ignore_index=True)
    df.loc[5, "LapTime"] = "1e308"
    path = write_csv(df, roots / "a" / "2021.csv.gz")
    r = _ingest(server, {"paths": [str(path)]})
    assert r.status_code == 202, r.text
    rec = wait_job(server, r.json()["job_id"], H)
    assert rec["status"] == "succeeded", rec
    res = rec["result"]
    assert res["rejected"] == 3 * N_LAPS + 1 and res["rows_kept"] == 9 * N_LAPS - 1
    assert res["rejected_reasons"] == {"bad RoundNumber": 3 * N_LAPS,
                                       "LapTime out of range (30–3600 s)": 1}
    assert res["per_file"][0]["source"] == "2021.csv.gz"
    races = httpx.get(f"{server}/races", params={"season": 2021}, timeout=TIMEOUT).json()
    first = races["data"][0]
    assert first["rejected"] == 1 and first["rejected_reasons"] == {"LapTime out of range (30–3600 s)": 1}
    assert races["rejections"] == [{"season": 2021, "session": "race", "source": "2021.csv.gz",
                                    "rows": 3 * N_LAPS, "reasons": {"bad RoundNumber": 3 * N_LAPS}}]
    laps = httpx.get(f"{server}/races/2021/1/laps", timeout=TIMEOUT).json()["drivers"]
    assert max(lap["lap_time_s"] or 0 for d in laps.values() for lap in d) < 3600


def test_a_shrinking_file_needs_replace(server, env):
    _, roots = env
    write_csv(season_frame(), roots / "a" / "2020.csv")
    assert wait_job(server, _ingest(server, {"paths": [str(roots / "a" / "2020.csv")]}).json()["job_id"],
                    H)["status"] == "succeeded"
    broken = season_frame()
    broken.loc[broken["LapNumber"].astype(float) > 6, "LapTime"] = "1e308"
    write_csv(broken, roots / "a" / "2020.csv")
    rec = wait_job(server, _ingest(server, {"paths": [str(roots / "a" / "2020.csv")]}).json()["job_id"], H)
    assert rec["status"] == "failed"
    assert "would drop more than 10%" in rec["error"] and '"replace": true' in rec["error"]
    assert httpx.get(f"{server}/races", params={"season": 2020}, timeout=TIMEOUT).json()["data"][0]["laps"] == 30
    r = _ingest(server, {"paths": [str(roots / "a" / "2020.csv")], "replace": True})
    rec = wait_job(server, r.json()["job_id"], H)
    assert rec["status"] == "succeeded" and rec["params"]["replace"] is True
    assert httpx.get(f"{server}/races", params={"season": 2020}, timeout=TIMEOUT).json()["data"][0]["laps"] == 18


def _status(url: str, job_id: str) -> dict:
    return httpx.get(f"{url}/admin/jobs/{job_id}", headers=H, timeout=TIMEOUT).json()


def test_delete_cancels_a_running_and_a_queued_ingest_leaving_the_store_as_it_was(server, env):
    """The running job waits for the store's write lock (held here, as a long ingest in another
    process would): a cancel stops it without waiting for the lock and nothing is written."""
    home, roots = env
    path = write_csv(season_frame(), roots / "a" / "2019.csv")
    lock_path = home / "store" / ".lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        running = _ingest(server, {"paths": [str(path)]}).json()["job_id"]
        assert wait_until(lambda: _status(server, running)["status"] == "running", 30)
        queued = _ingest(server, {"paths": [str(path)]}).json()["job_id"]
        assert _status(server, queued)["status"] == "queued"

        r = httpx.delete(f"{server}/admin/jobs/{queued}", headers=H, timeout=TIMEOUT)
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        r = httpx.delete(f"{server}/admin/jobs/{running}", headers=H, timeout=TIMEOUT)
        assert r.status_code == 200 and r.json()["cancel_requested"] is True
        rec = wait_until(lambda: (s := _status(server, running))["status"] == "cancelled" and s, 30)
        assert rec, _status(server, running)  # stopped while the lock is still held
        assert rec["error"] == "cancelled" and rec["result"]["ingested"] == 0
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert _status(server, queued)["started_at"] is None
    assert httpx.get(f"{server}/races", params={"season": 2019}, timeout=TIMEOUT).json()["count"] == 0
    assert not list((home / "store" / "seasons").glob(".*.tmp"))
    r = httpx.delete(f"{server}/admin/jobs/{running}", headers=H, timeout=TIMEOUT)
    assert r.status_code == 409 and "already cancelled" in r.json()["error"]["message"]
    assert httpx.delete(f"{server}/admin/jobs/nosuchjob", headers=H, timeout=TIMEOUT).status_code == 404
    assert httpx.delete(f"{server}/admin/jobs/{running}", timeout=TIMEOUT).status_code == 401
