"""How raw values map to integer codes: small immutable value types every engine translates to its own query language.

Code layout (the same for every engine, so a marginal from DuckDB and one from pandas are the same array):

- `CategoricalBinning`: 0..len(values)-1 for the values in order, then `other` (a value outside the released domain,
  if `has_other`), then `null` (if `nullable`). Without a null code, nulls go to `other` (or code 0 if there is none);
  without an `other` code, values outside the domain go to code 0.
  `numeric=True`: the engine compares the column's value read as a DOUBLE (`TRY_CAST(x AS DOUBLE)`, text trimmed
  first; what does not parse is null) with the values, which are numbers — used for numeric code columns (a loan term
  in {12, 24, 36}) so a text source holding `"12"` or `"12.0"` and a typed one holding 12 code alike.

- `NumericBinning`: the column read as a DOUBLE (`TRY_CAST`; datetimes as epoch seconds, UTC; what does not parse is
  null). `edges` define bins: bin i holds edges[i] <= x < edges[i+1] (the last bin also holds its upper edge); values
  outside [edges[0], edges[-1]] are clipped into the first/last bin. `atoms` are exact values (point masses such as 0
  or a cap) with a code of their own: a value equal to an atom takes the atom's code, never a bin's.
  Codes are in value order (so ordinal generators such as the copula see a monotone coding): sort the cells by
  (value, rank) where bin i has value edges[i] and rank 1, and an atom has its value and rank 0 — an atom at a bin's
  lower edge comes just before that bin, an atom inside a bin just after it. `cell_codes()` gives both code lists.
  Then `null` if `nullable` (else nulls go to code 0).
  Engines compute a non-atom value's code as  base + sum_j step_j * [x >= edges[j+1]]  over the inner edges, with
  (base, steps) from `bin_code_steps()`: a weighted count of inner edges below x, no lookup table.
  `fractional=True` means the engine bins the fractional part x - floor(x) instead of x (used to measure, with DP,
  whether a float column holds integers).

- `PrecisionBinning`: code k = the fewest decimals (0..max_decimals) a value needs, max_decimals + 1 for more, then
  null; see the class. Engines compute it with the same IEEE double arithmetic: `abs(v - round(v)) <= 1e-12 *
  greatest(1, abs(v))` for v = x, x * 10, x * 100, ... in order.

- `TextClassBinning`: what each text value parses as, a partition of the rows for the DP kind decision of text
  columns (`infer_text_kinds`). The value is trimmed of surrounding whitespace; code k is the first class of
  `TEXT_CLASSES` whose regular expression matches the whole trimmed value (the boolean class is matched on the
  lower-cased value), `other` (code 5) when none does, null (code 6) for SQL NULL. Engines implement the patterns
  with their full-match regular expression function (DuckDB `regexp_full_match`, Snowflake `REGEXP_LIKE`,
  Spark `rlike` anchored with ^...$, pandas `str.fullmatch`); the patterns use only portable syntax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

# (class name, full-match pattern) in match order; patterns use only [], {}, ?, *, +, |, () (portable across engines).
# Integers: no leading zeros (a zip code "02134" is text), at most 18 digits (fits BIGINT), optional ".0" tail (a CSV
# writer's float spelling of an integer). Decimals need a point or an exponent.
TEXT_CLASSES: tuple[tuple[str, str], ...] = (
    ("integer", r"[+-]?(0|[1-9][0-9]{0,17})([.]0*)?"),
    ("decimal", r"[+-]?([0-9]+[.][0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?|[+-]?[0-9]+[eE][+-]?[0-9]+"),
    ("date", r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
    ("timestamp", r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?"
                  r"( ?(Z|[+-][0-9]{2}(:?[0-9]{2})?))?"),
    ("boolean", r"true|false|t|f|yes|no|y|n"),
)
TEXT_OTHER = "other"


@dataclass(frozen=True)
class CategoricalBinning:
    column: str
    values: tuple
    has_other: bool = True
    nullable: bool = True
    numeric: bool = False

    @property
    def other_code(self) -> int | None:
        return len(self.values) if self.has_other else None

    @property
    def null_code(self) -> int | None:
        return len(self.values) + int(self.has_other) if self.nullable else None

    @property
    def size(self) -> int:
        return len(self.values) + int(self.has_other) + int(self.nullable)

    @property
    def null_fallback(self) -> int:
        """Code for a null when the binning has no null code."""
        if self.null_code is not None:
            return self.null_code
        return self.other_code if self.other_code is not None else 0


@dataclass(frozen=True)
class NumericBinning:
    column: str
    edges: tuple[float, ...]
    nullable: bool = True
    datetime: bool = False
    fractional: bool = False
    atoms: tuple[float, ...] = ()

    def __post_init__(self):
        if len(self.edges) < 2 or any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError(f"column {self.column!r}: bin edges must be >= 2 strictly increasing numbers")
        if any(b <= a for a, b in zip(self.atoms, self.atoms[1:], strict=False)) or not all(np.isfinite(self.atoms)):
            raise ValueError(f"column {self.column!r}: atoms must be strictly increasing finite numbers")

    @property
    def n_bins(self) -> int:
        return len(self.edges) - 1

    @property
    def n_values(self) -> int:
        """Codes for values (bins and atoms), i.e. the code of null when there is one."""
        return self.n_bins + len(self.atoms)

    @property
    def null_code(self) -> int | None:
        return self.n_values if self.nullable else None

    @property
    def size(self) -> int:
        return self.n_values + int(self.nullable)

    @property
    def null_fallback(self) -> int:
        return self.null_code if self.null_code is not None else 0

    def cell_codes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(code of each bin, code of each atom) in the value-ordered layout documented above."""
        cells = sorted([(float(e), 1, "bin", i) for i, e in enumerate(self.edges[:-1])]
                       + [(float(a), 0, "atom", k) for k, a in enumerate(self.atoms)])
        bins, atoms = [0] * self.n_bins, [0] * len(self.atoms)
        for code, (_, _, what, index) in enumerate(cells):
            (bins if what == "bin" else atoms)[index] = code
        return tuple(bins), tuple(atoms)

    def bin_code_steps(self) -> tuple[int, tuple[int, ...]]:
        """(base, steps): a non-atom value x has code base + sum_j steps[j] * [x >= edges[j + 1]]."""
        bins, _ = self.cell_codes()
        return bins[0], tuple(b - a for a, b in zip(bins, bins[1:], strict=False))

    def bin_of_code(self) -> np.ndarray:
        """For each value code: the bin it belongs to, or -1 for an atom's code."""
        bins, _ = self.cell_codes()
        out = np.full(self.n_values, -1, dtype=np.int64)
        out[list(bins)] = np.arange(self.n_bins)
        return out

    def codes_for(self, x: np.ndarray) -> np.ndarray:
        """Codes of finite float values (nulls handled by the caller)."""
        x = np.asarray(x, dtype=float)
        inner = np.asarray(self.edges[1:-1], dtype=float)
        bin_index = np.searchsorted(inner, x, side="right")
        if not self.atoms:
            return bin_index.astype(np.int64)
        bins, atoms = self.cell_codes()
        codes = np.asarray(bins, dtype=np.int64)[bin_index]
        for a, code in zip(self.atoms, atoms, strict=True):
            codes[x == a] = code
        return codes


@dataclass(frozen=True)
class TextClassBinning:
    """What each value of a text column parses as (see the module docstring): codes 0..4 for `TEXT_CLASSES`,
    5 for other text, 6 for null."""

    column: str

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(name for name, _ in TEXT_CLASSES) + (TEXT_OTHER,)

    @property
    def other_code(self) -> int:
        return len(TEXT_CLASSES)

    @property
    def null_code(self) -> int:
        return len(TEXT_CLASSES) + 1

    @property
    def size(self) -> int:
        return len(TEXT_CLASSES) + 2

    nullable = True
    null_fallback = property(lambda self: self.null_code)


@dataclass(frozen=True)
class PrecisionBinning:
    """How many decimals each value of a column needs (for the DP precision test of float columns): the value read as
    a DOUBLE (as `NumericBinning` reads it) gets code k, the fewest decimals 0..max_decimals such that
    |v - round(v)| <= PRECISION_TOLERANCE * max(1, |v|) for v = x * 10^k; code max_decimals + 1 when none does (or the
    value is infinite); then null."""

    column: str
    max_decimals: int = 4

    @property
    def more_code(self) -> int:
        return self.max_decimals + 1

    @property
    def null_code(self) -> int:
        return self.max_decimals + 2

    @property
    def size(self) -> int:
        return self.max_decimals + 3

    nullable = True
    null_fallback = property(lambda self: self.null_code)


# Relative tolerance of "x * 10^k is an integer" (x * 10 for x = 6.9 is 69.00000000000001 in binary floating point).
PRECISION_TOLERANCE = 1e-12

Binning = Union[CategoricalBinning, NumericBinning, TextClassBinning, PrecisionBinning]
