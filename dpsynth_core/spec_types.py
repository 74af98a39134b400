"""Column specs checked against the public schema, before anything is read or charged.

A declared kind, category list or bound can contradict the column's warehouse type. Those mistakes are visible from
the schema alone (public), so they are refused here — while building the `TableSpec`, before the ledger reserves
anything — instead of failing a query half-way through a charged release.

Which kinds each type family can be read as (the engines read with TRY_CAST-style conversions):

| family                         | kinds                                                                           |
|--------------------------------|---------------------------------------------------------------------------------|
| string                         | every kind; integer/continuous/datetime/boolean read values that do not convert  |
|                                | as null (TRY_CAST), so a text column declared `integer` models its numeric values |
| integer, unsigned, float, decimal | categorical, integer, continuous, boolean, identifier, datetime (epoch seconds) |
| boolean                        | boolean, categorical, integer, continuous, identifier                           |
| date, timestamp, timestamp_tz  | datetime, categorical, identifier                                               |
| time                           | categorical, identifier                                                          |
| nested, binary, other          | identifier only (replaced by surrogate keys); select scalar fields upstream       |

Bounds: datetime bounds must lie in what the output can hold (years 1678-2261, pandas' nanosecond timestamps);
integer bounds within +-2^53 (integers a double holds exactly). Declared categories must convert to the column's type
(an integer column's categories are integers, a date column's ISO dates).
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from .errors import SpecError
from .measurement.engine import SourceColumn, TypeFamily

_ALL = frozenset({"categorical", "integer", "continuous", "datetime", "boolean", "identifier"})
_NUMBERS = frozenset({"categorical", "integer", "continuous", "boolean", "identifier", "datetime"})
KINDS_BY_FAMILY: dict[TypeFamily, frozenset[str]] = {
    TypeFamily.STRING: _ALL,
    TypeFamily.INTEGER: _NUMBERS,
    TypeFamily.UNSIGNED: _NUMBERS,
    TypeFamily.FLOAT: _NUMBERS,
    TypeFamily.DECIMAL: _NUMBERS,
    TypeFamily.BOOLEAN: frozenset({"boolean", "categorical", "integer", "continuous", "identifier"}),
    TypeFamily.DATE: frozenset({"datetime", "categorical", "identifier"}),
    TypeFamily.TIMESTAMP: frozenset({"datetime", "categorical", "identifier"}),
    TypeFamily.TIMESTAMP_TZ: frozenset({"datetime", "categorical", "identifier"}),
    TypeFamily.TIME: frozenset({"categorical", "identifier"}),
    TypeFamily.NESTED: frozenset({"identifier"}),
    TypeFamily.BINARY: frozenset({"identifier"}),
    TypeFamily.OTHER: frozenset({"identifier"}),
}

# What the decoder can write: pandas datetime64[ns] (1677-09-21 .. 2262-04-11), kept to whole years inside it.
DATETIME_MIN = _dt.datetime(1678, 1, 1, tzinfo=_dt.timezone.utc).timestamp()
DATETIME_MAX = _dt.datetime(2262, 1, 1, tzinfo=_dt.timezone.utc).timestamp()
INTEGER_LIMIT = 2.0 ** 53
_TRUE, _FALSE = ("true", "t", "yes", "y", "1"), ("false", "f", "no", "n", "0")


def coerce_category(value: Any, family: TypeFamily) -> Any:
    """A declared category in the column's type family (so engines compare like with like).

    Raises:
        ValueError: the value does not convert (the caller names the column; declared categories are public).
    """
    if family == TypeFamily.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError("is not a boolean (true/false, yes/no, 1/0)")
    if family.is_integer:
        if isinstance(value, bool):
            raise ValueError("is a boolean, not an integer")
        number = float(value)
        if not math.isfinite(number) or number != int(number):
            raise ValueError("is not an integer")
        return int(number)
    if family in (TypeFamily.FLOAT, TypeFamily.DECIMAL):
        if isinstance(value, bool):
            raise ValueError("is a boolean, not a number")
        return float(value)
    if family.is_temporal:
        if isinstance(value, (_dt.date, _dt.datetime)):
            return str(value)
        _dt.datetime.fromisoformat(str(value))
        return str(value)
    return str(value)


def check_against_schema(spec, source: SourceColumn, table: str) -> None:
    """Refuse a column spec that its public type contradicts (see the module table). `spec` is a `ColumnSpec`.

    Raises:
        SpecError: naming the table, the column, the type and the fix (no data has been read).
    """
    kind = spec.kind.value
    allowed = KINDS_BY_FAMILY.get(source.family, frozenset({"identifier"}))
    if kind not in allowed:
        raise SpecError(f"kind {kind!r} cannot be read from column type {source.type!r} ({source.family.value}).",
                        table=table, column=spec.name, fix=_kind_fix(source.family, allowed))
    if spec.categories is not None and kind == "categorical":
        for value in spec.categories:
            try:
                coerce_category(value, source.family)
            except (TypeError, ValueError) as err:
                problem = str(err) if str(err).startswith("is ") else f"does not convert to {source.family.value}"
                raise SpecError(f"declared category {value!r} {problem}, but the column type is {source.type!r}.",
                                table=table, column=spec.name,
                                fix="list categories of the column's type, or cast the column upstream.") from None
    if spec.lower is None:
        return
    if kind == "datetime" and not (DATETIME_MIN <= spec.lower and spec.upper <= DATETIME_MAX):
        raise SpecError("datetime bounds outside 1678-01-01 .. 2262-01-01 cannot be written as timestamps.",
                        table=table, column=spec.name,
                        fix="declare lower/upper inside 1678-2261 (values outside are clipped to the bounds).")
    if kind == "integer" and not (-INTEGER_LIMIT <= spec.lower and spec.upper <= INTEGER_LIMIT):
        raise SpecError("integer bounds beyond +-2^53 cannot be represented exactly.", table=table,
                        column=spec.name, fix="declare bounds within +-9007199254740992, or kind: continuous.")


def _kind_fix(family: TypeFamily, allowed: frozenset[str]) -> str:
    if family in (TypeFamily.NESTED, TypeFamily.BINARY, TypeFamily.OTHER):
        return ("select scalar fields of it upstream (e.g. a view that unnests or casts it), exclude the column, or "
                "declare `kind: identifier` to replace it by surrogate keys.")
    return f"declare one of {sorted(allowed)}, or cast the column upstream."
