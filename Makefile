# face_synthesis: `make demo` and `make test` are the whole quick start.
# Everything runs inside .venv, created and filled by `make install` (idempotent: a stamp file records
# the hash of the files that decide what is installed, so a second run takes a second).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-lock.txt setup.py settings.ini 2>/dev/null | sha256sum | cut -c1-12)
DATA ?=
# SynthFaces is the default; DATA=path/to/faces also prepares a real folder
DEMO_ARGS ?=
export WANDB_MODE ?= offline
export PYTHONHASHSEED ?= 0
export MPLBACKEND ?= Agg
# the tools run from .venv/bin without activation; tell IPython which environment it is in
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install demo test sync-check nbtest pytest bench docs readme clean lock help
help:
	@echo "make demo   install, then run the demo on the embedded SynthFaces dataset (DATA=folder to add a real one)"
	@echo "make test   install, then check notebooks/library sync, run every notebook and tests/"
	@echo "make bench  throughput benchmarks;  make docs  build _docs with Quarto;  make clean"

install: $(STAMP)
$(STAMP):
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q 'pip>=24' 'setuptools>=64,<82' wheel
	$(BIN)/pip install -q -c requirements-lock.txt -r requirements-lock.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*; touch $@
	@echo "installed into $(VENV)"

# Regenerate the exact pins CI installs from (run after changing requirements in settings.ini).
lock: install
	$(BIN)/pip freeze --exclude-editable > requirements-lock.txt

demo: install
	$(BIN)/face-synthesis demo $(if $(DATA),--data $(DATA)) $(DEMO_ARGS)

# The notebooks are the source: nbdev_clean + nbdev_export must not change anything tracked by git.
sync-check: install
	$(BIN)/nbdev_clean
	$(BIN)/nbdev_export
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  if [ -n "$$(git status --porcelain -- nbs face_synthesis)" ]; then \
	    echo "ERROR: nbs/ and face_synthesis/ are out of sync or notebooks are not clean:"; git status --short -- nbs face_synthesis; \
	    echo "Run 'nbdev_clean && nbdev_export' and commit the result (never edit face_synthesis/*.py by hand)."; exit 1; \
	  else echo "notebooks clean and library in sync"; fi; \
	else echo "not a git checkout: skipping the sync check"; fi

# Two notebooks run at once; one torch/OpenMP thread each, or 2 workers x 2 threads oversubscribe 2 cores
# (measured on 2 cores: 15 min with the default threads, 6 min 18 s with one thread per worker).
NB_THREADS ?= 1
nbtest: install
	OMP_NUM_THREADS=$(NB_THREADS) MKL_NUM_THREADS=$(NB_THREADS) $(BIN)/nbdev_test --n_workers 2 --timing $(if $(FLAGS),--flags "$(FLAGS)")

pytest: install
	$(BIN)/python -m pytest -q tests

test: sync-check nbtest pytest

bench: install
	$(BIN)/python bench/bench.py

docs: install
	@if command -v quarto >/dev/null; then $(BIN)/nbdev_docs; echo "docs in _docs/"; \
	else echo "quarto is not installed, so the docs site cannot be built here."; \
	     echo "Install it from https://quarto.org/docs/get-started/ and run 'make docs' again."; fi

# README.md is generated from nbs/index.ipynb (with its saved outputs)
readme: install
	@if command -v quarto >/dev/null; then $(BIN)/nbdev_readme; else $(BIN)/python tools/readme.py; fi

clean:
	rm -rf _proc _docs runs/demo .pytest_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
