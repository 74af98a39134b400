"""Reference engine over an in-memory pandas DataFrame (tests, the CLI on small files, evaluation)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .binning import Binning, CategoricalBinning
from .engine import Dialect, Engine, SourceColumn, dense_from_groups


def to_epoch_seconds(series: pd.Series) -> pd.Series:
    """Datetime-like (datetime64, dates, ISO strings) -> float epoch seconds (UTC); nulls stay NaN."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    ts = pd.to_datetime(series, errors="coerce", utc=True)
    out = (ts - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(seconds=1)
    return out.astype(float)


def codes_of(series: pd.Series, binning: Binning) -> np.ndarray:
    """Integer codes of one column under a binning (the code layout documented in binning.py)."""
    isnull = series.isna().to_numpy()
    if isinstance(binning, CategoricalBinning):
        other = binning.other_code if binning.other_code is not None else 0
        if binning.values:
            codes = pd.Index(list(binning.values), dtype=object).get_indexer(series.astype(object)).astype(np.int64)
        else:
            codes = np.full(len(series), -1, dtype=np.int64)
        codes[codes < 0] = other
        codes[isnull] = binning.null_fallback
        return codes
    values = to_epoch_seconds(series) if binning.datetime else pd.to_numeric(series, errors="coerce").astype(float)
    values = values.to_numpy(dtype=float)
    if binning.fractional:
        values = values - np.floor(values)
    isnull = isnull | np.isnan(values)
    codes = binning.codes_for(np.where(isnull, binning.edges[0], values))
    codes[isnull] = binning.null_fallback
    return codes


class PandasDialect(Dialect):
    """pandas dtypes are named with the SQL names `_pandas_type` gives them."""

    name = "pandas"


class PandasEngine(Engine):
    """Reference engine over an in-memory DataFrame (tests, small files, evaluation)."""

    dialect = PandasDialect()

    def __init__(self, frame: pd.DataFrame, relation_name: str = "dataframe"):
        self.frame = frame
        self.relation_name = relation_name

    def schema(self) -> list[SourceColumn]:
        return [self.dialect.column(str(c), _pandas_type(self.frame[c])) for c in self.frame.columns]

    def count_cells(self, binnings: Sequence[Binning]) -> np.ndarray:
        shape = tuple(b.size for b in binnings)
        if not binnings:
            return np.asarray(len(self.frame), dtype=np.int64)
        codes = [codes_of(self.frame[b.column], b) for b in binnings]
        flat = np.ravel_multi_index(codes, shape) if len(codes) > 1 else codes[0]
        return np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape).astype(np.int64)

    def count_values(self, column: str) -> list[tuple[object, int]]:
        vc = self.frame[column].dropna().value_counts(sort=False)
        return [(_plain(v), int(c)) for v, c in vc.items()]

    def fetch_rows(self, columns: Sequence[str]) -> pd.DataFrame:
        return self.frame.loc[:, list(columns)].copy()

    def partition_rows(self, fraction: float, salt: bytes, unit: str | None = None
                       ) -> tuple["PandasEngine", "PandasEngine"]:
        hashes = keyed_row_hash(self.frame, salt) if unit is None else keyed_text_hash(self.frame[[unit]], salt)
        part = hashes < hash_threshold(fraction)
        return (PandasEngine(self.frame.loc[~part].reset_index(drop=True), self.relation_name),
                PandasEngine(self.frame.loc[part].reset_index(drop=True), self.relation_name + " (holdout)"))

    def bound_rows_per_unit(self, unit: str, max_rows: int, salt: bytes) -> "PandasEngine":
        ranked = pd.DataFrame({"unit": self.frame[unit].to_numpy(), "hash": keyed_row_hash(self.frame, salt)})
        ranked = ranked.sort_values("hash", kind="stable")
        rank = ranked.groupby("unit", dropna=False, sort=False).cumcount().sort_index().to_numpy()
        return PandasEngine(self.frame.loc[rank < max_rows].reset_index(drop=True), self.relation_name)


def hash_threshold(fraction: float) -> np.uint64:
    """Rows whose uint64 hash is below this go to the part of size `fraction` (0 <= fraction < 1)."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"partition fraction must be in [0, 1), got {fraction}")
    return np.uint64(int(fraction * 2.0**64))


def keyed_row_hash(frame: pd.DataFrame, salt: bytes) -> np.ndarray:
    """uint64 hash of each row's values and its occurrence number among identical rows (1..m), keyed by `salt`
    (see `keyed_text_hash`). Copies of a row get different hashes, and removing one copy only removes the last
    occurrence number."""
    occurrence = frame.groupby(list(frame.columns), dropna=False, sort=False).cumcount() if len(frame.columns) else \
        pd.Series(np.arange(len(frame)))
    return keyed_text_hash(frame.assign(__dpsynth_occurrence=occurrence.to_numpy()), salt)


def keyed_text_hash(frame: pd.DataFrame, salt: bytes) -> np.ndarray:
    """uint64 hash of each row's values, keyed by `salt`: every value is hashed as text (nulls as one spelling) with
    SipHash under a 16-byte key derived from the salt, and the columns' hashes are combined. (pandas applies its key
    to text only: numbers hashed as numbers would ignore the salt.)"""
    import hashlib

    key = hashlib.blake2b(salt, digest_size=8).hexdigest()   # 16 characters, as pandas wants
    text = frame.astype(object).where(frame.notna(), None).astype(str)
    return pd.util.hash_pandas_object(text, index=False, hash_key=key).to_numpy(dtype=np.uint64)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _pandas_type(series: pd.Series) -> str:
    dt = series.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dt):
        return "BIGINT"
    if pd.api.types.is_float_dtype(dt):
        return "DOUBLE"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "TIMESTAMP"
    return "VARCHAR"  # object columns: the dtype is the public schema; values are never inspected for a type


__all__ = ["PandasDialect", "PandasEngine", "codes_of", "dense_from_groups", "keyed_row_hash", "keyed_text_hash",
           "to_epoch_seconds"]
