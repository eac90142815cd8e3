# Set-up and the two jobs the README names. `make run` and `make test` set up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench baselines clean

# torch is a loose requirement so that machines with a GPU get their CUDA build. Where no
# GPU is present, install the CPU build pinned here first (on our machines it lies on disk;
# a bare `torch` would pull a multi-GB CUDA build).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	if ! command -v nvidia-smi >/dev/null 2>&1; then $(BIN)/python -m pip install "torch==2.13.0"; fi
	$(BIN)/python -m pip install -e ".[dev,dask,peers]"
	touch $(STAMP)

setup: $(STAMP)

## The main job: every experiment of the paper reproduced on this machine's CPU, and REPORT.md.
run: setup
	$(BIN)/relukan-bench reproduce --device cpu

## The tests (a few minutes on 2 CPU cores), spread over up to 4 cores by pytest-xdist, after
## the linter (ruff) and the type checker (mypy) have passed the package (settings in pyproject.toml).
test: setup
	$(BIN)/ruff check relukan_bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -n auto --maxprocesses=4

## The pykan releases the speed baselines time beside the installed one, each in its own environment
## under .venv (pip, at set-up; nothing is downloaded while a run runs). `make run` then times them too.
baselines: setup
	$(BIN)/relukan-bench pykan install 0.0.5 0.1.2

clean:
	rm -rf $(VENV) .pytest_cache

# Benchmarks (not tests): fast vs reference vs pykan, the scaling sweep, batched seeds; 1 thread.
# Results in results/benchmarks/, method and numbers in docs/performance.md.
bench: setup
	cd benchmarks && ../.venv/bin/python impls.py && ../.venv/bin/python scaling.py && ../.venv/bin/python seeds.py
