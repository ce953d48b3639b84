# ski_tnn: set-up, tests, docs. `make test` and `make demo` are all a new user needs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV ?= .venv
# torch/torchvision pins; README "Install" says how to use another torch build
CONSTRAINTS ?= constraints.txt
# extra nbdev-test flags to run, e.g. "slow" or "slow cuda"
NBDEV_FLAGS ?=
N_WORKERS ?= 2

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install test test-slow test-cuda sync nbtest docs readme run-nbs demo clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade-strategy only-if-needed -e '.[dev]' -c $(CONSTRAINTS)
	@touch $@

install: $(STAMP)  ## create .venv and install ski_tnn with its dev extras

sync: install  ## nbdev-export and nbdev-clean must not change the tree
	@before=$$(git status --porcelain -uall; git diff); \
	nbdev-export; nbdev-clean; \
	after=$$(git status --porcelain -uall; git diff); \
	if [[ "$$before" != "$$after" ]]; then \
	  echo "error: nbdev-export / nbdev-clean changed the tree; commit the regenerated files:"; git status --short; exit 1; fi; \
	echo "sync: nbdev-export and nbdev-clean leave the tree unchanged"

nbtest: install  ## run the notebooks' lesson cells, each notebook in a fresh process (Triton kernels through the interpreter)
	TRITON_INTERPRET=1 $(BIN)/python tools/nbtest.py --n-workers $(N_WORKERS) $(if $(NBDEV_FLAGS),--flags "$(NBDEV_FLAGS)")

test: sync nbtest  ## sync check, notebook tests, docs processing, README freshness, no working notes in the text, no import cycle
	nbdev-proc-nbs > /dev/null 2>&1 || { echo "error: nbdev-proc-nbs failed"; nbdev-proc-nbs; exit 1; }
	$(BIN)/python tools/docs.py readme --check
	$(BIN)/python tools/check_words.py
	$(BIN)/python tools/check_imports.py

test-slow:  ## also the #| slow cells
	$(MAKE) test NBDEV_FLAGS=slow

test-cuda:  ## the #| cuda and #| slow cells, one notebook at a time (needs a CUDA GPU)
	$(MAKE) nbtest NBDEV_FLAGS="slow cuda" N_WORKERS=1

docs: install  ## the docs site in _docs/ (Quarto when installed, else offline with smalldocs)
	@if command -v quarto > /dev/null; then nbdev-docs; \
	else nbdev-proc-nbs > /dev/null 2>&1 && $(BIN)/python tools/docs.py render; fi
	$(BIN)/python tools/docs.py check

readme: install  ## README.md from nbs/index.ipynb
	nbdev-proc-nbs > /dev/null 2>&1
	$(BIN)/python tools/docs.py readme

run-nbs: install  ## execute every notebook in place (refreshes stored outputs and plots), clean, export, README
	cd nbs && find . -name '*.ipynb' -not -path '*/.*' -not -name '_*' | sort | \
	  xargs jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=1800
	nbdev-clean
	nbdev-export
	$(MAKE) readme

demo: install  ## ListOps-mini accuracy and time per training step against length, SKI-TNN / FD-TNN / TNN on the CPU; table and demo/demo.png
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(BIN)/ski-tnn demo --out demo

clean:  ## remove build outputs (not the venv)
	rm -rf _proc _docs

.PHONY: gpu-report
gpu-report:  ## check and measure the Triton kernels on a CUDA GPU (system python3, installs nothing): nbs/results/bench_gpu.jsonl, kernels_gpu.*
	python3 tools/gpu_report.py --out nbs/results
