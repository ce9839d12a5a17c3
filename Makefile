# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: run test test-fast bench docs clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

## Start the API on http://localhost:8000 with the embedded defaults (no keys, no servers).
run: $(STAMP)
	$(PY) fastapi_backend.py

## The whole test suite (real-data tests run when F1_DATA_DIR is set).
test: $(STAMP)
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -q

test-fast: $(STAMP)
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -q -m "not slow and not realdata"

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

docs: $(STAMP)
	$(PY) docs/gen_cli_reference.py > docs/cli-reference.md

clean:
	rm -rf $(VENV) .pytest_cache
