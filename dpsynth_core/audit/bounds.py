"""Exact (Clopper-Pearson) confidence bounds for a binomial proportion.

Units: `successes` and `trials` are counts; `alpha` is the one-sided error probability of the bound returned
(a two-sided interval at confidence 1 - alpha puts alpha/2 in each tail).
"""

from __future__ import annotations

from scipy.stats import beta


def _check(successes: int, trials: int, alpha: float) -> None:
    if trials < 1 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials >= 1, got {successes}/{trials}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")


def lower_bound(successes: int, trials: int, alpha: float) -> float:
    """One-sided lower bound p_lo with P[p < p_lo] <= alpha (0 when there is no success)."""
    _check(successes, trials, alpha)
    if successes == 0:
        return 0.0
    return float(beta.ppf(alpha, successes, trials - successes + 1))


def upper_bound(successes: int, trials: int, alpha: float) -> float:
    """One-sided upper bound p_hi with P[p > p_hi] <= alpha (1 when every trial succeeded)."""
    _check(successes, trials, alpha)
    if successes == trials:
        return 1.0
    return float(beta.ppf(1 - alpha, successes + 1, trials - successes))


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Clopper-Pearson interval at `confidence` (each tail (1 - confidence) / 2)."""
    tail = (1 - confidence) / 2
    return lower_bound(successes, trials, tail), upper_bound(successes, trials, tail)
