"""Post-processing estimates from noisy measurements (no data is read here)."""

from __future__ import annotations

from typing import Sequence

import numpy as np


def dp_row_count(noisy_counts: Sequence[np.ndarray], sigmas: Sequence[float]) -> float:
    """The one DP estimate of the row count: the inverse-variance weighted mean of noisy tables' totals.

    A table of k cells with noise std sigma per cell has a total with variance k·sigma². At least 1.

    Args:
        noisy_counts: noisy contingency tables of the same rows (each sums to the row count plus noise).
        sigmas: each table's per-cell noise std.
    Returns:
        Estimated number of rows (a float >= 1).
    """
    if len(noisy_counts) == 0 or len(noisy_counts) != len(sigmas):
        raise ValueError("dp_row_count needs one sigma per noisy table, and at least one table")
    variances = np.array([float(s) ** 2 * max(np.asarray(c).size, 1)
                          for c, s in zip(noisy_counts, sigmas, strict=True)])
    totals = np.array([float(np.asarray(c, dtype=float).sum()) for c in noisy_counts])
    weights = 1.0 / variances
    return float(max(1.0, (weights * totals).sum() / weights.sum()))
