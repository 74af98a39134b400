"""The code layout of `dpsynth_core/measurement/binning.py` as DataFrame column expressions, written once for the
engines that build queries with a Column API (Snowpark, PySpark).

Each such engine supplies `ColumnFunctions`: how its library spells a literal, a regular-expression full match, a read
of text as a number or a timestamp that never fails, epoch seconds of its temporal types. `code_column` and
`value_column` then build the same `CASE WHEN` codes the DuckDB engine writes in SQL (`engines/duckdb.py`), and the
tests in `tests/engines/` compare every engine with DuckDB cell for cell.

No expression here can fail on a value: text is read as a number only when it matches the integer/decimal text
class (then TRY_CAST), as a timestamp only when it matches the date/timestamp class, and a categorical value is
compared in the column's own type (a text column is never compared with a number, which would cast the text and fail
with an error quoting it).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from dpsynth_core.measurement.binning import (
    PRECISION_TOLERANCE,
    TEXT_CLASSES,
    Binning,
    CategoricalBinning,
    NumericBinning,
    PrecisionBinning,
    TextClassBinning,
)
from dpsynth_core.measurement.engine import TypeFamily

PATTERNS = dict(TEXT_CLASSES)
# a timestamp whose text names its offset ("Z", "+02", "+0200", "+02:00"): the timestamp pattern with its optional
# offset group made required (the pattern ends with that group followed by "?")
assert PATTERNS["timestamp"].endswith("))?")
TIMESTAMP_WITH_OFFSET = PATTERNS["timestamp"][:-1]
TEXT_FAMILIES = (TypeFamily.STRING, TypeFamily.OTHER)


class ColumnFunctions(ABC):
    """The primitives of one Column API (`F` is its functions module). Every method returns a Column."""

    F: Any

    def col(self, name: str):
        return self.F.col(self.quote(name))

    @abstractmethod
    def quote(self, name: str) -> str:
        """The quoted identifier of a column."""

    def lit(self, value: Any):
        return self.F.lit(value.item() if isinstance(value, np.generic) else value)

    def when(self, condition, value):
        return self.F.when(condition, value)

    @abstractmethod
    def is_null(self, value):
        """`value` IS NULL."""

    @abstractmethod
    def null_double(self):
        """A NULL of type DOUBLE."""

    @abstractmethod
    def is_nan(self, value):
        """`value` is NaN (both warehouses keep NaN apart from NULL)."""

    @abstractmethod
    def text(self, raw, family: TypeFamily):
        """The column as text (never fails)."""

    @abstractmethod
    def trim(self, text):
        """Spaces removed at both ends (spaces only, as DuckDB's `trim`)."""

    def lower(self, text):
        return self.F.lower(text)

    @abstractmethod
    def full_match(self, text, pattern: str):
        """`text` matches `pattern` (a `TEXT_CLASSES` pattern) as a whole; false (or null) for a null text."""

    @abstractmethod
    def try_double(self, text):
        """Text that matches the integer/decimal class, as a DOUBLE (TRY_CAST)."""

    @abstractmethod
    def number_as_double(self, raw, family: TypeFamily):
        """A numeric or boolean column as a DOUBLE (booleans 1/0)."""

    @abstractmethod
    def temporal_epoch(self, raw, family: TypeFamily, datatype: Any):
        """Epoch seconds (UTC; a wall-clock timestamp read as UTC) of a DATE/TIMESTAMP column; null for null."""

    @abstractmethod
    def text_epoch(self, text, with_offset: bool):
        """Epoch seconds of text matching the date/timestamp class: an instant when `with_offset` (the text names its
        offset), else a wall-clock time read as UTC; null when it does not parse (e.g. 2020-02-30)."""

    def abs(self, value):
        return self.F.abs(value)

    def round(self, value):
        return self.F.round(value)

    def greatest(self, a, b):
        return self.F.greatest(a, b)

    @abstractmethod
    def fraction(self, value):
        """value - floor(value) as a DOUBLE (NaN for +-inf)."""


# ---- values ---------------------------------------------------------------------------------------------------------

def matches_any(fx: ColumnFunctions, text, classes: tuple[str, ...]):
    out = None
    for name in classes:
        hit = fx.full_match(text, PATTERNS[name])
        out = hit if out is None else (out | hit)
    return out


def as_double(fx: ColumnFunctions, raw, family: TypeFamily):
    """The column read as a DOUBLE as every engine reads it: numbers as they are, booleans 1/0, text trimmed and parsed
    only when it matches the integer/decimal class; anything else null."""
    if family in TEXT_FAMILIES:
        text = fx.trim(fx.text(raw, family))
        return fx.when(matches_any(fx, text, ("integer", "decimal")), fx.try_double(text)).otherwise(fx.null_double())
    if family.is_numeric or family == TypeFamily.BOOLEAN:
        return fx.number_as_double(raw, family)
    return fx.null_double()


def as_epoch(fx: ColumnFunctions, raw, family: TypeFamily, datatype: Any):
    """A datetime binning's value: epoch seconds (UTC) of a temporal column; numbers as they are; text only when it
    matches the date/timestamp class (an explicit offset honoured, a naive value read as UTC)."""
    if family.is_temporal:
        return fx.temporal_epoch(raw, family, datatype)
    if family.is_numeric:
        return fx.number_as_double(raw, family)
    if family not in TEXT_FAMILIES:
        return fx.null_double()
    text = fx.trim(fx.text(raw, family))
    return (fx.when(fx.full_match(text, TIMESTAMP_WITH_OFFSET), fx.text_epoch(text, with_offset=True))
            .when(matches_any(fx, text, ("date", "timestamp")), fx.text_epoch(text, with_offset=False))
            .otherwise(fx.null_double()))


def value_column(fx: ColumnFunctions, binning: Binning, family: TypeFamily, datatype: Any = None):
    """The value a binning reads (see `duckdb.value_expression`): trimmed text for text classes, a DOUBLE for numeric,
    precision and numeric-categorical binnings (datetimes as epoch seconds), the raw column for categorical ones."""
    raw = fx.col(binning.column)
    if isinstance(binning, TextClassBinning):
        return fx.trim(fx.text(raw, family))
    if isinstance(binning, PrecisionBinning):
        return as_double(fx, raw, family)
    if isinstance(binning, CategoricalBinning):
        return as_double(fx, raw, family) if binning.numeric else raw
    if binning.datetime:
        return as_epoch(fx, raw, family, datatype)
    value = as_double(fx, raw, family)
    return fx.fraction(value) if binning.fractional else value


# ---- codes ----------------------------------------------------------------------------------------------------------

def _missing(fx: ColumnFunctions, value):
    """NULL or NaN: both code as null (the reference engine reads NaN as null)."""
    return fx.is_null(value) | fx.is_nan(value)


def code_column(fx: ColumnFunctions, binning: Binning, family: TypeFamily, datatype: Any = None):
    """`CASE WHEN` column of a binning's code (the layout of binning.py; the same codes as `duckdb.code_expression`)."""
    value = value_column(fx, binning, family, datatype)
    lit = fx.lit
    if isinstance(binning, TextClassBinning):
        expr = fx.when(fx.is_null(value), lit(binning.null_code))
        for k, (name, pattern) in enumerate(TEXT_CLASSES):
            expr = expr.when(fx.full_match(fx.lower(value) if name == "boolean" else value, pattern), lit(k))
        return expr.otherwise(lit(binning.other_code))
    if isinstance(binning, PrecisionBinning):
        expr = (fx.when(_missing(fx, value), lit(binning.null_code))
                .when(fx.abs(value) == lit(float("inf")), lit(binning.more_code)))
        for k in range(binning.max_decimals + 1):
            scaled = value if k == 0 else value * lit(float(10 ** k))
            exact = fx.abs(scaled - fx.round(scaled)) <= lit(PRECISION_TOLERANCE) * fx.greatest(lit(1.0),
                                                                                                fx.abs(scaled))
            expr = expr.when(exact, lit(k))
        return expr.otherwise(lit(binning.more_code))
    if isinstance(binning, CategoricalBinning):
        other = binning.other_code if binning.other_code is not None else 0
        if binning.numeric:
            expr = fx.when(_missing(fx, value), lit(binning.null_fallback))
            for i, v in enumerate(binning.values):
                expr = expr.when(value == lit(float(v)), lit(i))
            return expr.otherwise(lit(other))
        expr = fx.when(fx.is_null(value), lit(binning.null_fallback))
        for i, v in enumerate(binning.values):
            expr = expr.when(equals_value(fx, value, family, v), lit(i))
        return expr.otherwise(lit(other))
    assert isinstance(binning, NumericBinning)
    # atoms (exact values) take their own codes first; then bin i for edges[i] <= x < edges[i+1], values outside the
    # edges clipped into the end bins (the same as DuckDB's base + weighted count of inner edges <= x)
    expr = fx.when(_missing(fx, value), lit(binning.null_fallback))
    bins, atoms = binning.cell_codes()
    for atom, code in zip(binning.atoms, atoms, strict=True):
        expr = expr.when(value == lit(float(atom)), lit(code))
    for edge, code in zip(binning.edges[1:-1], bins, strict=False):   # the last bin has no upper inner edge
        expr = expr.when(value < lit(float(edge)), lit(code))
    return expr.otherwise(lit(bins[-1]))


def equals_value(fx: ColumnFunctions, raw, family: TypeFamily, value: Any):
    """`raw = value` for a categorical value, never casting the column's values: a value of another type than the
    column is compared in text (numbers in the column against numbers as doubles), so no row can fail the query."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, bool):
        if family == TypeFamily.BOOLEAN:
            return raw == fx.lit(value)
        if family.is_numeric:
            return (raw != fx.lit(0)) if value else (raw == fx.lit(0))
        return fx.lower(fx.trim(fx.text(raw, family))) == fx.lit("true" if value else "false")
    if isinstance(value, (int, float)):
        if family.is_numeric:
            return raw == fx.lit(value)
        if family in TEXT_FAMILIES:
            return raw == fx.lit(str(value))
        return fx.text(raw, family) == fx.lit(str(value))
    if isinstance(value, str) and family not in TEXT_FAMILIES and not family.is_temporal:
        return fx.text(raw, family) == fx.lit(value)
    return raw == fx.lit(value)


__all__ = ["ColumnFunctions", "TIMESTAMP_WITH_OFFSET", "as_double", "as_epoch", "code_column", "equals_value",
           "value_column"]
