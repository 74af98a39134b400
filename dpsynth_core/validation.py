"""One declarative validator for every user setting (scikit-learn's parameter-constraint style).

A settings class declares its constraints as a table `{field: Param(...)}`; `validate_params` checks a mapping against
it and writes every message the same way: where, what is wrong, and the fix. Config, column specs, generator options,
deep-generator settings and gate settings all go through it, so a user sees one vocabulary of errors.

    OPTIONS = {"iters": Param(int, Interval(1, None), example=500)}
    values = validate_params(raw, OPTIONS, what="MST option", table="patients")
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Callable, Mapping, Sequence

from .errors import ConfigError, _LocatedError

_MISSING = object()


@dataclass(frozen=True)
class Interval:
    """Numeric range; None = unbounded on that side. `closed` says which ends are included."""

    low: float | None = None
    high: float | None = None
    closed: str = "both"     # "both" | "left" | "right" | "neither"

    def contains(self, x: float) -> bool:
        if self.low is not None and (x < self.low or (x == self.low and self.closed in ("right", "neither"))):
            return False
        if self.high is not None and (x > self.high or (x == self.high and self.closed in ("left", "neither"))):
            return False
        return True

    def describe(self) -> str:
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"in {left}{lo}, {hi}{right}"


_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "a mapping",
               list: "a list"}


@dataclass(frozen=True)
class Param:
    """Constraint of one setting.

    Args:
        types: accepted Python type(s): int (not bool; integral floats are converted), float (ints accepted,
            converted), str, bool, dict (any mapping), list (any non-string sequence, converted to tuple).
        interval: numeric range for int/float values.
        choices: allowed values.
        none: whether None (null in YAML) is allowed.
        finite: numbers must be finite (default).
        example: shown in the fix, e.g. `iters: 500`.
        check: extra rule `value -> problem or None` (for what a table cannot say).
    """

    types: type | tuple[type, ...]
    interval: Interval | None = None
    choices: Sequence[Any] | None = None
    none: bool = False
    finite: bool = True
    example: Any = _MISSING
    check: Callable[[Any], str | None] | None = None

    @property
    def type_tuple(self) -> tuple[type, ...]:
        return self.types if isinstance(self.types, tuple) else (self.types,)

    def describe(self) -> str:
        parts = [" or ".join(_TYPE_NAMES.get(t, t.__name__) for t in self.type_tuple)]
        if self.interval is not None:
            parts.append(self.interval.describe())
        if self.choices is not None:
            parts = [f"one of {list(self.choices)}"]
        if self.none:
            parts.append("or null")
        return " ".join(parts)


def _coerce(value: Any, param: Param) -> tuple[bool, Any]:
    """(ok, converted value) for the first accepted type the value fits."""
    for t in param.type_tuple:
        if t is bool:
            if isinstance(value, bool):
                return True, value
        elif t is int:
            if isinstance(value, bool):
                continue
            if isinstance(value, int):
                return True, int(value)
            if isinstance(value, float) and math.isfinite(value) and value == int(value):
                return True, int(value)
        elif t is float:
            if isinstance(value, bool):
                continue
            if isinstance(value, (int, float)):
                return True, float(value)
        elif t is str:
            if isinstance(value, str):
                return True, value
        elif t is dict:
            if isinstance(value, Mapping):
                return True, dict(value)
        elif t is list:
            if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
                return True, tuple(value)
        elif isinstance(value, t):
            return True, value
    return False, value


def check_param(name: str, value: Any, param: Param, *, what: str, table: str | None = None,
                column: str | None = None, error: type[_LocatedError] = ConfigError) -> Any:
    """The checked (and converted) value of one setting; raises `error` with the one message format."""
    fix_example = param.example if param.example is not _MISSING else None

    def fail(problem: str) -> None:
        fix = f"write e.g. `{name}: {_yaml(fix_example)}`." if fix_example is not None else \
            f"give {name} {param.describe()}."
        raise error(f"{what} {name}={value!r} {problem}.", table=table, column=column, fix=fix)

    if value is None:
        if param.none:
            return None
        fail(f"must be {param.describe()}, not null")
    ok, converted = _coerce(value, param)
    if not ok:
        fail(f"must be {param.describe()}")
    if isinstance(converted, float) and param.finite and not math.isfinite(converted):
        fail("must be finite")
    if param.interval is not None and isinstance(converted, (int, float)) and not param.interval.contains(converted):
        fail(f"must be {param.interval.describe()}")
    if param.choices is not None and converted not in param.choices:
        fail(f"must be one of {list(param.choices)}")
    if param.check is not None:
        problem = param.check(converted)
        if problem:
            fail(problem)
    return converted


def validate_params(raw: Mapping[str, Any] | None, constraints: Mapping[str, Param], *, what: str,
                    table: str | None = None, column: str | None = None,
                    error: type[_LocatedError] = ConfigError, ignore: Sequence[str] = ()) -> dict[str, Any]:
    """Check a settings mapping against its constraint table.

    Unknown keys are refused (listing the known ones); each known key is checked with `check_param`. Keys in `ignore`
    are passed through unchecked (another layer validates them). Returns the converted values.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise error(f"{what}s must be a mapping, got {type(raw).__name__}.", table=table, column=column,
                    fix="write them as `key: value` pairs.")
    unknown = sorted(str(k) for k in set(raw) - set(constraints) - set(ignore))
    if unknown:
        raise error(f"unknown {what}(s) {unknown}.", table=table, column=column,
                    fix=f"use only {sorted(constraints)}.")
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if name in ignore:
            out[name] = value
        else:
            out[name] = check_param(str(name), value, constraints[name], what=what, table=table, column=column,
                                    error=error)
    return out


def build_options(cls, raw: Mapping[str, Any] | None, *, what: str, table: str | None = None):
    """An options dataclass from a mapping, validated against `cls.constraints` (fields without a constraint are
    refused as unknown)."""
    known = {f.name for f in fields(cls)}
    constraints = {k: v for k, v in cls.constraints.items() if k in known}
    return cls(**validate_params(raw, constraints, what=what, table=table))


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if value is None:
        return "null"
    return str(value)
