# `make run` and `make test` set everything up on a bare Debian machine, then do their job.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	# torch first, from the local CPU wheel: a plain `torch` would pull gigabytes of CUDA.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,dask]"
	@touch $(STAMP)

setup: $(STAMP)

run: setup
	$(VENV)/bin/intel run

test: setup
	bash scripts/install-system-deps.sh
	$(PY) -m ruff check intel flows tests bench
	$(PY) -m ruff format --check intel flows tests bench
	$(PY) -m mypy
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check intel flows tests bench
	$(PY) -m ruff format --check intel flows tests bench
	$(PY) -m mypy

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
