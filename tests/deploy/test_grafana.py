"""Grafana provisioning and dashboard, validated structurally (Grafana is not installable here).

Every panel query must name metrics the API really exports: the names are read from the live
``/metrics`` output of the app. The queries are also evaluated by a real Prometheus in
test_prometheus.py.
"""

from __future__ import annotations

import json

import pytest
import yaml

from tests.deploy.metric_names import exported_names, live_exposition, names_in_expr
from tests.helpers import REPO

GRAFANA = REPO / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "f1analyzer.json"


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


@pytest.fixture(scope="module")
def datasource() -> dict:
    doc = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    assert doc["apiVersion"] == 1
    (ds,) = doc["datasources"]
    return ds


def all_exprs(dashboard: dict) -> list[tuple[str, str]]:
    return [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p["targets"]]


def test_datasource_points_at_the_compose_prometheus(datasource):
    import subprocess

    from tests.deploy.test_compose import compose_binary

    assert datasource["type"] == "prometheus" and datasource["access"] == "proxy"
    assert datasource["isDefault"] is True
    # the URL is the compose service name and its container port
    r = subprocess.run([compose_binary(), "-f", str(REPO / "docker-compose.yml"), "--profile",
                        "monitoring", "config", "--format", "json"], capture_output=True, text=True,
                       cwd=REPO, timeout=60)
    prom = json.loads(r.stdout)["services"]["prometheus"]
    assert datasource["url"] == f"http://prometheus:{prom['ports'][0]['target']}"


def test_dashboard_provider_matches_the_mount():
    doc = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "f1analyzer.yml").read_text())
    (prov,) = doc["providers"]
    assert prov["type"] == "file"
    assert prov["options"]["path"] == "/var/lib/grafana/dashboards"
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in mounts
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts


def test_dashboard_structure(dashboard, datasource):
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 30
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for p in dashboard["panels"]:
        assert p["type"] in ("timeseries", "stat", "gauge", "table", "bargauge")
        assert p["datasource"]["uid"] == datasource["uid"]
        assert {"x", "y", "w", "h"} <= set(p["gridPos"]) and p["gridPos"]["x"] + p["gridPos"]["w"] <= 24
        assert p["targets"], p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs))
        for t in p["targets"]:
            assert t["datasource"]["uid"] == datasource["uid"]
            assert t["expr"].count("(") == t["expr"].count(")"), t["expr"]


def test_dashboard_covers_the_required_views(dashboard):
    exprs = " ".join(e for _, e in all_exprs(dashboard))
    assert "rate(f1a_http_requests_total" in exprs                      # request rate
    assert "histogram_quantile(0.5," in exprs and "histogram_quantile(0.95," in exprs  # p50/p95
    assert 'status=~"5.."' in exprs                                     # errors
    assert "f1a_cache_hits_total" in exprs and "f1a_cache_misses_total" in exprs  # hit ratio
    assert "f1a_rate_limited_total" in exprs
    assert "f1a_llm_tokens_total" in exprs and "f1a_llm_cost_usd_total" in exprs
    assert "rate(f1a_simulations_total" in exprs                        # simulations/s


def test_every_panel_query_uses_exported_metrics(dashboard):
    exported = exported_names(live_exposition())
    for title, expr in all_exprs(dashboard):
        used = names_in_expr(expr)
        assert used, f"{title}: no f1a_ metric in {expr}"
        missing = used - exported
        assert not missing, f"{title}: {sorted(missing)} not exported by /metrics"


def test_alert_rules_use_exported_metrics():
    exported = exported_names(live_exposition())
    rules = yaml.safe_load((REPO / "deploy" / "prometheus" / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            missing = names_in_expr(rule["expr"]) - exported
            assert not missing, f"{rule['alert']}: {sorted(missing)} not exported"
