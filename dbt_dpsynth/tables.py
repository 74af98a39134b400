"""The package's own warehouse tables (ledger, budget caps history, invocations, fitted models, metrics, evaluation
details), from the one column list both sides read.

The list lives in `dbt_dpsynth/macros/dpsynth_warehouse_tables.sql`, as YAML inside the macro that returns it to dbt
with `fromyaml` (the on-run-start hook renders its DDL from it). This module reads the same YAML from that file,
shipped as package data, and writes the DDL through an engine's `Dialect.create_table_sql`, so the hook and the
Python fallback (CLI, projects without the hooks) cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from dpsynth_core.measurement.engine import Dialect

LOGICAL_TYPES = ("string", "double", "bigint", "boolean", "timestamp")
_SOURCE = "macros/dpsynth_warehouse_tables.sql"
_YAML_BLOCK = re.compile(r"\{%-?\s*set tables_yaml\s*-?%\}(.*?)\{%-?\s*endset\s*-?%\}", re.S)


@dataclass(frozen=True)
class WarehouseTable:
    """One of the package's tables: its default name and (column, logical type) pairs in table order."""

    table: str
    columns: tuple[tuple[str, str], ...]

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.columns]

    def create_sql(self, dialect: Dialect, qualified_name: str) -> str:
        """`CREATE TABLE IF NOT EXISTS qualified_name (...)` in the dialect's SQL types."""
        return dialect.create_table_sql(qualified_name, self.columns)

    def add_columns_sql(self, dialect: Dialect, qualified_name: str, existing: set[str]) -> list[str]:
        """`ALTER TABLE ... ADD COLUMN` for each listed column missing from `existing` (lower-case names): a table an
        older package version created gains the columns this version lists."""
        return [f"ALTER TABLE {qualified_name} ADD COLUMN {dialect.quote(n)} {dialect.sql_types[t]}"
                for n, t in self.columns if n.lower() not in existing]


def parse(text: str) -> dict[str, WarehouseTable]:
    """`{role: WarehouseTable}` from the macro file's text (the YAML between `set tables_yaml` and `endset`)."""
    match = _YAML_BLOCK.search(text)
    if match is None:
        raise ValueError(f"{_SOURCE}: no `set tables_yaml` ... `endset` block")
    out = {}
    for role, spec in yaml.safe_load(match.group(1)).items():
        columns = tuple((str(n), str(t)) for n, t in spec["columns"])
        unknown = sorted({t for _, t in columns} - set(LOGICAL_TYPES))
        if unknown:
            raise ValueError(f"{_SOURCE}: table {role!r} uses unknown logical types {unknown}")
        out[str(role)] = WarehouseTable(str(spec["table"]), columns)
    return out


@lru_cache(maxsize=1)
def warehouse_tables() -> dict[str, WarehouseTable]:
    """The tables of the installed package: keys 'ledger', 'caps', 'invocations', 'models', 'locations', 'approvals'
    (the ledger's schema), 'metrics', 'details' (the private schema) and 'reports'."""
    return parse(resources.files(__package__).joinpath(_SOURCE).read_text(encoding="utf-8"))


LEDGER = warehouse_tables()["ledger"]
CAPS = warehouse_tables()["caps"]
INVOCATIONS = warehouse_tables()["invocations"]
MODELS = warehouse_tables()["models"]
METRICS = warehouse_tables()["metrics"]
DETAILS = warehouse_tables()["details"]
REPORTS = warehouse_tables()["reports"]
LOCATIONS = warehouse_tables()["locations"]
APPROVALS = warehouse_tables()["approvals"]
