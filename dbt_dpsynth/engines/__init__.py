"""Engine adapters: one module per engine, behind `engine_for(relation, session)`.

Each engine implements `dpsynth_core.measurement.engine.Engine` for one kind of relation object, pushing the work
down to where the data lives, and carries its `Dialect` (quoting, literals, type families, DDL). The registry below
maps an engine name to its class ("module:Class"), imported only when a relation has to be matched, so torch-free,
Spark-free installs never import what they do not have.

Adding an engine touches only its own module and one line of `ENGINES` (or a `register(...)` call from outside):

    class SparkEngine(Engine):
        relation_types = ("pyspark.sql.DataFrame",)          # named in the error for unsupported relations
        pushdown = True                                       # queries run where the data lives

        @classmethod
        def accepts(cls, relation) -> bool:                   # cheap: never import pyspark just to say no
            return type(relation).__module__.startswith("pyspark.")

        @classmethod
        def from_relation(cls, relation, relation_name, session=None) -> "SparkEngine": ...

An engine module whose library is not installed fails to import and is skipped: a relation of that library cannot
exist in this process anyway.
"""

from __future__ import annotations

import importlib
from typing import Any

from dpsynth_core.errors import InputError
from dpsynth_core.measurement.engine import Dialect, Engine

# name -> "module:Class"; tried in this order (the first engine that accepts the relation wins).
ENGINES: dict[str, str] = {
    "duckdb": "dbt_dpsynth.engines.duckdb:DuckDBEngine",
    "pandas": "dbt_dpsynth.engines.pandas:PandasFrameEngine",
    "snowpark": "dbt_dpsynth.engines.snowpark:SnowparkEngine",
    "spark": "dbt_dpsynth.engines.spark:SparkEngine",
}
_LOADED: dict[str, type] = {}


def register(name: str, path: str) -> None:
    """Register (or replace) an engine class by import path "module:Class"; it is tried after the existing ones."""
    ENGINES.pop(name, None)
    ENGINES[name] = path
    _LOADED.pop(name, None)


def engine_class(name: str) -> type:
    """The engine class registered under `name` (imported on first use).

    Raises:
        InputError: no engine of that name is registered.
        ImportError: the engine's module (or its library) cannot be imported.
    """
    if name not in ENGINES:
        raise InputError(f"no engine named {name!r} is registered.", fix=f"use one of {sorted(ENGINES)}.")
    if name not in _LOADED:
        module, _, attr = ENGINES[name].partition(":")
        _LOADED[name] = getattr(importlib.import_module(module), attr)
    return _LOADED[name]


def dialect(name: str) -> Dialect:
    """The `Dialect` of the engine registered under `name` (e.g. the ledger's SQL on a DuckDB connection)."""
    return engine_class(name).dialect


def _importable() -> list[tuple[str, type]]:
    out = []
    for name in list(ENGINES):
        try:
            out.append((name, engine_class(name)))
        except ImportError:   # its library is not installed here: none of its relations can exist either
            continue
    return out


def engine_for(relation: Any, session: Any = None, *, relation_name: str | None = None,
               pushdown_only: bool = False) -> Engine:
    """The engine that reads `relation` (a warehouse relation object, or a pandas DataFrame).

    Args:
        relation: what `dbt.ref()`/`dbt.source()` returns in a Python model (a DuckDB relation on dbt-duckdb), or
            an in-memory pandas DataFrame.
        session: the warehouse session/connection the relation belongs to (dbt's `session`), if the engine needs it.
        relation_name: public name of the relation for messages (default: the relation's alias, else "relation").
        pushdown_only: accept only engines that compute in the warehouse (refuses in-memory DataFrames).

    Returns:
        An `Engine` over the relation.

    Raises:
        InputError: no registered engine accepts this kind of object (the message names the accepted types).
    """
    name = relation_name or str(getattr(relation, "alias", None) or "relation")
    candidates = [(n, cls) for n, cls in _importable() if cls.pushdown or not pushdown_only]
    for _, cls in candidates:
        if cls.accepts(relation):
            return cls.from_relation(relation, name, session)
    accepted = ", ".join(t for _, cls in candidates for t in cls.relation_types)
    raise InputError(f"no engine reads a {type(relation).__module__}.{type(relation).__qualname__}; accepted "
                     f"relation types: {accepted}.", table=name,
                     fix='pass the relation object itself (in a dbt Python model: dbt.ref("<source>") or '
                         "dbt.source(...), not .df() or a pandas frame): marginals are computed in the warehouse.")


__all__ = ["ENGINES", "dialect", "engine_class", "engine_for", "register"]
