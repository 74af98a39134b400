"""DuckDB engine: marginals are GROUP BY queries pushed down to DuckDB; the table is never pulled into pandas for
marginal methods. Implements `dpsynth_core.measurement.Engine` (exact, private answers; only PrivateTable calls it).
The `DuckDBDialect` also writes the package's own tables (ledger, caps, metrics) on a DuckDB connection.
"""

from __future__ import annotations

from typing import Sequence

import uuid

import duckdb
import numpy as np
import pandas as pd

from dpsynth_core.measurement.binning import Binning, CategoricalBinning
from dpsynth_core.measurement.engine import Dialect, SourceColumn, dense_from_groups
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
    """SQL for the value a binning reads: the raw column (categorical) or a DOUBLE (numeric; datetimes as epoch s)."""
    col = _quote(binning.column)
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

    def partition_rows(self, fraction: float, salt: bytes, unit: str | None = None
                       ) -> tuple["DuckDBEngine", "DuckDBEngine"]:
        """Keyed-hash partition (see `Engine.partition_rows`): `hash(salt, row values, occurrence)` decides each row's
        side, where `occurrence` numbers identical rows 1..m (so copies of a row are split like distinct rows, and
        removing one copy only removes the last number); with `unit`, `hash(salt, key)` decides (a unit's rows stay
        together). Both sides are filters on the same relation: nothing is materialised."""
        columns = ", ".join(_quote(c) for c in self.relation.columns)
        threshold = f"{int(hash_threshold(fraction))}::UBIGINT"
        if unit is not None:
            numbered = self.relation
            part = f"hash({_literal(salt.hex())}, {_quote(unit)}) < {threshold}"
        else:
            numbered = self._numbered()
            part = f"hash({_literal(salt.hex())}, {columns}, __dpsynth_occurrence) < {threshold}"
        return (DuckDBEngine(numbered.filter(f"NOT ({part})").project(columns), self.relation_name, self._connection),
                DuckDBEngine(numbered.filter(part).project(columns), self.relation_name + " (holdout)",
                             self._connection))

    def bound_rows_per_unit(self, unit: str, max_rows: int, salt: bytes) -> "DuckDBEngine":
        """At most `max_rows` rows per key (see `Engine.bound_rows_per_unit`): `row_number() OVER (PARTITION BY unit
        ORDER BY hash(h, occurrence)) <= max_rows` with h = hash(salt, row values) and `occurrence` numbering the rows
        that share h (identical rows; numbering by h instead of by every column makes the query ~3x faster), a filter
        on the relation (nothing materialised)."""
        columns = ", ".join(_quote(c) for c in self.relation.columns)
        hashed = self.relation.project(f"*, hash({_literal(salt.hex())}, {columns}) AS __dpsynth_hash")
        numbered = hashed.project("*, row_number() OVER (PARTITION BY __dpsynth_hash) AS __dpsynth_occurrence")
        rank = (f"row_number() OVER (PARTITION BY {_quote(unit)} "
                f"ORDER BY hash(__dpsynth_hash, __dpsynth_occurrence))")
        ranked = numbered.project(f"{columns}, {rank} AS __dpsynth_rank")
        return DuckDBEngine(ranked.filter(f"__dpsynth_rank <= {int(max_rows)}").project(columns), self.relation_name,
                            self._connection)

    def _numbered(self) -> duckdb.DuckDBPyRelation:
        """The relation with `__dpsynth_occurrence`: identical rows numbered 1..m."""
        columns = ", ".join(_quote(c) for c in self.relation.columns)
        return self.relation.project(f"*, row_number() OVER (PARTITION BY {columns}) AS __dpsynth_occurrence")


def write_sample(con: duckdb.DuckDBPyConnection, model, n_rows: int, seed: int | None, table: str,
                 chunk_rows: int = 250_000, column_types: Sequence[tuple[str, str]] | None = None,
                 temporary: bool = True) -> duckdb.DuckDBPyRelation:
    """Sample `n_rows` rows from a fitted model into a DuckDB table, one chunk at a time (post-processing).

    The chunks are `dpsynth_core.generators.chunked.plan_chunks(n_rows, chunk_rows, seed)`, the same as the
    warehouse samplers use, so a seed gives the same table here, in Snowflake and in Spark. At most one chunk is held
    in pandas, so a 10-million-row table never sits in memory as one DataFrame.

    Args:
        con: the connection to write through.
        model: a FittedSynthesizer.
        n_rows: rows to generate.
        seed: public sampling seed (None: fresh OS entropy).
        table: name of the table to (re)create (quoted here).
        chunk_rows: rows sampled per chunk.
        column_types: optional (column, SQL type) casts applied on insert (e.g. the source's exact types).
        temporary: create a TEMP table (the default; the caller materialises it as its model's relation).
    Returns:
        The relation of the new table.
    """
    from dpsynth_core.generators.chunked import plan_chunks, sample_chunk

    casts = dict(column_types or ())
    name = _quote(table)
    created = False
    for chunk in plan_chunks(n_rows, chunk_rows, seed) or [None]:
        frame = sample_chunk(model, chunk) if chunk is not None else model.sample(0, seed)
        view = f"__dpsynth_chunk_{uuid.uuid4().hex[:12]}"
        con.register(view, frame)
        try:
            select = ", ".join(f"CAST({_quote(c)} AS {casts[c]}) AS {_quote(c)}" if c in casts else _quote(c)
                               for c in frame.columns)
            if not created:
                kind = "TEMP TABLE" if temporary else "TABLE"
                con.execute(f"CREATE OR REPLACE {kind} {name} AS SELECT {select} FROM {_quote(view)}")
                created = True
            else:
                con.execute(f"INSERT INTO {name} SELECT {select} FROM {_quote(view)}")
        finally:
            con.unregister(view)
        del frame
    return con.table(table)
