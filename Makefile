# dbt-dpsynth: two commands for a newcomer — `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(abspath $(VENV))/bin
STAMP  := $(VENV)/.installed
IT     := integration_tests
DBT    := cd $(IT) && $(BIN)/dbt

# The integration profile reads DPSYNTH_DUCKDB_PATH. Unset: the demo and the test build each start from a fresh
# file under integration_tests/. Set: that file is used and kept; a rerun with unchanged settings reuses every stored
# release and spends no epsilon (`make integration` checks exactly that by running `make demo` twice on one file).
ifdef DPSYNTH_DUCKDB_PATH
DEMO_DB := $(abspath $(DPSYNTH_DUCKDB_PATH))
TEST_DB := $(DEMO_DB)
FRESH    = @echo "dpsynth: using $(1) (set by DPSYNTH_DUCKDB_PATH; kept)"
else
DEMO_DB := $(abspath $(IT))/dpsynth_demo.duckdb
TEST_DB := $(abspath $(IT))/dpsynth_test.duckdb
FRESH    = rm -f "$(1)" "$(1).wal"
endif

.PHONY: venv demo test unit integration lint bench audit clean

venv: $(STAMP)

# torch is pinned first so pip takes the CPU wheel instead of a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

# Build the integration dbt project on a fresh DuckDB file, then show where everything landed: the ledger, and the
# release reports the models wrote (integration_tests/target/demo/dpsynth/, one HTML/JSON/Markdown set per release).
demo: venv
	$(call FRESH,$(DEMO_DB))
	$(DBT) deps --profiles-dir . --quiet
	cd $(IT) && DPSYNTH_DUCKDB_PATH="$(DEMO_DB)" $(BIN)/dbt build --profiles-dir . --target-path target/demo
	$(BIN)/dpsynth ledger "$(DEMO_DB)"
	$(BIN)/dpsynth report "$(DEMO_DB)" --written

# pytest exits 5 when it collects no tests: not a failure here.
unit: venv
	$(BIN)/python -m pytest -q tests || [ $$? -eq 5 ]

# `make demo` twice on one file (seed + synthetic models + dbt tests; the second run must reuse every release and
# charge nothing), then the gate demo.
integration: venv
	$(call FRESH,$(TEST_DB))
	$(MAKE) --no-print-directory demo DPSYNTH_DUCKDB_PATH="$(TEST_DB)"
	$(MAKE) --no-print-directory demo DPSYNTH_DUCKDB_PATH="$(TEST_DB)"
	$(BIN)/python $(IT)/check_reuse.py $(IT)/target/demo/run_results.json "$(TEST_DB)"
	# release reports, dbt docs (catalog.json/manifest.json) and budget status against the ledger
	cd $(IT) && DPSYNTH_DUCKDB_PATH="$(TEST_DB)" $(BIN)/dbt docs generate --profiles-dir . --target-path target/docs \
		--quiet
	$(BIN)/python $(IT)/check_evidence.py $(IT)/target/demo/run_results.json "$(TEST_DB)" $(IT)/target/docs \
		$(BIN)/dpsynth
	# the failure path of a gate (kept a warning by severity warn) and the governance demo (a budget window refuses a
	# model, a released model waits for approval: this invocation fails on purpose), in one dbt invocation
	cd $(IT) && DPSYNTH_DUCKDB_PATH="$(TEST_DB)" $(BIN)/dbt build --profiles-dir . --target-path target/gate_demo \
		--selector demos; test $$? -eq 1
	$(BIN)/python $(IT)/check_gate_demo.py $(IT)/target/gate_demo/run_results.json
	# approve the candidate's release in the warehouse, then the next build publishes it (reused: no new charge)
	RID=$$($(BIN)/python $(IT)/check_governance_demo.py pending $(IT)/target/gate_demo/run_results.json \
		"$(TEST_DB)") && cd $(IT) && DPSYNTH_DUCKDB_PATH="$(TEST_DB)" $(BIN)/dbt run-operation --profiles-dir . \
		--target-path target/governance dpsynth_approve --args "{release_id: $$RID, by: make-integration}"
	cd $(IT) && DPSYNTH_DUCKDB_PATH="$(TEST_DB)" $(BIN)/dbt build --profiles-dir . --target-path target/governance \
		--selector governance_publish
	$(BIN)/python $(IT)/check_governance_demo.py published $(IT)/target/governance/run_results.json "$(TEST_DB)"

# ruff first (issue 9: lint is part of `make test`), then pytest, then the dbt builds.
test: lint unit integration

# ruff (pyflakes, pycodestyle, isort order, bugbear; settings in pyproject.toml)
lint: venv
	$(BIN)/ruff check .

# The benchmark (bench/run.py; docs/benchmarks.md). The other scripts in bench/ (timing of one deep release, of one
# evaluation, width, gate calibration) run by hand: bench/README.md lists them.
bench: venv
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Full-size empirical privacy audit (about 30 CPU-minutes): prints its tables and rewrites the figures block of
# docs/privacy_audit.md. AUDIT_ARGS="--scale 0.4" runs the same plan with fewer runs, "--jobs 2" two processes.
# The CI-size version is `pytest tests/audit` (part of `make unit`).
audit: venv
	$(BIN)/python tests/audit/full_audit.py $(AUDIT_ARGS)

clean:
	rm -rf $(VENV) $(IT)/target $(IT)/dbt_packages $(IT)/logs $(IT)/*.duckdb $(IT)/*.duckdb.wal
