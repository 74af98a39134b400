"""Discretisation fixed on the REAL data and applied unchanged to every other table.

Numeric and datetime columns get `n_bins` quantile bins whose edges are the real (train) quantiles (duplicate edges
merged; values outside the real range fall in the first/last bin); categorical columns get one code per value seen in
any of the tables. Nulls always have their own code (the last one). Fitting on raw real data is NOT differentially
private: evaluation output is for release reviewers, not for the public.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .columns import modelled


@dataclass(frozen=True)
class ColumnBins:
    """How one column is coded: `edges` (numeric) or `categories` (categorical); the null code is `size - 1`."""

    column: str
    kind: str
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        if self.kind == "categorical":
            return len(self.categories) + 1
        return max(len(self.edges) - 1, 1) + 1

    def codes(self, values: pd.Series) -> np.ndarray:
        null = values.isna().to_numpy()
        if self.kind == "categorical":
            lookup = {v: i for i, v in enumerate(self.categories)}
            codes = values.map(lookup).to_numpy(dtype="float64", na_value=np.nan)
            unknown = np.isnan(codes) & ~null
            if unknown.any():
                raise ValueError(f"column {self.column!r}: value {values[unknown].iloc[0]!r} has no bin")
            codes = np.where(null, self.size - 1, codes)
            return codes.astype(np.int64)
        x = values.to_numpy(dtype="float64", na_value=np.nan)
        inner = np.asarray(self.edges[1:-1], dtype="float64")
        codes = np.searchsorted(inner, np.where(null, 0.0, x), side="right")
        return np.where(null, self.size - 1, codes).astype(np.int64)


@dataclass(frozen=True)
class Discretizer:
    bins: tuple[ColumnBins, ...]

    @property
    def columns(self) -> list[str]:
        return [b.column for b in self.bins]

    @property
    def sizes(self) -> np.ndarray:
        return np.array([b.size for b in self.bins], dtype=np.int64)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """(n, d) int64 codes for canonical `frame`, columns in `self.columns` order."""
        if not self.bins:
            return np.zeros((len(frame), 0), dtype=np.int64)
        return np.column_stack([b.codes(frame[b.column]) for b in self.bins])

    @classmethod
    def fit(cls, real: pd.DataFrame, kinds: Mapping[str, str], others: Sequence[pd.DataFrame] = (),
            n_bins: int = 10) -> "Discretizer":
        """Edges from canonical `real`; categorical codes cover values of `real` and `others` (sorted)."""
        out = []
        for column in modelled(kinds):
            if kinds[column] == "categorical":
                values = set(real[column].dropna())
                for other in others:
                    values |= set(other[column].dropna())
                out.append(ColumnBins(column, "categorical", categories=tuple(sorted(values))))
            else:
                x = real[column].to_numpy(dtype="float64", na_value=np.nan)
                x = x[~np.isnan(x)]
                edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, n_bins + 1))) if len(x) else np.array([0.0])
                if len(edges) == 1:
                    edges = np.array([edges[0], edges[0]])
                out.append(ColumnBins(column, kinds[column], edges=tuple(float(e) for e in edges)))
        return cls(tuple(out))


def joint_distribution(codes: np.ndarray, sizes: np.ndarray, columns: Sequence[int]) -> pd.Series:
    """Normalised joint histogram of `codes[:, columns]` as a Series indexed by the flat cell id.

    Empty cells are absent.
    """
    if len(codes) == 0:
        return pd.Series(dtype="float64")
    flat = np.ravel_multi_index(tuple(codes[:, j] for j in columns), tuple(int(sizes[j]) for j in columns))
    cells, counts = np.unique(flat, return_counts=True)
    return pd.Series(counts / counts.sum(), index=cells)
