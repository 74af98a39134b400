"""Mixed-type distance used by the privacy metrics (Gower-like, Euclidean).

Numeric/datetime columns are range-scaled to [0, 1] with the REAL train min/max and clipped to it (null -> 0 plus a
null indicator column); categorical columns are one-hot coded (nulls a level) and scaled by sqrt(1/2), so one
differing category adds exactly 1 to the squared distance, like a numeric difference of a whole range. Categorical
columns with more than `MAX_ONE_HOT` levels keep their `MAX_ONE_HOT` most frequent real values and share one `other`
level.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from sklearn.neighbors import NearestNeighbors

from .prepared import Prepared

MAX_ONE_HOT = 100


def encode(prepared: Prepared, which: str, columns: Sequence[str] | None = None) -> np.ndarray:
    """Float matrix of table `which` ('real'|'synthetic'|'holdout') over `columns` (default: all compared)."""
    columns = list(columns) if columns is not None else prepared.columns
    names = prepared.discretizer.columns
    frame = getattr(prepared, which)
    codes = getattr(prepared, f"{which}_codes")
    blocks = []
    for column in columns:
        if prepared.kinds[column] == "categorical":
            j = names.index(column)
            size = int(prepared.discretizer.sizes[j])
            c = codes[:, j]
            if size > MAX_ONE_HOT + 1:
                counts = np.bincount(prepared.real_codes[:, j], minlength=size)
                keep = np.argsort(-counts, kind="stable")[:MAX_ONE_HOT]
                remap = np.full(size, MAX_ONE_HOT)
                remap[keep] = np.arange(MAX_ONE_HOT)
                c, size = remap[c], MAX_ONE_HOT + 1
            block = np.zeros((len(c), size))
            block[np.arange(len(c)), c] = math.sqrt(0.5)
            blocks.append(block)
        else:
            real = prepared.real[column].to_numpy("float64")
            finite = real[~np.isnan(real)]
            lo, hi = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
            span = hi - lo if hi > lo else 1.0
            x = frame[column].to_numpy("float64")
            null = np.isnan(x)
            # clipped to the real range: a value far outside it (a broken synthetic column, 1e8 where real values are
            # below 1) would otherwise dominate every distance, so every query would find the same extreme real row
            # and DCR/NNDR/membership would compare nothing but that row (range_violation_rate reports the values)
            blocks.append(np.where(null, 0.0, np.clip((x - lo) / span, 0.0, 1.0))[:, None])
            if _any_null(prepared, column):
                blocks.append(null.astype("float64")[:, None])
    return np.hstack(blocks) if blocks else np.zeros((len(frame), 0))


def _any_null(prepared: Prepared, column: str) -> bool:
    tables = [prepared.real, prepared.synthetic] + ([prepared.holdout] if prepared.holdout is not None else [])
    return any(bool(t[column].isna().any()) for t in tables)


def nearest(reference: np.ndarray, queries: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(distances, indices) of the k nearest reference rows of each query (brute-force Euclidean; distances below
    1e-9 are set to 0 so exact matches compare equal despite floating-point rounding)."""
    k = min(k, len(reference))
    index = NearestNeighbors(n_neighbors=k, algorithm="brute", metric="euclidean").fit(reference)
    dist, idx = index.kneighbors(queries)
    return np.where(dist < 1e-9, 0.0, dist), idx


def subsample_rows(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted random row positions: `size` of range(n) without replacement, or all of them when n <= size."""
    return np.sort(rng.choice(n, size=size, replace=False)) if n > size else np.arange(n)
