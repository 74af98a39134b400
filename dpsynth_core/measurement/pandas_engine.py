"""Reference engine over an in-memory pandas DataFrame (tests, the CLI on small files, evaluation)."""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import pandas as pd

from .binning import PRECISION_TOLERANCE, TEXT_CLASSES, Binning, CategoricalBinning, PrecisionBinning, TextClassBinning
from .engine import Dialect, Engine, SourceColumn, dense_from_groups


def _is_text(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series)


def _trimmed(series: pd.Series) -> pd.Series:
    return series.map(lambda v: v.strip() if isinstance(v, str) else v)


def _matching(text: pd.Series, classes: Sequence[str]) -> np.ndarray:
    """Rows whose (string) value fully matches one of the named `TEXT_CLASSES` patterns."""
    patterns = [re.compile(p) for name, p in TEXT_CLASSES if name in classes]
    return np.fromiter((isinstance(v, str) and any(p.fullmatch(v) for p in patterns) for v in text), bool,
                       count=len(text))


def to_epoch_seconds(series: pd.Series) -> pd.Series:
    """Datetime-like (datetime64, dates, ISO strings) -> float epoch seconds (UTC); nulls NaN. Text is parsed only
    when it matches the `date` or `timestamp` text class (binning.py), so every engine reads the same values."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    if _is_text(series):
        text = _trimmed(series)
        is_string = text.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        keep = _matching(text, ("date", "timestamp")) | ~is_string
        series = text.where(keep, None)
        ts = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    else:
        ts = pd.to_datetime(series, errors="coerce", utc=True)
    out = (ts - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(seconds=1)
    return pd.Series(np.asarray(out, dtype=float), index=series.index)


def to_numbers(series: pd.Series) -> pd.Series:
    """The column read as float, as every engine reads it: numbers as they are, booleans 0/1, text trimmed and parsed
    only when it matches the `integer` or `decimal` text class (binning.py); anything else NaN."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    if _is_text(series):
        text = _trimmed(series)
        is_string = text.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        keep = _matching(text, ("integer", "decimal")) | ~is_string
        return pd.to_numeric(text.where(keep, None), errors="coerce").astype(float)
    return pd.to_numeric(series, errors="coerce").astype(float)


_TEXT_PATTERNS = [(re.compile(pattern), name == "boolean") for name, pattern in TEXT_CLASSES]


def text_class_codes(series: pd.Series) -> np.ndarray:
    """Codes of `TextClassBinning` (binning.py): the first text class whose pattern matches the trimmed value."""
    isnull = series.isna().to_numpy()
    text = series.astype(object).where(~isnull, "").map(lambda v: str(v).strip()).to_numpy(dtype=object)
    codes = np.full(len(text), len(TEXT_CLASSES), dtype=np.int64)
    undecided = np.ones(len(text), dtype=bool)
    for k, (pattern, lower) in enumerate(_TEXT_PATTERNS):
        hit = np.fromiter(((pattern.fullmatch(v.lower() if lower else v) is not None) for v in text), bool,
                          count=len(text)) & undecided
        codes[hit] = k
        undecided &= ~hit
    codes[isnull] = len(TEXT_CLASSES) + 1
    return codes


def precision_codes(series: pd.Series, binning: PrecisionBinning) -> np.ndarray:
    """Codes of `PrecisionBinning` (binning.py): the fewest decimals each value needs."""
    x = to_numbers(series).to_numpy(dtype=float)
    codes = np.full(len(x), binning.more_code, dtype=np.int64)
    undecided = np.isfinite(x)
    with np.errstate(invalid="ignore", over="ignore"):
        for k in range(binning.max_decimals + 1):
            v = x * 10.0 ** k if k else x
            hit = undecided & (np.abs(v - np.round(v)) <= PRECISION_TOLERANCE * np.maximum(1.0, np.abs(v)))
            codes[hit] = k
            undecided &= ~hit
    codes[np.isnan(x)] = binning.null_code
    return codes


def codes_of(series: pd.Series, binning: Binning) -> np.ndarray:
    """Integer codes of one column under a binning (the code layout documented in binning.py)."""
    if isinstance(binning, TextClassBinning):
        return text_class_codes(series)
    if isinstance(binning, PrecisionBinning):
        return precision_codes(series, binning)
    isnull = series.isna().to_numpy()
    if isinstance(binning, CategoricalBinning):
        other = binning.other_code if binning.other_code is not None else 0
        if binning.numeric:
            numbers = to_numbers(series)
            isnull = isnull | numbers.isna().to_numpy()
            target = pd.Index(numbers.to_numpy(dtype=float))
            index = pd.Index(np.asarray(binning.values, dtype=float)) if binning.values else None
        else:
            target = series.astype(object)
            index = pd.Index(list(binning.values), dtype=object) if binning.values else None
        if index is not None:
            codes = index.get_indexer(target).astype(np.int64)
        else:
            codes = np.full(len(series), -1, dtype=np.int64)
        codes[codes < 0] = other
        codes[isnull] = binning.null_fallback
        return codes
    values = to_epoch_seconds(series) if binning.datetime else to_numbers(series)
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

    def count_values(self, column: str, min_count: int = 1, numeric: bool = False) -> list[tuple[object, int]]:
        series = to_numbers(self.frame[column]) if numeric else self.frame[column]
        vc = series.dropna().value_counts(sort=False)
        if min_count > 1:
            vc = vc[vc >= min_count]
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


_INTEGER_TYPES = {1: "TINYINT", 2: "SMALLINT", 4: "INTEGER", 8: "BIGINT"}
_FLOAT_TYPES = {4: "FLOAT", 8: "DOUBLE"}


def _pandas_type(series: pd.Series) -> str:
    """The SQL type name of a column's dtype (the dtype is the public schema; values are never inspected)."""
    dt = series.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dt):
        size = np.dtype(dt.numpy_dtype if hasattr(dt, "numpy_dtype") else dt).itemsize
        name = _INTEGER_TYPES.get(size, "BIGINT")
        return ("U" + name) if pd.api.types.is_unsigned_integer_dtype(dt) else name
    if pd.api.types.is_float_dtype(dt):
        size = np.dtype(dt.numpy_dtype if hasattr(dt, "numpy_dtype") else dt).itemsize
        return _FLOAT_TYPES.get(size, "DOUBLE")
    if isinstance(dt, pd.DatetimeTZDtype):
        return "TIMESTAMP WITH TIME ZONE"
    if isinstance(dt, pd.ArrowDtype) and str(dt.pyarrow_dtype).startswith("date"):
        return "DATE"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "TIMESTAMP"
    return "VARCHAR"  # object columns: the dtype is the public schema; values are never inspected for a type


__all__ = ["PandasDialect", "PandasEngine", "codes_of", "dense_from_groups", "keyed_row_hash", "keyed_text_hash",
           "text_class_codes", "to_epoch_seconds", "to_numbers"]
