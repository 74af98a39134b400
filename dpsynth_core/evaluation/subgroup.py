"""Subgroup fidelity (utility; lower is better): 1-way TVD of the other columns within each level of one column.

For each level g of `by` (bins fixed on real, nulls a level) with real share w_g: the mean over the other columns of the
TVD between the real rows in g and the synthetic rows in g (1.0 when synthetic has no row in g). The metric is
sum_g w_g * tvd_g.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .discretize import joint_distribution
from .prepared import Prepared
from .stats import tvd


def subgroup_tvd(prepared: Prepared, by: str) -> tuple[float, dict[str, float]]:
    """(weighted mean TVD, per-level TVD keyed by the level's code label)."""
    names = prepared.discretizer.columns
    if by not in names:
        raise InputError(f"subgroup column {by!r} is not a compared column.", column=by,
                         fix=f"pick one of {', '.join(names)}.")
    j = names.index(by)
    others = [k for k in range(len(names)) if k != j]
    if not others:
        return float("nan"), {}
    sizes = prepared.discretizer.sizes
    real, synth = prepared.real_codes, prepared.synthetic_codes
    levels, counts = np.unique(real[:, j], return_counts=True)
    weights = counts / counts.sum()
    bins = prepared.discretizer.bins[j]
    per_level, total = {}, 0.0
    for level, weight in zip(levels, weights, strict=True):
        r = real[real[:, j] == level]
        s = synth[synth[:, j] == level]
        if len(s) == 0:
            value = 1.0
        else:
            value = float(np.mean([tvd(joint_distribution(r, sizes, (k,)), joint_distribution(s, sizes, (k,)))
                                   for k in others]))
        label = _label(bins, int(level))
        per_level[label] = value
        total += weight * value
    return float(total), per_level


def _label(bins, code: int) -> str:
    if code == bins.size - 1:
        return "<null>"
    if bins.kind == "categorical":
        return str(bins.categories[code])
    return f"bin{code}"
