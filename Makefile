# The compendium made executable: `make report` and `make test` do all set-up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PARAMS ?= params/liepaja-2022.yaml

.DEFAULT_GOAL := help
.PHONY: help setup system-deps report test test-fast lab check sample bench clean-outputs

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP) system-deps ## create .venv and install everything (idempotent)

system-deps: ## Debian packages the project uses (Latvian hunspell dictionary; chromium for the browser test)
	@bash scripts/install-system-deps.sh

report: setup ## run the whole pipeline on the embedded sample and print the report's path
	@$(BIN)/python -m analysis run $(PARAMS)

test: setup ## run the whole test suite (unit, notebooks with nbval, browser)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP) ## unit tests only (no notebooks, no browser, no slow checks)
	$(BIN)/python -m pytest -q -m "not slow and not browser"

check: setup ## validate the inputs named in PARAMS; run nothing
	$(BIN)/python -m analysis check $(PARAMS)

lab: setup ## open the notebooks in JupyterLab
	$(BIN)/jupyter lab notebooks/

sample: $(STAMP) ## regenerate the embedded synthetic sample from its seed
	$(BIN)/python -m analysis synth --n 1200 --seed 2022 --out data/sample

bench: setup ## run the benchmarks (speed and memory ratios, printed)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean-outputs: ## delete every run under outputs/
	rm -rf outputs/
