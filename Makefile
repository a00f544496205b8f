# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build of torch first: this version lies on disk on the project's machines and keeps
# the venv small; elsewhere pip falls back to the project's range (torch>=2.4).
TORCH ?= torch==2.13.0

.PHONY: demo test lint bench readme queue clean

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

# A long queue in the background, two processes from both ends of it, one thread each, stopping
# cleanly at the deadline (the next call resumes): make queue NAME=all SCALE=medium UNTIL=2h30m
NAME ?= all
SCALE ?= medium
UNTIL ?= 2h30m
# the medium queue writes the committed store itself (its run folders, runs/, stay out of git)
OUT ?= $(if $(filter medium,$(SCALE)),docs/results/medium,results/$(SCALE))
queue: $(VENV)/.base
	mkdir -p $(OUT) results
	for order in forward reverse; do \
		OMP_NUM_THREADS=1 nohup $(VENV)/bin/lmrnn reproduce $(NAME) --scale $(SCALE) \
			--out $(OUT) --until $(UNTIL) --order $$order \
			> results/queue-$(SCALE)-$$order.log 2>&1 & \
	done; echo "queue started: tail -f results/queue-$(SCALE)-*.log"

bench: $(VENV)/.dev
	$(PY) benchmarks/tasks.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
