"""DuckDB engine: marginals are GROUP BY queries pushed down to DuckDB; the table is never pulled into pandas for
marginal methods. Implements `dpsynth_core.measurement.Engine` (exact, private answers; only PrivateTable calls it).
"""

from __future__ import annotations

import uuid
from typing import Sequence

import duckdb
import numpy as np
import pandas as pd

from dpsynth_core.measurement.binning import Binning, CategoricalBinning
from dpsynth_core.measurement.engine import dense_from_groups


def quote_ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return "'" + str(value).replace("'", "''") + "'"


def value_expression(binning: Binning, column_type: str) -> str:
    """SQL for the value a binning reads: the raw column (categorical) or a DOUBLE (numeric; datetimes as epoch s)."""
    col = quote_ident(binning.column)
    if isinstance(binning, CategoricalBinning):
        return col
    if binning.datetime:
        t = column_type.upper()
        if not any(t.startswith(p) for p in ("TINYINT", "SMALLINT", "INT", "BIGINT", "DOUBLE", "FLOAT", "DECIMAL")):
            return f"CAST(epoch(CAST({col} AS TIMESTAMP)) AS DOUBLE)"
    if binning.fractional:
        return f"(CAST({col} AS DOUBLE) - floor(CAST({col} AS DOUBLE)))"
    return f"CAST({col} AS DOUBLE)"


def code_expression(binning: Binning, value: str) -> str:
    """SQL computing the binning's code from `value` (see dpsynth_core.measurement.binning for the code layout)."""
    if isinstance(binning, CategoricalBinning):
        other = binning.other_code if binning.other_code is not None else 0
        whens = " ".join(f"WHEN {_literal(v)} THEN {i}" for i, v in enumerate(binning.values))
        return (f"CASE WHEN {value} IS NULL THEN {binning.null_fallback} "
                + (f"ELSE CASE {value} {whens} ELSE {other} END END" if whens else f"ELSE {other} END"))
    inner = binning.edges[1:-1]
    # bin index = number of inner edges <= x (values below/above the bounds clip into the first/last bin)
    code = " + ".join(f"CAST({value} >= {float(e)!r} AS INTEGER)" for e in inner) if inner else "0"
    return f"CASE WHEN {value} IS NULL OR isnan({value}) THEN {binning.null_fallback} ELSE {code} END"


class DuckDBEngine:
    """Engine over a DuckDB relation (what `dbt.ref()` returns in a dbt-duckdb Python model) or a table/view name."""

    def __init__(self, relation: duckdb.DuckDBPyRelation, relation_name: str,
                 connection: duckdb.DuckDBPyConnection | None = None):
        self.relation = relation
        self.relation_name = relation_name
        self._connection = connection

    def schema(self) -> list[tuple[str, str]]:
        return [(str(c), str(t)) for c, t in zip(self.relation.columns, self.relation.types)]

    def _types(self) -> dict[str, str]:
        return dict(self.schema())

    def count_cells(self, binnings: Sequence[Binning]) -> np.ndarray:
        shape = tuple(b.size for b in binnings)
        if not binnings:
            return np.asarray(int(self.relation.aggregate("count(*)").fetchall()[0][0]), dtype=np.int64)
        types = self._types()
        values = ", ".join(f"{value_expression(b, types.get(b.column, ''))} AS v{i}" for i, b in enumerate(binnings))
        codes = ", ".join(f"{code_expression(b, f'v{i}')} AS c{i}" for i, b in enumerate(binnings))
        groups = ", ".join(f"c{i}" for i in range(len(binnings)))
        coded = self.relation.project(values).project(codes)
        result = coded.aggregate(f"{groups}, count(*) AS n", groups).fetchnumpy()
        return dense_from_groups(shape, [result[f"c{i}"] for i in range(len(binnings))], result["n"])

    def value_counts(self, column: str) -> list[tuple[object, int]]:
        col = quote_ident(column)
        rows = self.relation.filter(f"{col} IS NOT NULL").aggregate(f"{col} AS v, count(*) AS n", col).fetchall()
        return [(v, int(n)) for v, n in rows]

    def fetch_rows(self, columns: Sequence[str]) -> pd.DataFrame:
        return self.relation.project(", ".join(quote_ident(c) for c in columns)).df()

    def split(self, holdout_fraction: float, seed: int | None) -> tuple["DuckDBEngine", "DuckDBEngine"]:
        """Materialise a random split once (a temp table with a uniform draw per row), then filter on it."""
        con = self._connection
        if con is None:
            raise RuntimeError("DuckDBEngine.split needs the connection the relation belongs to")
        name = f"__dpsynth_split_{uuid.uuid4().hex[:12]}"
        if seed is not None:
            con.execute("SELECT setseed(?)", [((seed % 2**31) / 2**31) * 2 - 1]).fetchall()
        # a TEMP table: private rows must not outlive the session in the warehouse
        con.execute(f"CREATE TEMP TABLE {name} AS {self.relation.project('*, random() AS __dpsynth_u').sql_query()}")
        base = con.table(name)
        keep = ", ".join(quote_ident(c) for c in self.relation.columns)
        train = base.filter(f"__dpsynth_u >= {float(holdout_fraction)!r}").project(keep)
        holdout = base.filter(f"__dpsynth_u < {float(holdout_fraction)!r}").project(keep)
        return (DuckDBEngine(train, self.relation_name, con),
                DuckDBEngine(holdout, self.relation_name + " (holdout)", con))
