# Entry points. Everything a run writes lands under data/ (git-ignored).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export INTEGRATION_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(INTEGRATION_DATA_DIR)/dagster
PERSONS ?= 16600
MONTHS ?= 12
SEED ?= 2016
BENCH_SIZES ?= 10000,100000,1000000
BENCH_REPEATS ?= 3

.PHONY: help setup demo test lint ui dashboard bench clean

help:
	@echo "make demo       fresh environment, synthetic deliveries, whole pipeline, a published release"
	@echo "make test       lint and the test suite (what CI runs)"
	@echo "make ui         Dagster UI on http://127.0.0.1:3000"
	@echo "make dashboard  Streamlit dashboard on http://127.0.0.1:8501 (latest release)"
	@echo "make bench      whole pipeline at 10k/100k/1M persons, 24 months: bench/results/, docs/performance.md"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/python -m pipelines.demo --persons $(PERSONS) --months $(MONTHS) --seed $(SEED)
	$(BIN)/python -m dashboards.access demo-user

lint: setup
	$(BIN)/ruff check pipelines dashboards tests

test: setup lint
	bash scripts/ensure_chromium.sh
	$(BIN)/python -m pytest -q tests

ui: setup
	$(BIN)/python -m pipelines.dagster_instance
	INTEGRATION_PSEUDONYM_KEY_FILE=$${INTEGRATION_PSEUDONYM_KEY_FILE:-$(INTEGRATION_DATA_DIR)/keys/pseudonymisation.key} \
		$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

dashboard: setup
	$(BIN)/streamlit run dashboards/app.py --server.address 127.0.0.1 --server.port 8501 --server.headless true \
		--client.toolbarMode viewer --browser.gatherUsageStats false

# Slow (the 1,000,000-person size alone takes a long while): not part of `make test`.
bench: setup
	$(BIN)/python bench/pipeline.py --sizes $(BENCH_SIZES) --months 24 --repeats $(BENCH_REPEATS) --markdown

clean:
	rm -rf data
