"""DuckDB engine: marginals are GROUP BY queries pushed down to DuckDB; the table is never pulled into pandas for
marginal methods. Implements `dpsynth_core.measurement.Engine` (exact, private answers; only PrivateTable calls it).
The `DuckDBDialect` also writes the package's own tables (ledger, caps, metrics) on a DuckDB connection.
"""

from __future__ import annotations

from typing import Sequence

import duckdb
import numpy as np
import pandas as pd

from dpsynth_core.measurement.binning import Binning, CategoricalBinning
from dpsynth_core.measurement.engine import Dialect, SourceColumn, TypeFamily, dense_from_groups
from dpsynth_core.measurement.pandas_engine import hash_threshold

from .base import RelationEngine


class DuckDBDialect(Dialect):
    """DuckDB's SQL: the generic type-family table, double-quoted identifiers, VARCHAR/DOUBLE/BIGINT/BOOLEAN/TIMESTAMP
    for the package's tables."""

    name = "duckdb"


DIALECT = DuckDBDialect()
_quote = DIALECT.quote
_literal = DIALECT.literal


def value_expression(binning: Binning, column_type: str) -> str:
    """SQL for the value a binning reads: the raw column (categorical) or a DOUBLE (numeric; datetimes as epoch s).

    Reads that convert use TRY_CAST: a value that does not convert is read as null instead of failing the query with
    an error that quotes it (a VARCHAR column declared integer reads its non-numeric values as null; documented in
    docs/bad_input.md). Datetimes are epoch seconds in UTC (a TIMESTAMPTZ by its instant, whatever the session zone).
    """
    col = _quote(binning.column)
    family = DIALECT.family(column_type) if column_type else TypeFamily.OTHER
    if isinstance(binning, CategoricalBinning):
        if binning.values and all(isinstance(v, (bool, np.bool_)) for v in binning.values) \
                and family != TypeFamily.BOOLEAN:
            return f"TRY_CAST({col} AS BOOLEAN)"      # kind boolean on a text/integer column
        return col
    if binning.datetime and not family.is_numeric:
        if family == TypeFamily.TIMESTAMP_TZ:
            return f"CAST(epoch({col}) AS DOUBLE)"
        if family in (TypeFamily.DATE, TypeFamily.TIMESTAMP):
            return f"CAST(epoch(CAST({col} AS TIMESTAMP)) AS DOUBLE)"
        return f"CAST(epoch(TRY_CAST({col} AS TIMESTAMP)) AS DOUBLE)"
    number = f"TRY_CAST({col} AS DOUBLE)"
    if binning.fractional:
        return f"({number} - floor({number}))"
    return number


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


class DuckDBEngine(RelationEngine):
    """Engine over a DuckDB relation (what `dbt.ref()` returns in a dbt-duckdb Python model)."""

    dialect = DIALECT
    relation_types = ("duckdb.DuckDBPyRelation",)
    pushdown = True

    @classmethod
    def accepts(cls, relation) -> bool:
        return isinstance(relation, duckdb.DuckDBPyRelation)

    @classmethod
    def from_relation(cls, relation: duckdb.DuckDBPyRelation, relation_name: str,
                      session: duckdb.DuckDBPyConnection | None = None) -> "DuckDBEngine":
        return cls(relation, relation_name, connection=session)

    def __init__(self, relation: duckdb.DuckDBPyRelation, relation_name: str,
                 connection: duckdb.DuckDBPyConnection | None = None):
        self.relation = relation
        self.relation_name = relation_name
        self._connection = connection

    def schema(self) -> list[SourceColumn]:
        pairs = zip(self.relation.columns, self.relation.types, strict=True)
        return [self.dialect.column(str(c), str(t)) for c, t in pairs]

    def _types(self) -> dict[str, str]:
        return {c.name: c.type for c in self.schema()}

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

    def count_values(self, column: str) -> list[tuple[object, int]]:
        col = _quote(column)
        rows = self.relation.filter(f"{col} IS NOT NULL").aggregate(f"{col} AS v, count(*) AS n", col).fetchall()
        return [(v, int(n)) for v, n in rows]

    def fetch_rows(self, columns: Sequence[str]) -> pd.DataFrame:
        return self.relation.project(", ".join(_quote(c) for c in columns)).df()

    def partition_rows(self, fraction: float, salt: bytes) -> tuple["DuckDBEngine", "DuckDBEngine"]:
        """Keyed-hash partition (see `Engine.partition_rows`): `hash(salt, row values, occurrence)` decides each row's
        side, where `occurrence` numbers identical rows 1..m (so copies of a row are split like distinct rows, and
        removing one copy only removes the last number). Both sides are filters on the same relation: nothing is
        materialised."""
        columns = ", ".join(_quote(c) for c in self.relation.columns)
        numbered = self.relation.project(f"*, row_number() OVER (PARTITION BY {columns}) AS __dpsynth_occurrence")
        part = (f"hash({_literal(salt.hex())}, {columns}, __dpsynth_occurrence) < "
                f"{int(hash_threshold(fraction))}::UBIGINT")
        return (DuckDBEngine(numbered.filter(f"NOT ({part})").project(columns), self.relation_name, self._connection),
                DuckDBEngine(numbered.filter(part).project(columns), self.relation_name + " (holdout)",
                             self._connection))
