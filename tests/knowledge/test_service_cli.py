"""`f1analyzer index` and `f1analyzer query` (through the CLI's entry point)."""

from __future__ import annotations

import json

from f1analyzer.cli import main


def test_index_is_idempotent_and_query_answers(f1a_home, capsys):
    assert main(["--home", str(f1a_home), "index", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["written"] == first["total"] > 180
    assert main(["--home", str(f1a_home), "index", "build", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["written"] == 0 and again["unchanged"] == first["total"]
    assert main(["--home", str(f1a_home), "index", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["documents"] == first["total"]

    assert main(["--home", str(f1a_home), "query", "What happened on lap 1 at Hungary 2021?",
                 "--json", "--top-k", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sources"][0]["id"] == "race:2021:11" and len(out["sources"]) == 3
    assert "[1]" in out["answer"] and out["provider"] == "offline"

    assert main(["--home", str(f1a_home), "query", "pit stops", "--json", "--season", "2021",
                 "--event", "Monza", "--driver", "RIC"]) == 0
    assert [s["id"] for s in json.loads(capsys.readouterr().out)["sources"]] == ["race:2021:14"]

    assert main(["--home", str(f1a_home), "query", "Who won at Monaco in 2024?"]) == 0
    text = capsys.readouterr().out
    assert "[1] race:2024:08" in text


def test_index_rebuild_and_errors(f1a_home, capsys):
    assert main(["--home", str(f1a_home), "query", "anything"]) == 1
    assert "f1analyzer index" in capsys.readouterr().err
    assert main(["--home", str(f1a_home), "index", "--json"]) == 0
    total = json.loads(capsys.readouterr().out)["total"]
    assert main(["--home", str(f1a_home), "index", "--rebuild", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == total
    assert main(["--home", str(f1a_home), "query", "x", "--event", "Atlantis"]) == 1
    assert "Unknown event 'Atlantis'" in capsys.readouterr().err
    assert main(["--home", str(f1a_home), "index", "explode"]) == 1
