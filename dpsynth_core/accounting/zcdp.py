"""Zero-concentrated DP (Bun & Steinke 2016) and its tight conversion to (epsilon, delta)-DP.

Units: rho is the zCDP parameter (dimensionless); epsilon natural-log units; delta a probability.
The conversion is Proposition 12 of Canonne, Kamath, Steinke 2020 ("The Discrete Gaussian for Differential Privacy"),
the same formula private-pgm's `cdp_rho` uses: for rho-zCDP and any alpha > 1,
    delta = exp((alpha-1)(alpha*rho - eps)) / (alpha-1) * (1 - 1/alpha)^alpha
and we minimise over alpha. It is tighter than the classic eps = rho + 2*sqrt(rho*ln(1/delta)).
"""

from __future__ import annotations

import functools
import math

# Bisection halves the interval each step: 200 steps reach float64 resolution. Every intermediate answer is on the
# safe side (any alpha > 1 gives a valid delta; eps is taken from the upper end, rho from the lower end).
_BISECTION_STEPS = 200


def cdp_delta(rho: float, eps: float) -> float:
    """Smallest delta such that rho-zCDP implies (eps, delta)-DP."""
    if rho < 0 or eps < 0:
        raise ValueError(f"rho and eps must be >= 0 (got rho={rho}, eps={eps})")
    if rho == 0:
        return 0.0
    amin, amax = 1.01, (eps + 1) / (2 * rho) + 2
    for _ in range(_BISECTION_STEPS):
        alpha = (amin + amax) / 2
        derivative = (2 * alpha - 1) * rho - eps + math.log1p(-1.0 / alpha)
        if derivative < 0:
            amin = alpha
        else:
            amax = alpha
    # in log space: the exponent reaches thousands for a large epsilon (math.exp would overflow)
    log_delta = (alpha - 1) * (alpha * rho - eps) + alpha * math.log1p(-1 / alpha) - math.log(alpha - 1.0)
    return 1.0 if log_delta >= 0 else math.exp(log_delta)


# The conversions are pure and each takes ~40k float operations; a release record converts every spend line, and an
# empirical audit builds thousands of records with the same few rho values, so both are memoised.
@functools.lru_cache(maxsize=4096)
def cdp_eps(rho: float, delta: float) -> float:
    """Smallest epsilon such that rho-zCDP implies (epsilon, delta)-DP (never negative)."""
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if rho < 0:
        raise ValueError(f"rho must be >= 0, got {rho}")
    if rho == 0:
        return 0.0
    epsmin, epsmax = 0.0, rho + 2 * math.sqrt(rho * math.log(1 / delta))  # classic bound is an upper bound
    for _ in range(_BISECTION_STEPS):
        eps = (epsmin + epsmax) / 2
        if cdp_delta(rho, eps) <= delta:
            epsmax = eps
        else:
            epsmin = eps
    return epsmax


@functools.lru_cache(maxsize=4096)
def cdp_rho(eps: float, delta: float) -> float:
    """Largest rho such that rho-zCDP implies (eps, delta)-DP. The result never converts back to more than eps."""
    if eps < 0:
        raise ValueError(f"epsilon must be >= 0, got {eps}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if eps == 0:
        return 0.0
    rhomin, rhomax = 0.0, eps + 1
    for _ in range(_BISECTION_STEPS):
        rho = (rhomin + rhomax) / 2
        if cdp_delta(rho, eps) <= delta:
            rhomin = rho
        else:
            rhomax = rho
    return rhomin


def gaussian_rho(sigma: float, sensitivity: float = 1.0) -> float:
    """rho of the Gaussian mechanism with L2 sensitivity `sensitivity` and noise std `sigma`: Δ²/(2σ²)."""
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    return sensitivity ** 2 / (2 * sigma ** 2)


def sigma_for_rho(rho: float, sensitivity: float = 1.0) -> float:
    """Noise std that makes the Gaussian mechanism rho-zCDP: σ = Δ / sqrt(2ρ)."""
    if rho <= 0:
        raise ValueError(f"rho must be > 0, got {rho}")
    return sensitivity / math.sqrt(2 * rho)


def exponential_rho(eps: float) -> float:
    """rho of the exponential mechanism with parameter eps (bounded range, Cesar & Rogers 2021): eps²/8."""
    if eps < 0:
        raise ValueError(f"epsilon must be >= 0, got {eps}")
    return eps ** 2 / 8


def exponential_eps_for_rho(rho: float) -> float:
    """Exponential-mechanism epsilon that costs exactly rho: sqrt(8ρ)."""
    if rho < 0:
        raise ValueError(f"rho must be >= 0, got {rho}")
    return math.sqrt(8 * rho)
