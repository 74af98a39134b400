"""Sampling a large synthetic table in independent chunks (post-processing of a fitted model).

A warehouse sampler (a Snowflake UDTF, a Spark `mapInPandas`) gets one row per chunk, `(chunk_id, n_rows, seed,
first_row)`, and draws that chunk from the model state alone, so chunks run in parallel on any worker. Chunk seeds
come from `np.random.SeedSequence(seed).spawn`, so one public seed fixes the whole table; surrogate identifier keys
start at each chunk's `first_row + 1`, so they stay unique across chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..measurement.engine import TypeFamily
from ..preprocessing.domains import TableDomain, surrogate_keys
from ..schema import ColumnKind
from .base import FittedSynthesizer

# logical output types (the keys of `Dialect.sql_types`, plus "date")
LOGICAL_TYPES = ("string", "double", "bigint", "boolean", "timestamp", "date")


@dataclass(frozen=True)
class Chunk:
    """One unit of parallel sampling: `n_rows` rows drawn with `seed`; its surrogate keys start at `first_row + 1`."""

    chunk_id: int
    n_rows: int
    seed: int
    first_row: int


def plan_chunks(n_rows: int, chunk_rows: int, seed: int | None) -> list[Chunk]:
    """Split `n_rows` into chunks of `chunk_rows` (the last one smaller), each with its own 63-bit seed.

    Args:
        n_rows: rows of the whole synthetic table (>= 0).
        chunk_rows: rows per chunk (>= 1); a chunk is sampled in one worker's memory.
        seed: public sampling seed; None draws fresh OS entropy (a different table each call).

    Returns:
        The chunks in order (empty when `n_rows` is 0).
    """
    if n_rows < 0:
        raise ConfigError(f"rows={n_rows} is negative.", fix="ask for rows >= 0.")
    if chunk_rows < 1:
        raise ConfigError(f"chunk_rows={chunk_rows} must be at least 1.", fix="use chunk_rows >= 1 (e.g. 100000).")
    sizes = [chunk_rows] * (n_rows // chunk_rows) + ([n_rows % chunk_rows] if n_rows % chunk_rows else [])
    children = np.random.SeedSequence(seed).spawn(len(sizes))
    # 63 bits: fits a signed BIGINT column in every warehouse
    seeds = [int(child.generate_state(1, np.uint64)[0] >> np.uint64(1)) for child in children]
    firsts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int) if sizes else []
    return [Chunk(i, int(n), s, int(f)) for i, (n, s, f) in enumerate(zip(sizes, seeds, firsts, strict=True))]


def sample_chunk(model: FittedSynthesizer, chunk: Chunk) -> pd.DataFrame:
    """The rows of one chunk: `model.sample(n_rows, seed)` with surrogate keys renumbered from `first_row + 1`."""
    frame = model.sample(chunk.n_rows, seed=chunk.seed)
    for name, family in model.domain.identifiers:
        frame[name] = surrogate_keys(TypeFamily(family), chunk.first_row + 1, chunk.n_rows).to_numpy()
    return frame


def output_types(domain: TableDomain) -> list[tuple[str, str]]:
    """(column, logical type) of a sampled table, in output order; logical types are `LOGICAL_TYPES`.

    Derived from the public domain only (kinds and source type families), never from sampled values.
    """
    types: dict[str, str] = {}
    for column in domain.columns:
        types[column.name] = _logical_type(column.kind, TypeFamily(column.source_family))
    for name, family in domain.identifiers:
        types[name] = "bigint" if TypeFamily(family).is_integer else "string"
    order = domain.column_order or tuple(types)
    return [(name, types[name]) for name in order]


def plain_frame(frame: pd.DataFrame, types: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """A sampled chunk in plain values for a warehouse boundary: columns C0, C1, ... in `types` order, nulls as
    None, timestamps as ISO text "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) and dates as "YYYY-MM-DD" (the warehouse
    converts them back in SQL), so no pandas extension type or timezone rule of a connector is involved."""
    out = {}
    for i, (name, logical) in enumerate(types):
        series = frame[name]
        isnull = series.isna().to_numpy()
        if logical == "timestamp":
            text = pd.to_datetime(series).dt.strftime("%Y-%m-%d %H:%M:%S.%f")
            values = text.astype(object).to_numpy()
        elif logical == "date":
            values = pd.to_datetime(series).dt.strftime("%Y-%m-%d").astype(object).to_numpy()
        elif logical == "bigint":
            values = np.array([int(v) for v in series.fillna(0)], dtype=object) if isnull.any() \
                else series.astype(np.int64).to_numpy()
        elif logical == "double":
            values = series.astype(float).to_numpy()
            values = values.astype(object) if isnull.any() else values
        elif logical == "boolean":
            values = np.array([bool(v) for v in series.fillna(False)], dtype=object) if isnull.any() \
                else series.astype(bool).to_numpy()
        else:
            values = series.astype(object).to_numpy().copy()
            values[~isnull] = [str(v) for v in values[~isnull]]
        if isnull.any():
            values = np.asarray(values, dtype=object)
            values[isnull] = None
        out[f"C{i}"] = values
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _logical_type(kind: ColumnKind, family: TypeFamily) -> str:
    if kind == ColumnKind.INTEGER:
        return "bigint"
    if kind == ColumnKind.CONTINUOUS:
        return "double"
    if kind == ColumnKind.BOOLEAN:
        return "boolean"
    if kind == ColumnKind.DATETIME:
        return "date" if family == TypeFamily.DATE else "timestamp"
    # categorical: values were coerced to the column's family when the domain was resolved
    if family == TypeFamily.BOOLEAN:
        return "boolean"
    if family.is_integer:
        return "bigint"
    if family in (TypeFamily.FLOAT, TypeFamily.DECIMAL):
        return "double"
    return "string"


__all__ = ["Chunk", "LOGICAL_TYPES", "output_types", "plain_frame", "plan_chunks", "sample_chunk"]
