"""Warehouse stores: where the ledger, fitted models and metrics are read and written (`base.WarehouseStore`).

`store_for(session)` picks the implementation by the session's type, like dbt-duckdb's `environments`:

    STORES = {"snowpark": "dbt_dpsynth.stores.snowpark:SnowparkStore", "sql": "dbt_dpsynth.stores.sql:SqlStore"}

A Snowpark `Session` (dbt-snowflake's stored procedure, or local testing mode) gets the DataFrame store; anything
else with `execute` (a DuckDB connection or cursor) gets the SQL store. A store passes through unchanged, so the
bookkeeping functions accept a connection (the CLI, tests) or a store (the dbt glue).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from dpsynth_core.errors import ConfigError

from .base import NOT_NULL, WarehouseStore

STORES = {"snowpark": "dbt_dpsynth.stores.snowpark:SnowparkStore", "sql": "dbt_dpsynth.stores.sql:SqlStore"}


def _store_class(name: str) -> type:
    module, _, cls = STORES[name].partition(":")
    return getattr(import_module(module), cls)


def _kind(session: Any) -> str:
    # by module name: never import snowpark just to say no
    if type(session).__module__.startswith("snowflake.snowpark") and hasattr(session, "create_dataframe"):
        return "snowpark"
    if hasattr(session, "execute"):
        return "sql"
    raise ConfigError(f"dpsynth keeps its ledger on DuckDB or Snowflake; a {type(session).__name__} session has no "
                      "ledger store yet, so nothing was charged.",
                      fix="on Spark/Databricks call dpsynth_core.api.synthesize_table with the Spark engine "
                          "(no ledger; docs/warehouses.md), or run the model on dbt-duckdb or dbt-snowflake.")


def store_for(session: Any) -> WarehouseStore:
    """The store on `session` as it is (a store comes back unchanged)."""
    if isinstance(session, WarehouseStore):
        return session
    return _store_class(_kind(session))(session)


def open_store(session: Any) -> WarehouseStore:
    """A store for one model run: on a DB-API session its own cursor (the ledger's commits stay independent of the
    model's transaction; `close()` closes it), on a Snowpark session the session itself."""
    kind = _kind(session)
    if kind == "sql":
        return _store_class("sql")(session.cursor(), owned=True)
    return _store_class(kind)(session)


__all__ = ["NOT_NULL", "STORES", "WarehouseStore", "open_store", "store_for"]
