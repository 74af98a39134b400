"""DuckDB engine: marginals are GROUP BY queries pushed down to DuckDB; the table is never pulled into pandas for
marginal methods. Implements `dpsynth_core.measurement.Engine` (exact, private answers; only PrivateTable calls it).
The `DuckDBDialect` also writes the package's own tables (ledger, caps, metrics) on a DuckDB connection.
"""

from __future__ import annotations

import uuid
from typing import Mapping, Sequence

import duckdb
import numpy as np
import pandas as pd

from dpsynth_core.measurement.binning import (
    PRECISION_TOLERANCE,
    TEXT_CLASSES,
    Binning,
    CategoricalBinning,
    PrecisionBinning,
    TextClassBinning,
)
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


def _double(x: float) -> str:
    """A DOUBLE literal (a bare 6.6 would be a DECIMAL; equality tests need the exact double)."""
    x = float(x)
    return f"CAST({_literal(repr(x))} AS DOUBLE)" if not np.isfinite(x) else f"CAST({x!r} AS DOUBLE)"


def _matches(text: str, classes: tuple[str, ...]) -> str:
    """SQL: `text` fully matches one of the named text-class patterns (binning.TEXT_CLASSES)."""
    return "(" + " OR ".join(f"regexp_full_match({text}, {_literal(p)})" for name, p in TEXT_CLASSES
                             if name in classes) + ")"


def _as_double(col: str, family: TypeFamily) -> str:
    """SQL for a column read as DOUBLE without ever failing on a value (a failing cast would quote it): text is
    trimmed and parsed only when it matches the integer/decimal text class, as every engine does."""
    if family in (TypeFamily.STRING, TypeFamily.OTHER):
        text = f"trim(CAST({col} AS VARCHAR))"
        return f"(CASE WHEN {_matches(text, ('integer', 'decimal'))} THEN TRY_CAST({text} AS DOUBLE) END)"
    return f"TRY_CAST({col} AS DOUBLE)"


def _as_epoch(col: str, family: TypeFamily) -> str:
    """SQL for a datetime column as epoch seconds (UTC): temporal types directly; text only when it matches the
    date/timestamp text class (an explicit offset is honoured, a naive value is read as UTC)."""
    if family.is_temporal:
        return f"CAST(epoch({col}) AS DOUBLE)"
    if family.is_numeric:
        return f"TRY_CAST({col} AS DOUBLE)"
    text = f"trim(CAST({col} AS VARCHAR))"
    with_offset = f"regexp_matches({text}, '(Z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)$')"
    return (f"(CASE WHEN NOT {_matches(text, ('date', 'timestamp'))} THEN NULL "
            f"WHEN {with_offset} THEN CAST(epoch(TRY_CAST({text} AS TIMESTAMPTZ)) AS DOUBLE) "
            f"ELSE CAST(epoch(TRY_CAST({text} AS TIMESTAMP)) AS DOUBLE) END)")


def value_expression(binning: Binning, column_type: str) -> str:
    """SQL for the value a binning reads: the raw column (categorical), the trimmed text (text classes) or a DOUBLE
    (numeric and numeric-categorical; datetimes as epoch seconds). Never a strict cast: no value can fail a query."""
    col = _quote(binning.column)
    family = DIALECT.family(column_type) if column_type else TypeFamily.OTHER
    if isinstance(binning, TextClassBinning):
        return f"trim(CAST({col} AS VARCHAR))"
    if isinstance(binning, PrecisionBinning):
        return _as_double(col, family)
    if isinstance(binning, CategoricalBinning):
        return _as_double(col, family) if binning.numeric else col
    if binning.datetime:
        return _as_epoch(col, family)
    value = _as_double(col, family)
    if binning.fractional:
        return f"({value} - floor({value}))"
    return value


def code_expression(binning: Binning, value: str) -> str:
    """SQL computing the binning's code from `value` (see dpsynth_core.measurement.binning for the code layout)."""
    if isinstance(binning, TextClassBinning):
        whens = " ".join(
            f"WHEN regexp_full_match({'lower(' + value + ')' if name == 'boolean' else value}, {_literal(p)}) THEN {k}"
            for k, (name, p) in enumerate(TEXT_CLASSES))
        return f"CASE WHEN {value} IS NULL THEN {binning.null_code} {whens} ELSE {binning.other_code} END"
    if isinstance(binning, PrecisionBinning):
        scaled = [value if k == 0 else f"({value} * {float(10 ** k)!r})" for k in range(binning.max_decimals + 1)]
        whens = " ".join(f"WHEN abs({v} - round({v})) <= {PRECISION_TOLERANCE!r} * greatest(1.0, abs({v})) THEN {k}"
                         for k, v in enumerate(scaled))
        return (f"CASE WHEN {value} IS NULL OR isnan({value}) THEN {binning.null_code} "
                f"WHEN isinf({value}) THEN {binning.more_code} {whens} ELSE {binning.more_code} END")
    if isinstance(binning, CategoricalBinning):
        other = binning.other_code if binning.other_code is not None else 0
        literal = _double if binning.numeric else _literal
        whens = " ".join(f"WHEN {literal(v)} THEN {i}" for i, v in enumerate(binning.values))
        is_null = f"{value} IS NULL OR isnan({value})" if binning.numeric else f"{value} IS NULL"
        return (f"CASE WHEN {is_null} THEN {binning.null_fallback} "
                + (f"ELSE CASE {value} {whens} ELSE {other} END END" if whens else f"ELSE {other} END"))
    # bin code = base + weighted count of inner edges <= x (values below/above the bounds clip into the end bins);
    # an atom (exact value) takes its own code first
    base, steps = binning.bin_code_steps()
    terms = [f"{step} * CAST({value} >= {float(e)!r} AS INTEGER)"
             for e, step in zip(binning.edges[1:-1], steps, strict=True)]
    code = " + ".join([str(base)] + terms)
    _, atom_codes = binning.cell_codes()
    atoms = " ".join(f"WHEN {value} = {_double(a)} THEN {c}" for a, c in zip(binning.atoms, atom_codes, strict=True))
    return f"CASE WHEN {value} IS NULL OR isnan({value}) THEN {binning.null_fallback} {atoms} ELSE {code} END"


class DuckDBEngine(RelationEngine):
    """Engine over a DuckDB relation (what `dbt.ref()` returns in a dbt-duckdb Python model)."""

    dialect = DIALECT
    relation_types = ("duckdb.DuckDBPyRelation",)
    pushdown = True

    @classmethod
    def accepts(cls, relation) -> bool:
        return isinstance(relation, duckdb.DuckDBPyRelation)

    def model_output(self, session, frame: pd.DataFrame, domain, decided_kinds: bool = False):
        """A relation of `session` casting `frame` to the source's DuckDB types (`source_casts`): dbt-duckdb
        materialises a returned relation through the same connection."""
        if not isinstance(session, duckdb.DuckDBPyConnection):
            return frame
        return typed_relation(session, frame, source_casts(domain, decided_kinds),
                              f"__dpsynth_output_{uuid.uuid4().hex[:12]}")

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

    def count_values(self, column: str, min_count: int = 1, numeric: bool = False) -> list[tuple[object, int]]:
        col = _quote(column)
        value = _as_double(col, self.dialect.family(self._types().get(column, ""))) if numeric else col
        present = "v IS NOT NULL AND NOT isnan(v)" if numeric else "v IS NOT NULL"
        counts = self.relation.project(f"{value} AS v").filter(present).aggregate("v, count(*) AS n", "v")
        if min_count > 1:
            counts = counts.filter(f"n >= {int(min_count)}")
        return [(v, int(n)) for v, n in counts.fetchall()]

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


_UNCASTABLE = (TypeFamily.NESTED, TypeFamily.BINARY, TypeFamily.OTHER)   # surrogate keys stay text


def source_casts(domain, decided_kinds: bool = False) -> dict[str, str]:
    """{column: the source's DuckDB type} for every output column whose source type a synthetic value can take (public:
    the relation's schema, `TableDomain.source_types`), so the synthetic table has the source's exact types (INTEGER,
    DECIMAL(10,2), DATE ...) rather than the ones pandas would give it (BIGINT, DOUBLE, TIMESTAMP).

    `decided_kinds=True` leaves out the text columns whose kind a DP decision changed (`infer_text_kinds`): they keep
    the decided kind's type (a CSV's integer column written to Parquet as integers)."""
    families = {name: t["value_family"] for name, t in domain.output_types().items()}
    return {name: type_ for name, type_, family in domain.source_types
            if type_ and TypeFamily(family) not in _UNCASTABLE
            and not (decided_kinds and families.get(name, family) != family)}


def _cast_list(columns, casts: Mapping[str, str]) -> str:
    """SELECT list casting the named columns (TRY_CAST: post-processing of synthetic values; one the type cannot
    hold, such as a DP bound past a TINYINT's range, becomes null instead of failing a charged release)."""
    return ", ".join(f"TRY_CAST({_quote(c)} AS {casts[c]}) AS {_quote(c)}" if c in casts else _quote(c)
                     for c in columns)


def typed_relation(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, casts: Mapping[str, str],
                   name: str) -> duckdb.DuckDBPyRelation:
    """`frame` as a relation of `con` with `casts` applied (registered as view `name`, which lives as long as the
    connection: dbt-duckdb materialises a returned relation through the same connection)."""
    con.register(name, frame)
    return con.sql(f"SELECT {_cast_list(frame.columns, casts)} FROM {_quote(name)}")


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
        column_types: optional (column, SQL type) casts applied on insert (e.g. `source_casts(model.domain)`; a value
            the type cannot hold becomes null).
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
            select = _cast_list(frame.columns, casts)
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
