"""Debian's Prometheus on loopback scraping a running API, with the repo's config and alert rules.

The repo's deploy/prometheus/prometheus.yml finds instances through Docker DNS (``api``); here the
same job (name, metrics path, rules) gets a static loopback target and a 1 s scrape interval.
Every dashboard and alert expression is then evaluated by this real Prometheus.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.helpers import REPO, api_server, free_port, stop_process, wait_for_http

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
PROM_DIR = REPO / "deploy" / "prometheus"
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "f1analyzer.json"


def grafana_to_promql(expr: str) -> str:
    return (expr.replace("$__rate_interval", "1m").replace("$__range", "5m")
            .replace("$__interval", "15s"))


def repo_config_for(target: str, rules: Path) -> dict:
    cfg = yaml.safe_load((PROM_DIR / "prometheus.yml").read_text())
    cfg["global"]["scrape_interval"] = "1s"
    cfg["global"]["evaluation_interval"] = "1s"
    cfg["rule_files"] = [str(rules)]
    job = next(j for j in cfg["scrape_configs"] if j["job_name"] == "f1analyzer-api")
    job.pop("dns_sd_configs")
    job["static_configs"] = [{"targets": [target]}]
    cfg["scrape_configs"] = [job]
    return cfg


@pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (apt-get install prometheus)")
def test_promtool_accepts_config_and_rules(tmp_path):
    r = subprocess.run([PROMTOOL, "check", "rules", str(PROM_DIR / "alerts.yml")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    cfg = yaml.safe_load((PROM_DIR / "prometheus.yml").read_text())
    assert cfg["rule_files"] == ["/etc/prometheus/alerts.yml"]  # where compose mounts it
    cfg["rule_files"] = [str(PROM_DIR / "alerts.yml")]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(cfg))
    r = subprocess.run([PROMTOOL, "check", "config", str(tmp_path / "prometheus.yml")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def _query(base: str, expr: str) -> dict:
    r = httpx.get(f"{base}/api/v1/query", params={"query": expr}, timeout=10)
    body = r.json()
    assert r.status_code == 200 and body["status"] == "success", f"{expr}: {body}"
    return body["data"]


def _wait_for(fn, what: str, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen in {timeout_s}s (last: {last})")


@pytest.mark.slow
@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus is not installed (apt-get install prometheus)")
def test_prometheus_scrapes_the_api_and_evaluates_every_query(tmp_path):
    with api_server({"F1A_HOME": str(tmp_path / "home")}, log_path=tmp_path / "api.log") as api:
        assert httpx.get(f"{api}/metrics", timeout=10).status_code == 200
        for path in ("/health", "/races", "/races/1999/nowhere", "/health"):
            httpx.get(api + path, timeout=30)
        target = api.removeprefix("http://")
        cfg = repo_config_for(target, PROM_DIR / "alerts.yml")
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(cfg))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(tmp_path / "prometheus.log", "wb")
        proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_for_http(f"{base}/-/ready", timeout_s=60, proc=proc)
            up = _wait_for(lambda: _query(base, 'up{job="f1analyzer-api"} == 1')["result"], "a scrape")
            assert up[0]["metric"]["instance"] == target
            series = _wait_for(lambda: _query(base, "f1a_http_requests_total")["result"],
                               "f1a_http_requests_total in Prometheus")
            routes = {s["metric"].get("route") for s in series}
            assert any(r and "health" in r for r in routes), routes
            statuses = {s["metric"]["status"] for s in series}
            assert "200" in statuses and any(s.startswith("4") for s in statuses), statuses
            assert _query(base, "f1a_http_request_duration_seconds_bucket")["result"]

            # every Grafana panel query and alert expression is valid PromQL for this Prometheus
            dash = json.loads(DASHBOARD.read_text())
            exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
            rules = yaml.safe_load((PROM_DIR / "alerts.yml").read_text())
            exprs += [r["expr"] for g in rules["groups"] for r in g["rules"]]
            for expr in exprs:
                _query(base, grafana_to_promql(expr))
            # the request-rate panel has data once two scrapes are in
            _wait_for(lambda: _query(base, grafana_to_promql(dash["panels"][0]["targets"][0]["expr"]))["result"],
                      "request rate")

            # the alert rules loaded and evaluate cleanly
            def rules_ok():
                groups = httpx.get(f"{base}/api/v1/rules", timeout=10).json()["data"]["groups"]
                rs = [r for g in groups for r in g["rules"]]
                return rs if rs and all(r.get("health") == "ok" for r in rs) else None

            assert len(_wait_for(rules_ok, "rule evaluation")) == 5
        finally:
            stop_process(proc)
            log.close()
