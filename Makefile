# The compendium made executable: `make report` and `make test` do all set-up themselves.
# Installs come from requirements.lock (exact versions and hashes, generated from
# pyproject.toml by `make lock`), so a rerun next year installs the same code.
SHELL := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LOCK   := requirements.lock
STAMP  := $(VENV)/.installed-stamp
PARAMS ?= params/liepaja-2022.yaml

.DEFAULT_GOAL := help
.PHONY: help setup system-deps report test test-fast lint lab check sample bench lock clean clean-outputs distclean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP) system-deps ## create .venv and install the locked versions (idempotent)

system-deps: ## Debian packages beyond PyPI: chromium for the browser test (the Latvian dictionary ships in the package)
	@bash scripts/install-system-deps.sh

lock: ## regenerate requirements.lock from pyproject.toml (keeps current pins; UPGRADE=1 takes the newest allowed)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m uv --version >/dev/null 2>&1 || $(BIN)/python -m pip install --quiet uv
	$(BIN)/python -m uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --generate-hashes --custom-compile-command "make lock" --quiet $(if $(UPGRADE),--upgrade) -o $(LOCK)

report: setup ## run the whole pipeline on the embedded sample and print the report's path
	@$(BIN)/python -m analysis run $(PARAMS)

lint: $(STAMP) ## ruff (rules in pyproject.toml)
	$(BIN)/ruff check .

test: setup lint ## lint, then run the whole test suite (unit, notebooks with nbval, browser)
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

clean: ## delete caches and build products (keeps .venv and outputs/)
	rm -rf build dist .cache .pytest_cache .hypothesis .ruff_cache src/*.egg-info
	find . -path ./.venv -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 | xargs -0 rm -rf

clean-outputs: ## delete every run under outputs/
	rm -rf outputs/

distclean: clean ## clean, and delete .venv too
	rm -rf $(VENV)
