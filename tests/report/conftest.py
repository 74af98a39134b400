"""One real release in a DuckDB ledger file, shared by the report tests (built once per session)."""

from __future__ import annotations

import pytest
from report_fixtures import build_ledger


@pytest.fixture(scope="session")
def ledger_db(tmp_path_factory, nass):
    return build_ledger(tmp_path_factory.mktemp("ledger") / "warehouse.duckdb", nass)
