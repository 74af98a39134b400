"""How raw values map to integer codes: small immutable value types every engine translates to its own query language.

Code layout (the same for every engine, so a marginal from DuckDB and one from pandas are the same array):
- `CategoricalBinning`: 0..len(values)-1 for the values in order, then `other` (a value outside the released domain,
  if `has_other`), then `null` (if `nullable`). Without a null code, nulls go to `other` (or code 0 if there is none).
- `NumericBinning`: bin i holds edges[i] <= x < edges[i+1] (the last bin also holds its upper edge); values outside
  [edges[0], edges[-1]] are clipped into the first/last bin; then `null` if `nullable` (else nulls go to bin 0).
  `datetime=True` means the engine converts the column to epoch seconds (UTC) first; `fractional=True` means it bins
  the fractional part x - floor(x) instead of x (used to measure, with DP, whether a float column holds integers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np


@dataclass(frozen=True)
class CategoricalBinning:
    column: str
    values: tuple
    has_other: bool = True
    nullable: bool = True

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

    def __post_init__(self):
        if len(self.edges) < 2 or any(b <= a for a, b in zip(self.edges, self.edges[1:])):
            raise ValueError(f"column {self.column!r}: bin edges must be >= 2 strictly increasing numbers")

    @property
    def n_bins(self) -> int:
        return len(self.edges) - 1

    @property
    def null_code(self) -> int | None:
        return self.n_bins if self.nullable else None

    @property
    def size(self) -> int:
        return self.n_bins + int(self.nullable)

    @property
    def null_fallback(self) -> int:
        return self.null_code if self.null_code is not None else 0

    def codes_for(self, x: np.ndarray) -> np.ndarray:
        """Bin codes of finite float values (nulls handled by the caller)."""
        inner = np.asarray(self.edges[1:-1], dtype=float)
        return np.searchsorted(inner, np.asarray(x, dtype=float), side="right").astype(np.int64)


Binning = Union[CategoricalBinning, NumericBinning]
