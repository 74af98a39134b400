"""The Engine protocol: exact (private!) answers from one relation. Only `PrivateTable` may call an engine.

An engine pushes work down to where the data lives (DuckDB SQL today; Snowpark and Spark DataFrames next), so marginal
methods never pull the whole table into pandas. `fetch_rows` exists for generators that need rows (DP-SGD).
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np
import pandas as pd

from .binning import Binning


@runtime_checkable
class Engine(Protocol):
    relation_name: str

    def schema(self) -> list[tuple[str, str]]:
        """[(column, type string)] — public schema."""

    def count_cells(self, binnings: Sequence[Binning]) -> np.ndarray:
        """Exact contingency table over the binned columns: int64 array of shape [b.size for b in binnings]."""

    def value_counts(self, column: str) -> list[tuple[object, int]]:
        """Exact count of each distinct non-null value of `column`."""

    def fetch_rows(self, columns: Sequence[str]) -> pd.DataFrame:
        """Raw rows (for DP-SGD and evaluation). Callers must be DP themselves or release only to the owner."""

    def split(self, holdout_fraction: float, seed: int | None) -> tuple["Engine", "Engine"]:
        """(train, holdout) engines over a random partition of the rows."""


def dense_from_groups(shape: tuple[int, ...], codes: Sequence[np.ndarray], counts: np.ndarray) -> np.ndarray:
    """Scatter GROUP BY results (one code array per binning, plus counts) into a dense contingency array."""
    out = np.zeros(shape, dtype=np.int64)
    if len(shape) == 0:
        return np.asarray(int(np.sum(counts)), dtype=np.int64)
    np.add.at(out, tuple(np.asarray(c, dtype=np.int64) for c in codes), np.asarray(counts, dtype=np.int64))
    return out
