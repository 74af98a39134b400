"""Pairwise dependence difference (utility; lower is better).

For every pair of compared columns: Pearson correlation when both are numeric/datetime (rows where both are non-null),
otherwise Cramér's V of the binned codes (bins fixed on real, nulls a level). The metric is the mean absolute
difference between the real and the synthetic dependence over all pairs.
"""

from __future__ import annotations

import itertools

import numpy as np

from .prepared import Prepared
from .stats import cramers_v


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation on rows where both are non-null; 0 when either side is constant or < 2 rows."""
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def pair_dependence(prepared: Prepared, a: str, b: str, which: str = "real") -> float:
    frame = getattr(prepared, which)
    codes = getattr(prepared, f"{which}_codes")
    numeric = {"numeric", "datetime"}
    if prepared.kinds[a] in numeric and prepared.kinds[b] in numeric:
        return pearson(frame[a].to_numpy("float64"), frame[b].to_numpy("float64"))
    cols = prepared.discretizer.columns
    return cramers_v(codes[:, cols.index(a)], codes[:, cols.index(b)])


def dependence_differences(prepared: Prepared, which: str = "synthetic") -> dict[tuple[str, str], float]:
    """|dep_real - dep_other| per pair; `which` is 'synthetic' or 'holdout' (the noise floor)."""
    return {
        (a, b): abs(pair_dependence(prepared, a, b, "real") - pair_dependence(prepared, a, b, which))
        for a, b in itertools.combinations(prepared.columns, 2)
    }


def mean_dependence_difference(prepared: Prepared, which: str = "synthetic") -> tuple[float, list]:
    diffs = dependence_differences(prepared, which)
    if not diffs:
        return float("nan"), []
    worst = sorted(diffs.items(), key=lambda kv: -kv[1])[:5]
    return float(np.mean(list(diffs.values()))), worst
