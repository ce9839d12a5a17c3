"""One corrupt season file must not break the other seasons (issue 13, item 7).

A real uvicorn process on a store whose 2022 file was cut short: ``/races`` keeps answering with
2023, the 2022 routes answer 503 saying what to do, and ``/health`` names the season.
"""

from __future__ import annotations

import httpx

from f1analyzer.config import settings_with_home
from f1analyzer.data.store import RaceStore
from tests.factories import fill_store, training_laps
from tests.helpers import api_server, service_env


def test_a_corrupt_season_is_isolated_and_reported(tmp_path):
    home = tmp_path / "home"
    store = RaceStore(settings_with_home(home).store_dir)
    fill_store(store, training_laps(seasons=(2022, 2023), rounds=2))
    bad = store.seasons_dir / "2022.parquet"
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])

    with api_server(service_env(home, F1A_INDEX_ON_START="false")) as url:
        races = httpx.get(f"{url}/races", timeout=30)
        assert races.status_code == 200, races.text
        assert {r["season"] for r in races.json()["data"]} == {2023}
        assert httpx.get(f"{url}/races/2023/1", timeout=30).status_code == 200
        for path in ("/races?season=2022", "/races/2022/1", "/races/2022/1/laps"):
            r = httpx.get(f"{url}{path}", timeout=30)
            assert r.status_code == 503, (path, r.text)
            body = r.json()
            assert body["error"]["code"] == "data_corrupt", body
            msg = body["error"]["message"]
            assert "season 2022" in msg and "Re-ingest" in msg and str(home) not in msg
        health = httpx.get(f"{url}/health", timeout=30).json()
    assert health["status"] == "degraded"
    assert any("2022" in r and "cannot be read" in r for r in health["reasons"]), health["reasons"]
