# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch first: this version lies on disk on the project's machines and keeps
# the venv small; elsewhere pip falls back to the project's range (torch>=2.4).
TORCH ?= torch==2.13.0

.PHONY: demo test lint bench readme clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)" || $(PY) -m pip install -q "torch>=2.4"
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: $(VENV)/.base
	$(VENV)/bin/lmrnn demo

test: $(VENV)/.dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -q

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

# The README's claims table, generated from the published results under docs/results.
readme: $(VENV)/.base
	$(VENV)/bin/lmrnn publish --readme README.md --root docs/results

bench: $(VENV)/.dev
	$(PY) benchmarks/tasks.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
