"""docs/DEPLOYMENT.md names only files, profiles and variables that exist."""

from __future__ import annotations

import re

from tests.deploy.test_compose import PROFILES
from tests.deploy.test_env_example import documented
from tests.helpers import REPO

DOC = (REPO / "docs" / "DEPLOYMENT.md").read_text()


def test_sections_present():
    for heading in ("Local", "Docker", "nginx", "Monitoring", "AWS", "EC2", "ECS/Fargate", "Lambda",
                    "Health checks", "Security", "Scaling", "Costs", "Troubleshooting"):
        assert re.search(rf"^#+ .*{re.escape(heading)}", DOC, re.M), heading


def test_named_files_exist():
    paths = set(re.findall(r"`((?:deploy|docs|tests|src)/[\w./-]+|[\w-]+\.(?:py|yml|yaml|md))`", DOC))
    paths |= {"Dockerfile", ".env.example", ".dockerignore", "template.yaml"}
    for p in sorted(paths):
        p = p.split(" ")[0].rstrip("/")
        if "*" in p or "<" in p or p.startswith("tests/deploy/") and not p.endswith(".py"):
            continue
        if "/" in p:
            assert (REPO / p).exists(), p
        else:  # a bare file name: somewhere in the repo's deployment files
            assert (REPO / p).exists() or any((REPO / "deploy").rglob(p)) \
                or (REPO / "tests" / "deploy" / p).exists(), p


def test_named_profiles_exist():
    for profile in re.findall(r"--profile (\$?[\w-]+)", DOC):
        if profile.startswith("$"):
            continue
        assert profile in PROFILES, profile


def test_named_variables_are_documented():
    env = documented()
    from f1analyzer.config import Settings

    settings_names = set()
    for name, field in Settings.model_fields.items():
        a = field.validation_alias
        settings_names |= set(a.choices) if a is not None else {f"F1A_{name.upper()}"}
    named = set(re.findall(r"`((?:F1A|NGINX|API|GRAFANA)_[A-Z0-9_]+)", DOC))
    for var in named:
        if var.endswith("_"):  # a family: `F1A_RATE_LIMIT_*`
            continue
        assert var in env or var in settings_names, var
