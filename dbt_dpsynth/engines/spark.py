"""Spark engine over a PySpark DataFrame (Databricks, a Spark cluster, or pyspark in local mode).

Marginals are pushed down: each binning becomes a `CASE WHEN` column expression, the coded columns are grouped and
counted by Spark, and only the grouped counts (at most one row per cell) reach the driver's Python. `fetch_rows`
pulls raw rows of the named columns only (DP-SGD generators and the non-DP evaluation).

`sample_in_spark` draws a large synthetic table from a fitted model with `mapInPandas`: one partition per chunk
(chunk_id, n_rows, seed, first_row), each drawn on an executor from the model state alone.

PySpark is imported lazily: this module imports without it, and `SparkEngine.accepts` never imports it.
"""

from __future__ import annotations

import math
import sys
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

import numpy as np
import pandas as pd

from dpsynth_core.generators.base import load_fitted
from dpsynth_core.generators.chunked import Chunk, output_types, plan_chunks, sample_chunk
from dpsynth_core.measurement.binning import Binning, CategoricalBinning
from dpsynth_core.measurement.engine import Dialect, SourceColumn, TypeFamily, dense_from_groups
from dpsynth_core.measurement.pandas_engine import hash_threshold

from .base import RelationEngine
from dpsynth_core.serialization import as_state_text, model_from_text, state_from_text

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import Column, DataFrame, SparkSession


class SparkDialect(Dialect):
    """Spark SQL: type names (`DataType.simpleString()`), backtick quoting, backslash-escaped string literals.

    Spark's TIMESTAMP is an instant (TIMESTAMP_LTZ semantics), so it belongs to the `timestamp_tz` family;
    TIMESTAMP_NTZ is a wall-clock timestamp.
    """

    name = "spark"
    type_families: ClassVar[tuple[tuple[str, TypeFamily], ...]] = (
        ("BOOLEAN", TypeFamily.BOOLEAN),
        ("INTERVAL", TypeFamily.OTHER),   # before INT, which is its prefix
        ("TINYINT", TypeFamily.INTEGER), ("SMALLINT", TypeFamily.INTEGER), ("BIGINT", TypeFamily.INTEGER),
        ("INTEGER", TypeFamily.INTEGER), ("INT", TypeFamily.INTEGER), ("LONG", TypeFamily.INTEGER),
        ("SHORT", TypeFamily.INTEGER), ("BYTE", TypeFamily.INTEGER),
        ("DOUBLE", TypeFamily.FLOAT), ("FLOAT", TypeFamily.FLOAT), ("REAL", TypeFamily.FLOAT),
        ("DECIMAL", TypeFamily.DECIMAL), ("NUMERIC", TypeFamily.DECIMAL), ("DEC", TypeFamily.DECIMAL),
        ("TIMESTAMP_NTZ", TypeFamily.TIMESTAMP), ("TIMESTAMP_LTZ", TypeFamily.TIMESTAMP_TZ),
        ("TIMESTAMP", TypeFamily.TIMESTAMP_TZ), ("DATE", TypeFamily.DATE),
        ("STRING", TypeFamily.STRING), ("VARCHAR", TypeFamily.STRING), ("CHAR", TypeFamily.STRING),
        ("BINARY", TypeFamily.BINARY),
        ("ARRAY", TypeFamily.NESTED), ("MAP", TypeFamily.NESTED), ("STRUCT", TypeFamily.NESTED),
        ("VARIANT", TypeFamily.NESTED),
    )
    sql_types: ClassVar[dict[str, str]] = {"string": "STRING", "double": "DOUBLE", "bigint": "BIGINT",
                                           "boolean": "BOOLEAN", "timestamp": "TIMESTAMP"}

    def quote(self, identifier: str) -> str:
        """A backtick-quoted identifier; embedded backticks are doubled."""
        return "`" + str(identifier).replace("`", "``") + "`"

    def literal(self, value: Any) -> str:
        if isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
            return "CAST('NaN' AS DOUBLE)" if math.isnan(float(value)) else \
                f"CAST('{'-' if value < 0 else ''}Infinity' AS DOUBLE)"
        if isinstance(value, str):   # Spark concatenates adjacent literals ('a''b' is 'ab'): escape with backslash
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return super().literal(value)


DIALECT = SparkDialect()


class SparkEngine(RelationEngine):
    """Engine over a PySpark DataFrame (classic or Spark Connect); every query runs in Spark.

    Args:
        dataframe: a `pyspark.sql.DataFrame` (e.g. `spark.table("catalog.schema.t")`).
        relation_name: public name used in messages.
    """

    dialect = DIALECT
    relation_types = ("pyspark.sql.DataFrame",)
    pushdown = True

    def __init__(self, dataframe: "DataFrame", relation_name: str = "spark dataframe"):
        self.dataframe = dataframe
        self.relation_name = relation_name
        self._schema: list[SourceColumn] | None = None

    @classmethod
    def accepts(cls, relation: Any) -> bool:
        """True for a PySpark DataFrame (classic or Spark Connect); never imports PySpark."""
        types = [getattr(sys.modules.get(m), "DataFrame", None)
                 for m in ("pyspark.sql", "pyspark.sql.dataframe", "pyspark.sql.connect.dataframe")]
        return any(t is not None and isinstance(relation, t) for t in types)

    @classmethod
    def from_relation(cls, relation: "DataFrame", relation_name: str | None = None,
                      session: Any = None) -> "SparkEngine":
        return cls(relation, relation_name or "spark dataframe")

    # ---- public schema ------------------------------------------------------------------------------------------

    def schema(self) -> list[SourceColumn]:
        if self._schema is None:
            self._schema = [self.dialect.column(f.name, f.dataType.simpleString().upper())
                            for f in self.dataframe.schema.fields]
        return list(self._schema)

    def _col(self, name: str) -> "Column":
        from pyspark.sql import functions as F

        return F.col(self.dialect.quote(name))

    # ---- raw-row methods (called only by dpsynth_core.measurement) -----------------------------------------------

    def count_cells(self, binnings: Sequence[Binning]) -> np.ndarray:
        shape = tuple(b.size for b in binnings)
        if not binnings:
            return np.asarray(int(self.dataframe.count()), dtype=np.int64)
        families = {c.name: c.family for c in self.schema()}
        codes = [self._code(b, families.get(b.column, TypeFamily.OTHER)).alias(f"c{i}") for i, b in enumerate(binnings)]
        groups = [f"c{i}" for i in range(len(binnings))]
        rows = self.dataframe.select(*codes).groupBy(*groups).count().collect()
        if not rows:
            return np.zeros(shape, dtype=np.int64)
        return dense_from_groups(shape, [np.array([r[i] for r in rows], dtype=np.int64) for i in range(len(groups))],
                                 np.array([r[len(groups)] for r in rows], dtype=np.int64))

    def count_values(self, column: str) -> list[tuple[object, int]]:
        raw = self._col(column)
        rows = self.dataframe.filter(raw.isNotNull()).groupBy(raw.alias("v")).count().collect()
        return [(r[0], int(r[1])) for r in rows]

    def fetch_rows(self, columns: Sequence[str]) -> pd.DataFrame:
        frame = self.dataframe.select(*[self._col(c) for c in columns]).toPandas()
        frame.columns = list(columns)
        return frame

    def partition_rows(self, fraction: float, salt: bytes) -> tuple["SparkEngine", "SparkEngine"]:
        """Keyed-hash partition (see `Engine.partition_rows`): `xxhash64(salt hex, row values, occurrence)`, read as
        an unsigned 64-bit number, decides each row's side (`occurrence` numbers identical rows 1..m); both sides are
        filters on the same DataFrame (nothing materialised)."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        threshold = int(hash_threshold(fraction))
        fields = list(self.dataframe.schema.fields)
        values = [self._hashable(f) for f in fields]
        occurrence = F.row_number().over(Window.partitionBy(*values).orderBy(F.lit(1)))
        numbered = self.dataframe.withColumn("__dpsynth_occurrence", occurrence)
        h = F.xxhash64(F.lit(salt.hex()), *values, F.col("__dpsynth_occurrence"))   # signed: h < 0 is h + 2^64
        if threshold <= 2**63:
            in_part = (h >= F.lit(0)) & (h < F.lit(threshold)) if threshold < 2**63 else h >= F.lit(0)
        else:
            in_part = (h >= F.lit(0)) | (h < F.lit(threshold - 2**64))
        keep = [self._col(f.name) for f in fields]
        return (SparkEngine(numbered.filter(~in_part).select(*keep), self.relation_name),
                SparkEngine(numbered.filter(in_part).select(*keep), self.relation_name + " (holdout)"))

    # ---- expressions --------------------------------------------------------------------------------------------

    def _hashable(self, field: Any) -> "Column":
        from pyspark.sql import functions as F

        raw = self._col(field.name)
        # Spark refuses to hash maps; their JSON text stands for them
        return F.to_json(raw) if type(field.dataType).__name__ == "MapType" else raw

    def _code(self, binning: Binning, family: TypeFamily) -> "Column":
        """`CASE WHEN` expression of a binning's code (layout of dpsynth_core/measurement/binning.py)."""
        from pyspark.sql import functions as F

        raw = self._col(binning.column)
        if isinstance(binning, CategoricalBinning):
            other = binning.other_code if binning.other_code is not None else 0
            expr = F.when(raw.isNull(), F.lit(binning.null_fallback))
            for i, v in enumerate(binning.values):
                expr = expr.when(raw == F.lit(_plain(v)), F.lit(i))
            return expr.otherwise(F.lit(other))
        value = self._numeric_value(binning, family)
        # Spark's NaN equals NaN and sorts above every number: send it to the null code explicitly
        # (a try_cast of text that does not convert is null while the raw value is not: test the value too)
        expr = F.when(raw.isNull() | value.isNull() | F.isnan(value), F.lit(binning.null_fallback))
        inner = binning.edges[1:-1]
        for i, edge in enumerate(inner):   # code = number of inner edges <= value (clipped into the end bins)
            expr = expr.when(value < F.lit(float(edge)), F.lit(i))
        return expr.otherwise(F.lit(len(inner)))

    def _numeric_value(self, binning: Binning, family: TypeFamily) -> "Column":
        """The DOUBLE a numeric binning reads: the column, epoch seconds (UTC) of a date/timestamp, or x - floor(x)."""
        from pyspark.sql import functions as F

        raw = self._col(binning.column)
        if binning.datetime and family.is_temporal:
            if family == TypeFamily.DATE:
                return (F.unix_date(raw) * F.lit(86400)).cast("double")
            if family == TypeFamily.TIMESTAMP:   # TIMESTAMP_NTZ: wall clock read as UTC, whatever the session zone
                micros = F.expr("timestampdiff(MICROSECOND, TIMESTAMP_NTZ'1970-01-01 00:00:00', "
                                f"{self.dialect.quote(binning.column)})")
            else:
                micros = F.unix_micros(raw)
            return micros.cast("double") / F.lit(1e6)
        if family == TypeFamily.STRING:
            # TRY_CAST semantics: text that does not convert is null, never an ANSI-mode error quoting the value
            if binning.datetime:
                return F.unix_micros(raw.try_cast("timestamp")).cast("double") / F.lit(1e6)
            value = raw.try_cast("double")
        else:
            value = raw.cast("double")
        if binning.fractional:
            # pmod(x, 1) = x - floor(x) (NaN for +-inf); FLOOR returns BIGINT and overflows in ANSI mode
            return F.pmod(value, F.lit(1.0))
        return value


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


# --------------------------------------------------------------------------------------------------------------------
# In-warehouse sampling
# --------------------------------------------------------------------------------------------------------------------

_SPARK_TYPES = {"bigint": "bigint", "double": "double", "boolean": "boolean", "string": "string",
                "timestamp": "timestamp_ntz", "date": "date"}
_PLAN_COLUMNS = ("chunk_id", "n_rows", "seed", "first_row")


def sample_in_spark(spark: "SparkSession", state: Any, n_rows: int, chunk_rows: int = 100_000,
                    seed: int | None = None) -> "DataFrame":
    """A synthetic table of `n_rows` rows drawn by `mapInPandas`, one chunk per partition, in parallel.

    Args:
        spark: the SparkSession.
        state: the fitted model (`FittedSynthesizer`), its `(meta, arrays)` state, or `model_to_text(model)`.
        n_rows: rows of the synthetic table.
        chunk_rows: rows per chunk (one partition; a chunk must fit an executor's Python worker memory).
        seed: public sampling seed; chunk seeds are spawned from it (`np.random.SeedSequence(seed).spawn`).

    Returns:
        A lazy DataFrame with the model's columns in the source's order and names; timestamps are TIMESTAMP_NTZ
        (UTC wall clock, independent of the session time zone).
    """
    from pyspark.sql import functions as F

    text = as_state_text(state)
    model = load_fitted(*state_from_text(text))
    types = output_types(model.domain)
    chunks = plan_chunks(n_rows, chunk_rows, seed) or [Chunk(0, 0, 0, 0)]
    # spark.range with one partition per id: exactly one chunk per partition, on classic Spark and Spark Connect
    plan = spark.range(0, len(chunks), 1, numPartitions=len(chunks)).select(
        F.col("id").alias("chunk_id"),
        *[F.element_at(F.array(*[F.lit(getattr(c, name)) for c in chunks]), F.col("id").cast("int") + 1)
          .cast("bigint").alias(name) for name in _PLAN_COLUMNS[1:]])
    schema = ", ".join(f"{DIALECT.quote(name)} {_SPARK_TYPES[t]}" for name, t in types)
    return plan.mapInPandas(_chunk_sampler(text, types), schema)


def _chunk_sampler(state_text: str, types: list[tuple[str, str]]):
    """The `mapInPandas` function: plan batches in, sampled chunks out (the model travels as text, not pickle)."""
    names = [name for name, _ in types]

    def sample_partition(batches):
        model = model_from_text(state_text)   # np.load(allow_pickle=False) inside
        for batch in batches:
            for row in batch.itertuples(index=False):
                frame = sample_chunk(model, Chunk(int(row.chunk_id), int(row.n_rows), int(row.seed),
                                                  int(row.first_row)))
                yield _typed(frame[names], types)

    return sample_partition


def _typed(frame: pd.DataFrame, types: list[tuple[str, str]]) -> pd.DataFrame:
    """A sampled chunk with dtypes Arrow maps onto the Spark schema (dates as `datetime.date`, naive timestamps)."""
    out = {}
    for name, logical in types:
        series = frame[name]
        if logical == "date":
            ts = pd.to_datetime(series)
            out[name] = pd.Series([None if pd.isna(v) else v.date() for v in ts], dtype=object)
        elif logical == "timestamp":
            out[name] = pd.to_datetime(series).dt.floor("us")   # Spark keeps microseconds
        elif logical == "bigint":
            out[name] = series.astype("Int64")
        elif logical == "double":
            out[name] = series.astype(float)
        elif logical == "boolean":
            out[name] = series.astype("boolean")
        else:
            out[name] = series.astype(object).where(series.notna(), None).map(lambda v: v if v is None else str(v))
    return pd.DataFrame(out)


__all__ = ["DIALECT", "SparkDialect", "SparkEngine", "sample_in_spark"]
