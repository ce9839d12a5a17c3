"""``GET /seasons/{season}/preview``: the season's latest ``f1analyzer season-preview`` for the
dashboard, or the command that makes one."""

from __future__ import annotations

from fastapi.testclient import TestClient

from f1analyzer.api.main import create_app
from f1analyzer.app.season import save_season_preview
from f1analyzer.config import Settings


def test_preview_missing_then_saved(tmp_path):
    app = create_app(Settings(home=tmp_path, index_on_start=False, rate_limit_enabled=False))
    with TestClient(app) as c:
        body = c.get("/seasons/2024/preview").json()
        assert body["available"] is False and "f1analyzer season-preview --season 2024" in body["message"]
        result = {"season": 2024, "rounds": [1], "n_sims": 50, "seed": 0, "standings": [],
                  "rows": [{"season": 2024, "round": 1, "event": "Bahrain Grand Prix", "driver": "VER", "grid": 1,
                            "strategy": "M-18-H", "expected_points": 21.4}]}
        path = save_season_preview(tmp_path, result)
        assert path == tmp_path / "previews" / "2024.json" and not list(path.parent.glob("*.tmp"))
        body = c.get("/seasons/2024/preview").json()
        assert body["available"] is True and body["rows"] == result["rows"]
        path.write_text("{not json")
        assert c.get("/seasons/2024/preview").json()["available"] is False
        assert c.get("/seasons/1900/preview").status_code == 422
