"""Column kinds for evaluation and canonical value forms shared by every metric.

Evaluation kinds are coarser than `dpsynth_core.schema.ColumnKind`: 'categorical', 'numeric', 'datetime' or
'identifier'. Identifier columns are excluded from every metric (a synthetic table carries fresh surrogate keys).

Canonical form (what every metric compares): categorical values become strings (numbers as float strings, so 1, 1.0
and "1" agree), numeric values float64, datetimes float64 epoch seconds; nulls stay NaN. Kinds inferred from the data
look at raw values: evaluation is NOT differentially private (see `dpsynth_core.evaluation`).
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import InputError

KINDS = ("categorical", "numeric", "datetime", "identifier")
#: a numeric column with at most this many distinct real values is compared as categorical
MAX_NUMERIC_LEVELS_AS_CATEGORICAL = 10
#: a text column whose distinct-value share exceeds this is treated as an identifier when no kind is given
IDENTIFIER_DISTINCT_SHARE = 0.2

_SCHEMA_KIND_MAP = {
    "categorical": "categorical",
    "boolean": "categorical",
    "integer": "numeric",
    "continuous": "numeric",
    "datetime": "datetime",
    "identifier": "identifier",
}


def kinds_from_table_spec(spec) -> dict[str, str]:
    """Evaluation kinds from a `dpsynth_core.schema.TableSpec`.

    Integer/continuous columns -> numeric, boolean -> categorical.
    """
    return {c.name: _SCHEMA_KIND_MAP[c.kind.value] for c in spec.columns}


def infer_kind(series: pd.Series) -> str:
    """Kind of one real column from its values (used only when the caller gives no hint)."""
    if pd.api.types.is_bool_dtype(series):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    non_null = series.dropna()
    if pd.api.types.is_numeric_dtype(series):
        return "categorical" if non_null.nunique() <= MAX_NUMERIC_LEVELS_AS_CATEGORICAL else "numeric"
    numeric = pd.to_numeric(non_null, errors="coerce")
    if len(non_null) and numeric.notna().all():
        return "categorical" if numeric.nunique() <= MAX_NUMERIC_LEVELS_AS_CATEGORICAL else "numeric"
    n_distinct = non_null.nunique()
    if len(non_null) >= 20 and n_distinct > 20 and n_distinct > IDENTIFIER_DISTINCT_SHARE * len(non_null):
        return "identifier"
    return "categorical"


def resolve_kinds(real: pd.DataFrame, others: Iterable[pd.DataFrame] = (), kinds: Mapping[str, str] | None = None,
                  table: str = "synthetic") -> dict[str, str]:
    """Kinds of the columns shared by `real` and every frame in `others`, in `real`'s column order.

    Raises InputError when a hinted kind is unknown or the tables share no column.
    """
    kinds = dict(kinds or {})
    for column, kind in kinds.items():
        if kind not in KINDS:
            raise InputError(f"unknown evaluation kind {kind!r}.", table=table, column=column,
                             fix=f"use one of {', '.join(KINDS)}.")
    others = list(others)
    shared = [c for c in real.columns if all(c in o.columns for o in others)]
    if not shared:
        raise InputError("the real and synthetic tables share no column.", table=table,
                         fix="evaluate a synthetic table against the relation it was generated from.")
    return {c: kinds.get(c) or infer_kind(real[c]) for c in shared}


def modelled(kinds: Mapping[str, str]) -> list[str]:
    """Columns every metric uses: all but identifiers."""
    return [c for c, k in kinds.items() if k != "identifier"]


def _categorical(series: pd.Series) -> pd.Series:
    mask = series.isna()
    if pd.api.types.is_bool_dtype(series):
        out = series.astype(object).map(str)
    elif pd.api.types.is_numeric_dtype(series):
        out = series.astype("float64").astype(str)
    else:
        numeric = pd.to_numeric(series, errors="coerce")
        if bool((numeric.notna() | mask).all()) and not bool(mask.all()):
            out = numeric.astype("float64").astype(str)
        else:
            out = series.astype(str)
    out = out.astype(object)
    out[mask] = np.nan
    return out


def _numeric(series: pd.Series, kind: str, table: str) -> pd.Series:
    is_datetime = pd.api.types.is_datetime64_any_dtype(series)
    if is_datetime or (kind == "datetime" and not pd.api.types.is_numeric_dtype(series)):
        # numeric values of a datetime column are taken as epoch seconds already (the canonical form)
        stamps = pd.to_datetime(series, errors="coerce", utc=True)
        seconds = (stamps - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
        return seconds.astype("float64")
    out = pd.to_numeric(series, errors="coerce").astype("float64")
    bad = out.isna() & series.notna()
    if bad.any():
        raise InputError(f"{int(bad.sum())} values are not numeric (e.g. {series[bad].iloc[0]!r}).", table=table,
                         column=series.name, fix="declare the column's kind as 'categorical' or clean the values.")
    return out


def canonicalize(frame: pd.DataFrame, kinds: Mapping[str, str], table: str = "table") -> pd.DataFrame:
    """The non-identifier columns of `frame` in canonical form (see module doc), index reset."""
    columns = {}
    for column in modelled(kinds):
        series = frame[column].reset_index(drop=True)
        if kinds[column] == "categorical":
            columns[column] = _categorical(series)
        else:
            columns[column] = _numeric(series, kinds[column], table)
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))
