"""Column specs: what the user declares public about a table.

A spec says, per column, its kind and (optionally) its *public* domain: a complete category list, or numeric bounds and
binning. Anything not declared is discovered with a DP mechanism charged to the budget (see `preprocessing`). Warehouse
types are public schema and may pick a column's kind; values never are.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Iterable, Mapping

from .errors import SpecError
from .measurement.engine import Dialect, SourceColumn, TypeFamily
from .spec_types import check_against_schema
from .validation import Param, validate_params


class ColumnKind(str, Enum):
    CATEGORICAL = "categorical"
    INTEGER = "integer"
    CONTINUOUS = "continuous"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    IDENTIFIER = "identifier"

    @property
    def is_numeric(self) -> bool:
        return self in (ColumnKind.INTEGER, ColumnKind.CONTINUOUS, ColumnKind.DATETIME)


def _categories_problem(values: tuple) -> str | None:
    if len(values) == 0:
        return "is an empty list (list at least one category, or drop `categories` to discover them with DP)"
    try:
        if len(set(values)) != len(values):
            return "contains duplicates (list each category once)"
    except TypeError:
        return "must list plain values (strings, numbers, booleans)"
    return None


def _bound_problem(value: Any) -> str | None:
    if isinstance(value, str):
        try:
            float(value)
            return None
        except ValueError:
            try:
                _dt.datetime.fromisoformat(value)
                return None
            except ValueError:
                return "is neither a number nor an ISO date/timestamp"
    return None


# What a column spec may say (the declarative table; rules between fields are in ColumnSpec.from_dict).
SPEC_CONSTRAINTS: dict[str, Param] = {
    "kind": Param(str, check=lambda k: None if k.lower() in {c.value for c in ColumnKind}
                  else f"is not a kind (use one of {[c.value for c in ColumnKind]})", example="categorical"),
    "nullable": Param(bool, example=False),
    "categories": Param(list, check=_categories_problem, example="[a, b, c]"),
    "lower": Param((float, str, _dt.date), check=_bound_problem, example=0),
    "upper": Param((float, str, _dt.date), check=_bound_problem, example=100),
    "bins": Param((int, list), check=lambda b: None if not isinstance(b, int) or 1 <= b <= 4096
                  else "must be between 1 and 4096 bins", example=16),
}


def _to_number(value: Any, *, table: str, column: str, what: str) -> float:
    """Bounds may be numbers or ISO dates/timestamps (converted to epoch seconds, UTC)."""
    if isinstance(value, bool):
        raise SpecError(f"{what} must be a number or an ISO date, got {value!r}.", table=table, column=column,
                        fix=f"write `{what}: <number>`.")
    if isinstance(value, (int, float)):
        out = float(value)
    elif isinstance(value, (_dt.datetime, _dt.date)):
        out = to_epoch_seconds(value)
    elif isinstance(value, str):
        try:
            out = float(value)
        except ValueError:
            try:
                out = to_epoch_seconds(_dt.datetime.fromisoformat(value))
            except ValueError:
                raise SpecError(f"{what}={value!r} is neither a number nor an ISO date/timestamp.", table=table,
                                column=column, fix=f"write e.g. `{what}: 0` or `{what}: '2020-01-01'`.") from None
    else:
        raise SpecError(f"{what}={value!r} has unsupported type {type(value).__name__}.", table=table, column=column,
                        fix=f"write `{what}` as a number or ISO date string.")
    if not math.isfinite(out):
        raise SpecError(f"{what}={value!r} is not finite.", table=table, column=column, fix="declare finite bounds.")
    return out


def to_epoch_seconds(value: _dt.date | _dt.datetime) -> float:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.timestamp()
    return float((value - _dt.date(1970, 1, 1)).days * 86400)


@dataclass(frozen=True)
class ColumnSpec:
    """What is public about one column.

    `categories` is a complete public domain (values outside it are mapped to an `other` code). `lower`/`upper` are
    public bounds in the column's unit (epoch seconds for datetimes); values outside are clipped. `bins` is either a
    number of bins or explicit public edges. `nullable`: True (the column gets a null code), False (none: nulls are
    coded like a value) or None (not declared: a DP "has nulls" test decides, see `preprocessing`).
    """

    name: str
    kind: ColumnKind
    nullable: bool | None = None
    categories: tuple | None = None
    lower: float | None = None
    upper: float | None = None
    bins: int | tuple[float, ...] | None = None
    kind_declared: bool = True      # False: the kind was inferred from the public type (not written in the spec)

    @property
    def has_public_domain(self) -> bool:
        if self.kind in (ColumnKind.CATEGORICAL,):
            return self.categories is not None
        if self.kind == ColumnKind.BOOLEAN:
            return True
        if self.kind.is_numeric:
            return self.lower is not None and self.upper is not None
        return True  # identifiers are never learned

    @classmethod
    def from_dict(cls, name: str, raw: Mapping[str, Any] | None, *, table: str, default_kind: ColumnKind | None = None
                  ) -> "ColumnSpec":
        """A spec from its YAML/meta form, checked against `SPEC_CONSTRAINTS` and the rules between fields."""
        values = validate_params(raw or {}, SPEC_CONSTRAINTS, what="spec key", table=table, column=name,
                                 error=SpecError)
        kind_raw = values.get("kind", default_kind.value if default_kind else None)
        if kind_raw is None:
            raise SpecError("no kind declared and none can be inferred from the column type.", table=table,
                            column=name, fix=f"add `kind:` (one of {[k.value for k in ColumnKind]}).")
        kind = ColumnKind(str(kind_raw).lower())
        categories = values.get("categories")
        lower, upper, bins = values.get("lower"), values.get("upper"), values.get("bins")

        def refuse(problem: str, fix: str):
            raise SpecError(problem, table=table, column=name, fix=fix)

        if categories is not None and kind not in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            refuse(f"categories are declared but kind is {kind.value!r}.", "use `kind: categorical` or drop "
                   "`categories`.")
        if (lower is not None or upper is not None or bins is not None) and not kind.is_numeric:
            what = "bounds" if lower is not None or upper is not None else "bins"
            refuse(f"{what} are declared but kind is {kind.value!r}.",
                   "use an integer/continuous/datetime kind or drop lower/upper/bins.")
        if (lower is None) != (upper is None):
            refuse("only one of lower/upper is declared.", "declare both bounds, or neither (then they are found "
                   "with DP).")
        if lower is not None:
            lower = _to_number(lower, table=table, column=name, what="lower")
            upper = _to_number(upper, table=table, column=name, what="upper")
            if not lower < upper:
                refuse(f"lower={lower} is not below upper={upper}.", "declare lower < upper.")
        if isinstance(bins, tuple):
            edges = tuple(_to_number(b, table=table, column=name, what="bins edge") for b in bins)
            if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                refuse("bin edges must be at least two strictly increasing numbers.", "write e.g. "
                       "`bins: [0, 10, 20, 50]`.")
            if lower is None:
                lower, upper = edges[0], edges[-1]
            elif (edges[0], edges[-1]) != (lower, upper):
                refuse("the first/last bin edges differ from lower/upper.", "make bins start at lower and end at "
                       "upper, or drop lower/upper.")
            bins = edges
        return cls(name=name, kind=kind, nullable=values.get("nullable"), categories=categories, lower=lower,
                   upper=upper, bins=bins, kind_declared="kind" in values)

    def to_dict(self, declared_only: bool = False) -> dict[str, Any]:
        """The YAML/meta form; `declared_only` leaves out a kind that came from the public type (so completing the
        spec again against the schema infers it the same way)."""
        out: dict[str, Any] = {} if declared_only and not self.kind_declared else {"kind": self.kind.value}
        if self.nullable is not None:
            out["nullable"] = self.nullable
        if self.categories is not None:
            out["categories"] = list(self.categories)
        if self.lower is not None:
            out["lower"], out["upper"] = self.lower, self.upper
        if self.bins is not None:
            out["bins"] = list(self.bins) if isinstance(self.bins, tuple) else self.bins
        return out


# Public type family -> default kind. Type names are parsed once, by the engine's Dialect (measurement/engine.py).
_FAMILY_KINDS: dict[TypeFamily, ColumnKind] = {
    TypeFamily.BOOLEAN: ColumnKind.BOOLEAN,
    TypeFamily.INTEGER: ColumnKind.INTEGER,
    TypeFamily.UNSIGNED: ColumnKind.INTEGER,
    TypeFamily.FLOAT: ColumnKind.CONTINUOUS,
    TypeFamily.DECIMAL: ColumnKind.CONTINUOUS,
    TypeFamily.DATE: ColumnKind.DATETIME,
    TypeFamily.TIMESTAMP: ColumnKind.DATETIME,
    TypeFamily.TIMESTAMP_TZ: ColumnKind.DATETIME,
    TypeFamily.STRING: ColumnKind.CATEGORICAL,
}


_IDENTIFIER_NAME = re.compile(r"(^|_)(id|uuid|guid)$|^(id|uuid|guid)_|^caseid$|^case_id$", re.IGNORECASE)


def looks_like_identifier(name: str, family: TypeFamily) -> bool:
    """Public-name heuristic: `id`, `*_id`, `uuid`, `caseid`... of a text or integer type are keys, not attributes.

    Only the column name and type (public schema) are looked at. Applies only to columns without a declared kind.
    """
    return bool(_IDENTIFIER_NAME.search(name)) and kind_for_family(family) in (ColumnKind.CATEGORICAL,
                                                                              ColumnKind.INTEGER)


def kind_for_family(family: TypeFamily) -> ColumnKind | None:
    """Default kind for a public type family; None when the family has none (binary, nested, time, other)."""
    return _FAMILY_KINDS.get(family)


def as_source_columns(schema: Iterable[SourceColumn | tuple[str, str]]) -> list[SourceColumn]:
    """A public schema as `SourceColumn`s; plain (name, type) pairs are read with the generic dialect."""
    generic = Dialect()
    return [c if isinstance(c, SourceColumn) else generic.column(*c) for c in schema]


@dataclass(frozen=True)
class TableSpec:
    """All column specs of one relation, in the relation's column order."""

    name: str
    columns: tuple[ColumnSpec, ...] = field(default_factory=tuple)

    def __post_init__(self):
        names = [c.name for c in self.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise SpecError(f"duplicate column names {dupes}.", table=self.name, fix="give each column one spec.")

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @classmethod
    def from_dict(cls, name: str, columns: Mapping[str, Mapping[str, Any] | None] | None,
                  schema: Iterable[tuple[str, str]] | None = None) -> "TableSpec":
        """Build a spec from `{column: {kind: ..., ...}}` and the relation's public schema `[(column, type)]`.

        With a schema, every relation column gets a spec (kind inferred from its type when not declared) and a declared
        column missing from the relation is an error. Without one, only the declared columns are specified.
        """
        columns = dict(columns or {})
        if schema is None:
            return cls(name, tuple(ColumnSpec.from_dict(c, raw, table=name) for c, raw in columns.items()))
        schema = as_source_columns(schema)
        if not schema:
            raise SpecError("the relation has no columns.", table=name, fix="point the model at a non-empty relation.")
        present = {c.name for c in schema}
        missing = [c for c in columns if c not in present]
        if missing:
            raise SpecError(f"spec names column(s) {missing} that the relation does not have "
                            f"(it has {sorted(present)}).", table=name, column=missing[0],
                            fix="fix the column name in the spec or drop its entry.")
        specs = []
        for col, type_string, family in schema:
            default = kind_for_family(family)
            raw = columns.get(col)
            if looks_like_identifier(col, family) and not (raw and "kind" in raw):
                default = ColumnKind.IDENTIFIER
            if default is None and not (raw and "kind" in raw):
                raise SpecError(f"column type {type_string!r} has no default kind.", table=name, column=col,
                                fix="declare `kind:` for it in the column spec (or exclude the column upstream).")
            column = ColumnSpec.from_dict(col, raw, table=name, default_kind=default)
            check_against_schema(column, SourceColumn(col, type_string, family), name)   # before any read
            specs.append(column)
        return cls(name, tuple(specs))

    @classmethod
    def from_yaml(cls, path: str, name: str, schema: Iterable[tuple[str, str]] | None = None) -> "TableSpec":
        import yaml

        with open(path) as fh:
            raw = yaml.safe_load(fh) or {}
        if not isinstance(raw, dict):
            raise SpecError(f"spec file {path} is not a mapping.", table=name,
                            fix="write `columns: {col: {kind: ...}}`.")
        return cls.from_dict(name, raw.get("columns", raw), schema)

    def to_dict(self, declared_only: bool = False) -> dict[str, Any]:
        return {c.name: c.to_dict(declared_only) for c in self.columns}

    def with_column(self, spec: ColumnSpec) -> "TableSpec":
        return replace(self, columns=tuple(spec if c.name == spec.name else c for c in self.columns))
