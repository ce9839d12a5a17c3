""".env.example documents every setting and every variable docker-compose.yml interpolates."""

from __future__ import annotations

import re

from f1analyzer.config import Settings
from tests.helpers import REPO

ENV_EXAMPLE = REPO / ".env.example"


def documented() -> dict[str, str]:
    """NAME → the comment block just above its (commented-out) ``NAME=value`` line."""
    out, comment = {}, []
    for line in ENV_EXAMPLE.read_text().splitlines():
        m = re.match(r"^#?\s?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            out[m.group(1)] = " ".join(comment)
        elif line.startswith("#"):
            comment.append(line.lstrip("# "))
        else:
            comment = []
    return out


def test_every_setting_is_in_env_example():
    docs = documented()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names = list(alias.choices) if alias is not None else [f"F1A_{name.upper()}"]
        assert any(n in docs for n in names), f"setting {name} ({' / '.join(names)}) missing from .env.example"


def test_every_variable_has_a_comment():
    for name, comment in documented().items():
        assert comment.strip(), f"{name} has no comment above it"


def test_every_compose_variable_is_documented():
    compose = (REPO / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", compose))
    missing = used - set(documented())
    assert not missing, f"docker-compose.yml uses undocumented variables: {sorted(missing)}"


def test_example_sets_nothing_by_default():
    """Copying it to .env changes no default: every assignment is commented out."""
    for line in ENV_EXAMPLE.read_text().splitlines():
        assert not line or line.startswith("#"), line
