"""Number formatting and what an (epsilon, delta) guarantee means numerically, for the report's plain statements.

Hypothesis-testing view of DP (Wasserman & Zhou 2010; Kairouz, Oh, Viswanath 2015): for an (epsilon, delta)-DP
release, any test of "row x was in the input" vs "it was not" has TPR <= e^eps * FPR + delta and
1 - FPR <= e^eps * (1 - TPR) + delta. The area under that boundary is the largest membership-inference AUC any attack
can reach; for delta = 0 it is exactly e^eps / (1 + e^eps). A Bayesian reading (pure DP): the posterior odds that
the row was in the input are at most e^eps times the prior odds.
"""

from __future__ import annotations

import math
from typing import Any


def num(x: Any, digits: int = 4) -> str:
    """How the report prints a number: `digits` significant digits, 'n/a' for missing/NaN."""
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int):
        return str(x)
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}g}"


def pct(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * float(x):.{digits}g}%"


def _exp(eps: float) -> float:
    return math.exp(min(eps, 700.0))


def tpr_bound(eps: float, delta: float, fpr: float) -> float:
    """Largest true-positive rate of a membership test at false-positive rate `fpr` under (eps, delta)-DP."""
    e = _exp(eps)
    return min(1.0, e * fpr + delta, 1.0 - (1.0 - delta - fpr) / e)


def membership_auc_bound(eps: float, delta: float = 0.0) -> float:
    """Area under the (eps, delta)-DP trade-off boundary: the largest membership-inference AUC of any attack.

    For delta = 0 this is e^eps / (1 + e^eps). The boundary is min(e^eps a + delta, 1 - e^-eps (1 - delta - a), 1);
    its two lines cross at a* = (1 - delta) / (1 + e^eps) and the second reaches 1 at a = 1 - delta.
    """
    if eps < 0 or not 0 <= delta < 1:
        raise ValueError(f"need eps >= 0 and 0 <= delta < 1, got {eps}, {delta}")
    e = _exp(eps)
    a_star = (1.0 - delta) / (1.0 + e)
    first = e * a_star ** 2 / 2 + delta * a_star
    span = 1.0 - delta - a_star
    second = span - span ** 2 / (2 * e)
    return min(1.0, first + second + delta)


def posterior_bound(eps: float, prior: float) -> float:
    """Largest posterior probability that a row was in the input, from prior probability `prior` (pure eps-DP)."""
    e = _exp(eps)
    return prior * e / (prior * e + 1.0 - prior)


def trade_off_curve(eps: float, delta: float, points: int = 41) -> list[list[float]]:
    """(FPR, largest TPR) pairs of the (eps, delta) boundary, for plotting."""
    out = []
    for i in range(points):
        a = i / (points - 1)
        out.append([round(a, 4), round(tpr_bound(eps, delta, a), 4)])
    # the corner where the two lines cross makes the curve exact when drawn as straight segments
    a_star = (1.0 - delta) / (1.0 + _exp(eps))
    out.append([round(a_star, 6), round(tpr_bound(eps, delta, a_star), 6)])
    return sorted(out)
