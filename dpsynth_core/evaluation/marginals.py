"""k-way marginal total variation distance between real and synthetic (utility; lower is better).

Each column is coded with bins fixed on the real data (`discretize`), nulls in their own bin. For every set of k
columns the TVD of the two normalised k-way histograms is computed; the metric is their mean per order k.
"""

from __future__ import annotations

import itertools

import numpy as np

from .discretize import joint_distribution
from .prepared import Prepared
from .stats import tvd


def column_sets(n_columns: int, order: int, max_sets: int | None = None, seed: int = 0) -> list[tuple[int, ...]]:
    """All `order`-subsets of range(n_columns), or a seeded random `max_sets` of them when there are more."""
    sets = list(itertools.combinations(range(n_columns), order))
    if max_sets is not None and len(sets) > max_sets:
        picks = np.random.default_rng(seed).choice(len(sets), size=max_sets, replace=False)
        sets = [sets[i] for i in sorted(picks)]
    return sets


def marginal_tvds(real_codes: np.ndarray, other_codes: np.ndarray, sizes: np.ndarray, order: int,
                  max_sets: int | None = None, seed: int = 0) -> dict[tuple[int, ...], float]:
    """TVD per column set of size `order` (keys are column positions)."""
    return {
        cols: tvd(joint_distribution(real_codes, sizes, cols), joint_distribution(other_codes, sizes, cols))
        for cols in column_sets(real_codes.shape[1], order, max_sets, seed)
    }


def mean_marginal_tvd(prepared: Prepared, order: int, max_sets: int | None = 1000, seed: int = 0,
                      against_holdout: bool = False) -> tuple[float, list[tuple[tuple[str, ...], float]]]:
    """(mean TVD over column sets of size `order`, the five worst sets with names).

    `against_holdout=True` compares real train with the holdout instead: the sampling-noise floor of the metric.
    NaN when there are fewer columns than `order`.
    """
    other = prepared.holdout_codes if against_holdout else prepared.synthetic_codes
    sizes = prepared.discretizer.sizes
    tvds = marginal_tvds(prepared.real_codes, other, sizes, order, max_sets, seed)
    if not tvds:
        return float("nan"), []
    names = prepared.discretizer.columns
    worst = sorted(tvds.items(), key=lambda kv: -kv[1])[:5]
    return float(np.mean(list(tvds.values()))), [(tuple(names[j] for j in cols), v) for cols, v in worst]
