import json

from typer.testing import CliRunner

from f1analyzer.cli.bench import app


def test_bench_simulate_prints_figures_as_json():
    r = CliRunner().invoke(app, ["simulate", "--sims", "50", "--cars", "5", "--laps", "10",
                                 "--repeats", "1", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["cars"] == 5 and data["laps"] == 10 and data["sims"] == 50
    assert data["races_per_second"] > 0 and data["seconds"] > 0
    assert data["sim_threads"] == 1  # 50 races are too few to split over threads


def test_bench_simulate_threads_option_splits_a_big_call():
    r = CliRunner().invoke(app, ["simulate", "--sims", "5000", "--cars", "3", "--laps", "5",
                                 "--repeats", "1", "--threads", "2", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["sim_threads"] == 2


def test_bench_simulate_rejects_bad_sizes():
    r = CliRunner().invoke(app, ["simulate", "--laps", "1"])
    assert r.exit_code != 0
