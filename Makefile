# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
# test workers: most of the slow tests wait on servers they start, so two workers on two cores
# finish the suite in ~60 % of the serial time; TEST_WORKERS=0 runs it in one process
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadscope)

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
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -q $(XDIST) --durations=20

test-fast: $(STAMP)
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -q $(XDIST) -m "not slow and not realdata"

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

docs: $(STAMP)
	$(PY) docs/gen_cli_reference.py > docs/cli-reference.md

clean:
	rm -rf $(VENV) .pytest_cache
