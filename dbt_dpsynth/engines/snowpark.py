"""Snowflake engine over a Snowpark DataFrame (what `dbt.ref()` returns in a dbt-snowflake Python model).

Marginals are pushed down: each binning becomes a `CASE WHEN` column expression, the coded columns are grouped and
counted inside Snowflake, and only the grouped counts (at most one row per cell) reach Python. `fetch_rows` pulls
raw rows of the named columns only; the measurement layer calls it for DP-SGD generators and the (non-DP)
evaluation, never for marginal generators.

`sample_in_snowflake` draws a large synthetic table from a fitted model inside Snowflake: a vectorized UDTF gets one
row per chunk (chunk_id, n_rows, seed, first_row) and returns that chunk's rows, so the chunks run in parallel on the
warehouse and the result is written with `save_as_table`. Sampling is post-processing and reads no source data.

Snowpark is imported lazily: this module imports without it, and `SnowparkEngine.accepts` never imports it.
Snowpark's local testing mode (`Session.builder.config("local_testing", True)`) lacks `SHA2` and `FLOOR`; the engine
registers implementations that follow Snowflake's definitions on a local session (see `_patch_local_testing`).
"""

from __future__ import annotations

import math
import re
import sys
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

import numpy as np
import pandas as pd

from dpsynth_core.generators.base import load_fitted
from dpsynth_core.generators.chunked import output_types, plain_frame, plan_chunks, sample_chunk
from dpsynth_core.measurement.binning import Binning, CategoricalBinning
from dpsynth_core.measurement.engine import Dialect, SourceColumn, TypeFamily, dense_from_groups
from dpsynth_core.measurement.pandas_engine import hash_threshold

from .base import RelationEngine
from dpsynth_core.serialization import as_state_text, model_from_text, state_from_text

if TYPE_CHECKING:  # pragma: no cover
    from snowflake.snowpark import Column, DataFrame, Session

_NUMBER = re.compile(r"^(NUMBER|DECIMAL|NUMERIC|DEC)\s*(\(\s*\d+\s*(,\s*(\d+)\s*)?\))?$")


class SnowparkDialect(Dialect):
    """Snowflake SQL: type names, identifier quoting and literals.

    Unquoted identifiers are stored upper-case; `quote` always quotes, so `quote(name)` names the column whatever its
    case. Inside single-quoted strings Snowflake treats backslash as an escape character, so `literal` escapes it.
    """

    name = "snowflake"
    type_families: ClassVar[tuple[tuple[str, TypeFamily], ...]] = (
        ("BOOLEAN", TypeFamily.BOOLEAN),
        ("NUMBER", TypeFamily.DECIMAL), ("DECIMAL", TypeFamily.DECIMAL), ("NUMERIC", TypeFamily.DECIMAL),
        ("DECFLOAT", TypeFamily.DECIMAL), ("DEC", TypeFamily.DECIMAL),
        ("BIGINT", TypeFamily.INTEGER), ("SMALLINT", TypeFamily.INTEGER), ("TINYINT", TypeFamily.INTEGER),
        ("BYTEINT", TypeFamily.INTEGER), ("INTEGER", TypeFamily.INTEGER), ("INT", TypeFamily.INTEGER),
        ("DOUBLE", TypeFamily.FLOAT), ("FLOAT", TypeFamily.FLOAT), ("REAL", TypeFamily.FLOAT),
        ("VARCHAR", TypeFamily.STRING), ("NVARCHAR", TypeFamily.STRING), ("STRING", TypeFamily.STRING),
        ("TEXT", TypeFamily.STRING), ("NCHAR", TypeFamily.STRING), ("CHAR", TypeFamily.STRING),
        ("TIMESTAMP_NTZ", TypeFamily.TIMESTAMP), ("TIMESTAMPNTZ", TypeFamily.TIMESTAMP),
        ("TIMESTAMP WITHOUT TIME ZONE", TypeFamily.TIMESTAMP),
        ("TIMESTAMP_LTZ", TypeFamily.TIMESTAMP_TZ), ("TIMESTAMPLTZ", TypeFamily.TIMESTAMP_TZ),
        ("TIMESTAMP WITH LOCAL TIME ZONE", TypeFamily.TIMESTAMP_TZ),
        ("TIMESTAMP_TZ", TypeFamily.TIMESTAMP_TZ), ("TIMESTAMPTZ", TypeFamily.TIMESTAMP_TZ),
        ("TIMESTAMP WITH TIME ZONE", TypeFamily.TIMESTAMP_TZ),
        # plain TIMESTAMP / DATETIME follow TIMESTAMP_TYPE_MAPPING, which defaults to TIMESTAMP_NTZ
        ("TIMESTAMP", TypeFamily.TIMESTAMP), ("DATETIME", TypeFamily.TIMESTAMP),
        ("DATE", TypeFamily.DATE), ("TIME", TypeFamily.TIME),
        ("VARBINARY", TypeFamily.BINARY), ("BINARY", TypeFamily.BINARY),
        ("VARIANT", TypeFamily.NESTED), ("OBJECT", TypeFamily.NESTED), ("ARRAY", TypeFamily.NESTED),
        ("MAP", TypeFamily.NESTED), ("VECTOR", TypeFamily.NESTED),
    )
    sql_types: ClassVar[dict[str, str]] = {"string": "VARCHAR", "double": "FLOAT", "bigint": "NUMBER(38,0)",
                                           "boolean": "BOOLEAN", "timestamp": "TIMESTAMP_NTZ"}

    def family(self, type_string: str) -> TypeFamily:
        t = " ".join(str(type_string).strip().upper().split())
        number = _NUMBER.match(t)
        if number and t != "DECFLOAT":  # NUMBER and NUMBER(p) have scale 0 in Snowflake
            return TypeFamily.INTEGER if number.group(4) in (None, "0") else TypeFamily.DECIMAL
        return super().family(t)

    def literal(self, value: Any) -> str:
        if isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
            return "'NaN'::FLOAT" if math.isnan(float(value)) else f"'{'-' if value < 0 else ''}inf'::FLOAT"
        if isinstance(value, str):
            return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
        return super().literal(value)


DIALECT = SnowparkDialect()


def snowflake_type_name(datatype: Any) -> str:
    """The Snowflake SQL name of a Snowpark `DataType` (integers are NUMBER(38,0), floats FLOAT, as DESCRIBE shows)."""
    kind = type(datatype).__name__
    if kind in ("LongType", "IntegerType", "ShortType", "ByteType"):
        return "NUMBER(38,0)"
    if kind == "DecimalType":
        return f"NUMBER({datatype.precision},{datatype.scale})"
    if kind in ("DoubleType", "FloatType"):
        return "FLOAT"
    if kind == "StringType":
        return f"VARCHAR({datatype.length})" if getattr(datatype, "length", None) else "VARCHAR"
    if kind == "TimestampType":
        tz = getattr(getattr(datatype, "tz", None), "value", "default")
        return {"ntz": "TIMESTAMP_NTZ", "ltz": "TIMESTAMP_LTZ", "tz": "TIMESTAMP_TZ"}.get(tz, "TIMESTAMP")
    if kind in ("MapType", "StructType"):
        return "OBJECT"
    simple = {"BooleanType": "BOOLEAN", "DateType": "DATE", "TimeType": "TIME", "BinaryType": "BINARY",
              "VariantType": "VARIANT", "ArrayType": "ARRAY", "GeographyType": "GEOGRAPHY",
              "GeometryType": "GEOMETRY", "DecFloatType": "DECFLOAT"}
    if kind in simple:
        return simple[kind]
    return datatype.simple_string().upper() if hasattr(datatype, "simple_string") else kind.upper()


def unquote(identifier: str) -> str:
    """The stored name of a Snowpark column name ('"name"' -> 'name', 'NAME' -> 'NAME')."""
    if len(identifier) >= 2 and identifier[0] == identifier[-1] == '"':
        return identifier[1:-1].replace('""', '"')
    return identifier


def is_local_testing(session: Any) -> bool:
    """Whether a Snowpark session runs in local testing mode (no Snowflake account behind it)."""
    connection = getattr(session, "_conn", None)
    return type(connection).__module__.startswith("snowflake.snowpark.mock")


class SnowparkEngine(RelationEngine):
    """Engine over a Snowpark DataFrame; every query runs in Snowflake (or in Snowpark's local testing mode).

    Args:
        dataframe: a Snowpark `DataFrame` (e.g. `dbt.ref("src")` or `session.table("db.schema.t")`).
        relation_name: public name used in messages (default: the table name when the frame is a `Table`).
    """

    dialect = DIALECT
    relation_types = ("snowflake.snowpark.DataFrame",)
    pushdown = True

    def __init__(self, dataframe: "DataFrame", relation_name: str | None = None):
        self.dataframe = dataframe
        self.relation_name = relation_name or str(getattr(dataframe, "table_name", None) or "snowpark dataframe")
        session = getattr(dataframe, "session", None) or getattr(dataframe, "_session", None)
        if is_local_testing(session):
            _patch_local_testing()
        self._schema: list[SourceColumn] | None = None

    @classmethod
    def accepts(cls, relation: Any) -> bool:
        """True for a Snowpark DataFrame; never imports Snowpark (no DataFrame exists unless it is imported)."""
        module = sys.modules.get("snowflake.snowpark")
        return module is not None and isinstance(relation, module.DataFrame)

    @classmethod
    def from_relation(cls, relation: "DataFrame", relation_name: str | None = None,
                      session: Any = None) -> "SnowparkEngine":
        return cls(relation, relation_name)

    # ---- public schema ------------------------------------------------------------------------------------------

    def schema(self) -> list[SourceColumn]:
        if self._schema is None:
            self._schema = [self.dialect.column(unquote(f.name), snowflake_type_name(f.datatype))
                            for f in self.dataframe.schema.fields]
        return list(self._schema)

    def _datatypes(self) -> dict[str, Any]:
        return {unquote(f.name): f.datatype for f in self.dataframe.schema.fields}

    def _col(self, name: str) -> "Column":
        from snowflake.snowpark.functions import col

        return col(self.dialect.quote(name))

    # ---- raw-row methods (called only by dpsynth_core.measurement) -----------------------------------------------

    def count_cells(self, binnings: Sequence[Binning]) -> np.ndarray:
        from snowflake.snowpark.functions import count, lit

        shape = tuple(b.size for b in binnings)
        if not binnings:
            return np.asarray(int(self.dataframe.count()), dtype=np.int64)
        families = {c.name: c.family for c in self.schema()}
        datatypes = self._datatypes()
        codes = [self._code(b, families.get(b.column, TypeFamily.OTHER), datatypes.get(b.column)).alias(f"C{i}")
                 for i, b in enumerate(binnings)]
        groups = [f"C{i}" for i in range(len(binnings))]
        counted = self.dataframe.select(*codes).group_by(*groups).agg(count(lit(1)).alias("N"))
        rows = counted.collect()
        if not rows:
            return np.zeros(shape, dtype=np.int64)
        return dense_from_groups(shape, [np.array([r[i] for r in rows], dtype=np.int64) for i in range(len(groups))],
                                 np.array([r[len(groups)] for r in rows], dtype=np.int64))

    def count_values(self, column: str) -> list[tuple[object, int]]:
        from snowflake.snowpark.functions import count, lit

        raw = self._col(column)
        rows = self.dataframe.filter(raw.is_not_null()).group_by(raw).agg(count(lit(1)).alias("N")).collect()
        return [(_plain(r[0]), int(r[1])) for r in rows]

    def fetch_rows(self, columns: Sequence[str]) -> pd.DataFrame:
        frame = self.dataframe.select(*[self._col(c) for c in columns]).to_pandas()
        frame.columns = list(columns)
        return frame

    def partition_rows(self, fraction: float, salt: bytes) -> tuple["SnowparkEngine", "SnowparkEngine"]:
        """Keyed-hash partition (see `Engine.partition_rows`): the first 64 bits of SHA2-256(salt hex, row values as
        text, occurrence) decide each row's side, `occurrence` numbering identical rows 1..m; both sides are filters
        on the same DataFrame, so nothing is materialised.

        The salt travels as a literal in the query text, so it is visible in Snowflake's query history to roles that
        can read it (it only decides which rows the non-DP evaluation holds out)."""
        from snowflake.snowpark import Window
        from snowflake.snowpark.functions import col, concat_ws, lit, lower, row_number, sha2, substring, to_varchar

        threshold = f"{int(hash_threshold(fraction)):016x}"
        datatypes = self._datatypes()
        names = list(datatypes)
        texts = [self._row_text(name, datatypes[name]) for name in datatypes]
        occurrence = row_number().over(Window.partition_by(*[self._col(n) for n in names]).order_by(lit(1)))
        numbered = self.dataframe.with_column("__DPSYNTH_OCCURRENCE", occurrence)
        digest = sha2(concat_ws(lit("\x1f"), lit(salt.hex()), *texts, to_varchar(col("__DPSYNTH_OCCURRENCE"))), 256)
        in_part = lower(substring(digest, 1, 16)) < lit(threshold)
        keep = [self._col(n) for n in names]
        rest = SnowparkEngine(numbered.filter(~in_part).select(*keep), self.relation_name)
        part = SnowparkEngine(numbered.filter(in_part).select(*keep), self.relation_name + " (holdout)")
        return rest, part

    # ---- expressions --------------------------------------------------------------------------------------------

    def _code(self, binning: Binning, family: TypeFamily, datatype: Any) -> "Column":
        """`CASE WHEN` expression of a binning's code (layout of dpsynth_core/measurement/binning.py)."""
        from snowflake.snowpark.functions import lit, when

        raw = self._col(binning.column)
        if isinstance(binning, CategoricalBinning):
            other = binning.other_code if binning.other_code is not None else 0
            expr = when(raw.is_null(), lit(binning.null_fallback))
            for i, v in enumerate(binning.values):
                expr = expr.when(raw == lit(_plain(v)), lit(i))
            return expr.otherwise(lit(other))
        value = self._numeric_value(binning, family, datatype)
        # Snowflake's NaN equals NaN and sorts above every number: send it to the null code explicitly
        # (a TRY_CAST of text that does not convert is null while the raw value is not: test the value too)
        expr = when(raw.is_null() | value.is_null() | (value == lit(float("nan"))), lit(binning.null_fallback))
        inner = binning.edges[1:-1]
        for i, edge in enumerate(inner):   # code = number of inner edges <= value (clipped into the end bins)
            expr = expr.when(value < lit(float(edge)), lit(i))
        return expr.otherwise(lit(len(inner)))

    def _numeric_value(self, binning: Binning, family: TypeFamily, datatype: Any) -> "Column":
        """The DOUBLE a numeric binning reads: the column, epoch seconds (UTC) of a date/timestamp, or x - floor(x)."""
        from snowflake.snowpark.functions import date_part, floor, lit
        from snowflake.snowpark.types import DoubleType, TimestampTimeZone, TimestampType

        raw = self._col(binning.column)
        if binning.datetime and family.is_temporal:
            # nulls are replaced by a value of the same type first (their code is decided on the raw column); local
            # testing mode's DATE_PART fails on nulls. A DATE becomes a TIMESTAMP_NTZ (midnight UTC).
            filled = _null_filled(raw, datatype)
            if family == TypeFamily.DATE:
                filled = filled.cast(TimestampType(TimestampTimeZone.NTZ))
            return date_part("epoch_microsecond", filled) / lit(1e6)
        if family == TypeFamily.STRING:
            # TRY_CAST (Snowflake allows it on text only): text that does not convert is null, never an error
            # quoting the value
            from snowflake.snowpark.functions import try_cast

            if binning.datetime:
                from snowflake.snowpark.types import TimestampTimeZone, TimestampType

                return date_part("epoch_microsecond", try_cast(raw, TimestampType(TimestampTimeZone.NTZ))) / lit(1e6)
            value = try_cast(raw, DoubleType())
        else:
            value = raw.cast(DoubleType())
        if binning.fractional:
            return value - floor(value)
        return value

    def _row_text(self, name: str, datatype: Any) -> "Column":
        """A row value as text for the partition hash: 'n' for null, 'v' + TO_VARCHAR(value) otherwise."""
        from snowflake.snowpark.functions import concat, iff, lit, to_varchar

        raw = self._col(name)
        return iff(raw.is_null(), lit("n"), concat(lit("v"), to_varchar(_null_filled(raw, datatype))))


def _null_filled(raw: "Column", datatype: Any) -> "Column":
    """`raw` with nulls replaced by a constant of the same type (dates and timestamps only; others unchanged)."""
    from snowflake.snowpark.functions import coalesce, lit

    kind = type(datatype).__name__
    if kind == "DateType":
        return coalesce(raw, lit("1970-01-01").cast(datatype))
    if kind == "TimestampType":
        return coalesce(raw, lit("1970-01-01 00:00:00").cast(datatype))
    return raw


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


# --------------------------------------------------------------------------------------------------------------------
# Local testing mode: Snowflake functions the emulator lacks, implemented as Snowflake defines them
# --------------------------------------------------------------------------------------------------------------------

_PATCHED = False


def _patch_local_testing() -> None:
    """Register SHA2 (hex digest of the UTF-8 text, as Snowflake computes it) and FLOOR for local testing mode."""
    global _PATCHED
    if _PATCHED:
        return
    import hashlib

    from snowflake.snowpark.mock import ColumnEmulator, ColumnType, patch
    from snowflake.snowpark.types import DoubleType, StringType

    digests = {224: hashlib.sha224, 256: hashlib.sha256, 384: hashlib.sha384, 512: hashlib.sha512}

    @patch("sha2")
    def _sha2(column, num_bits=256):
        bits = int(num_bits.iloc[0] if isinstance(num_bits, pd.Series) else num_bits) or 256
        digest = digests[bits]
        values = column.apply(lambda v: None if v is None or v is pd.NA else digest(str(v).encode("utf-8")).hexdigest())
        return ColumnEmulator(values, sf_type=ColumnType(StringType(), True))

    @patch("floor")
    def _floor(column, scale=None):
        return ColumnEmulator(np.floor(pd.to_numeric(column, errors="coerce").astype(float)),
                              sf_type=ColumnType(DoubleType(), True))

    _PATCHED = True


# --------------------------------------------------------------------------------------------------------------------
# In-warehouse sampling
# --------------------------------------------------------------------------------------------------------------------

# Anaconda-channel packages the sampling UDTF needs for each generator (dpsynth_core itself travels by `imports`)
UDTF_PACKAGES: dict[str, tuple[str, ...]] = {
    "mst": ("numpy", "pandas", "scipy"), "aim": ("numpy", "pandas", "scipy"), "copula": ("numpy", "pandas", "scipy"),
    "dp-ctgan": ("numpy", "pandas", "scipy", "pytorch"), "dp-tvae": ("numpy", "pandas", "scipy", "pytorch"),
}
_PLAN_COLUMNS = ("CHUNK_ID", "N_ROWS", "SEED", "FIRST_ROW")


def _sampler_class(state_text: str, types: list[tuple[str, str]]) -> type:
    """A UDTF handler class holding the model as text (a plain string travels with the handler; no model pickle)."""

    class DpsynthChunkSampler:
        _state_text = state_text
        _types = types

        def __init__(self):
            self._model = model_from_text(self._state_text)   # np.load(allow_pickle=False) inside

        def end_partition(self, df: pd.DataFrame) -> pd.DataFrame:
            from dpsynth_core.generators.chunked import Chunk

            df.columns = list(_PLAN_COLUMNS)
            frames = [plain_frame(sample_chunk(self._model, Chunk(int(r.CHUNK_ID), int(r.N_ROWS), int(r.SEED),
                                                                 int(r.FIRST_ROW))), self._types)
                      for r in df.itertuples(index=False)]
            if not frames:
                return plain_frame(self._model.sample(0, seed=0), self._types)
            return pd.concat(frames, ignore_index=True)

    DpsynthChunkSampler.end_partition._sf_vectorized_input = pd.DataFrame
    return DpsynthChunkSampler


def sample_in_snowflake(session: "Session", state: Any, n_rows: int, chunk_rows: int = 100_000,
                        seed: int | None = None, *, imports: Sequence[str] | None = None,
                        packages: Sequence[str] | None = None) -> "DataFrame":
    """A synthetic table of `n_rows` rows drawn inside Snowflake by a temporary vectorized UDTF, one chunk per
    partition, in parallel. Write it with `.write.save_as_table(name, mode="overwrite", comment=...)`.

    Args:
        session: the Snowpark session (dbt's `session` in a Python model).
        state: the fitted model (`FittedSynthesizer`), its `(meta, arrays)` state, or `model_to_text(model)`.
        n_rows: rows of the synthetic table.
        chunk_rows: rows per chunk (one UDTF partition; a chunk must fit a warehouse worker's memory).
        seed: public sampling seed; chunk seeds are spawned from it (`np.random.SeedSequence(seed).spawn`).
        imports: stage paths the UDTF imports, e.g. ["@dpsynth_stage/dpsynth_core.zip"] (needed on a real account;
            ignored in local testing mode, where the installed package is used).
        packages: Anaconda-channel packages of the UDTF (default `UDTF_PACKAGES[generator]`).

    Returns:
        A lazy Snowpark DataFrame with the model's columns, in the source's column order and exact names.
    """
    from snowflake.snowpark.functions import col, concat, lit
    from snowflake.snowpark.types import (
        BooleanType,
        DateType,
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
        TimestampTimeZone,
        TimestampType,
    )

    text = as_state_text(state)
    meta, arrays = state_from_text(text)
    model = load_fitted(meta, arrays)
    types = output_types(model.domain)
    chunks = plan_chunks(n_rows, chunk_rows, seed)
    wire_types = {"bigint": LongType(), "double": DoubleType(), "boolean": BooleanType(), "string": StringType(),
                  "timestamp": StringType(), "date": StringType()}
    schema = StructType([StructField(f"C{i}", wire_types[t]) for i, (_, t) in enumerate(types)])
    options: dict[str, Any] = {"packages": list(packages or UDTF_PACKAGES.get(model.generator, ("numpy", "pandas",
                                                                                                "scipy")))}
    if imports and not is_local_testing(session):
        options["imports"] = list(imports)
    udtf = session.udtf.register(_sampler_class(text, types), output_schema=schema,
                                 input_types=[LongType()] * len(_PLAN_COLUMNS),
                                 input_names=[f'"{c}"' for c in _PLAN_COLUMNS], **options)
    plan_schema = StructType([StructField(c, LongType()) for c in _PLAN_COLUMNS])
    rows = [[c.chunk_id, c.n_rows, c.seed, c.first_row] for c in chunks] or [[0, 0, 0, 0]]
    plan = session.create_dataframe(rows, schema=plan_schema)
    drawn = plan.select(udtf(*[col(c) for c in _PLAN_COLUMNS]).over(partition_by="CHUNK_ID"))
    final_types = {"bigint": LongType(), "double": DoubleType(), "boolean": BooleanType(), "string": StringType(),
                   "timestamp": TimestampType(TimestampTimeZone.NTZ), "date": DateType()}

    def typed(i: int, logical: str) -> "Column":
        value = col(f"C{i}")
        if logical in ("timestamp", "date"):
            # CONCAT(text, '') is a no-op on Snowflake; local testing mode leaves a UDTF's output columns untyped, and
            # its text-to-timestamp cast re-infers an untyped column's type for every row (quadratic time)
            value = concat(value, lit(""))
        return value.cast(final_types[logical]).alias(DIALECT.quote(types[i][0]))

    return drawn.select(*[typed(i, t) for i, (_, t) in enumerate(types)])


__all__ = ["DIALECT", "SnowparkDialect", "SnowparkEngine", "UDTF_PACKAGES", "is_local_testing",
           "sample_in_snowflake", "snowflake_type_name", "unquote"]
