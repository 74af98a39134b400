"""Gaussian-DP audit of Gaussian measurements: estimate mu and compare it with the mu the budget charge stands for.

A count with sensitivity 1 measured with Gaussian noise sigma is mu-GDP with mu = 1/sigma (Dong, Roth, Su 2019), and
the charge rho = 1/(2 sigma^2) stands for mu = sqrt(2 rho). Runs on the two worlds give samples of N(c, s^2) and
N(c + 1, s^2) where s is the noise actually applied; mu_hat = (mean_in - mean_out) / s_pooled estimates 1/s with
standard error ~ sqrt(1/n_out + 1/n_in + mu^2 / (2 (n_out + n_in - 2))) ~ sqrt(2/n) for small mu. A noise bug that
halves sigma doubles mu, which is many standard errors away with a few thousand draws, while an epsilon audit of the
same draws barely moves (dp-correctness.md, "Gaussian measurements").

Composition: k Gaussian measurements of the same canary, each standardised, compose to mu = sqrt(sum mu_i^2) =
sqrt(2 sum rho_i); `standardised_sum` builds the score whose mean shift is that mu.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.stats import norm


def mu_for_rho(rho: float) -> float:
    """mu of a Gaussian mechanism whose zCDP charge is rho (sensitivity-1 statistic): sqrt(2 rho)."""
    if rho < 0:
        raise ValueError(f"rho must be >= 0, got {rho}")
    return math.sqrt(2 * rho)


@dataclass(frozen=True)
class MuAudit:
    """mu_hat +- se from runs of two worlds; `mu_lower` is the one-sided lower confidence bound.

    exceeded: mu_lower > mu_claimed, i.e. the noise applied is smaller than the charge claims (at `confidence`).
    """

    mu_hat: float
    se: float
    mu_lower: float
    mu_claimed: float
    runs_out: int
    runs_in: int
    confidence: float

    @property
    def exceeded(self) -> bool:
        return self.mu_lower > self.mu_claimed

    @property
    def z(self) -> float:
        """(mu_hat - mu_claimed) / se: how many standard errors above the claim the estimate sits."""
        if not math.isfinite(self.mu_hat):
            return math.inf
        return (self.mu_hat - self.mu_claimed) / self.se if self.se > 0 else math.inf

    def to_dict(self) -> dict:
        return dict(self.__dict__, exceeded=self.exceeded, z=self.z)


def mu_standard_error(mu: float, runs_out: int, runs_in: int) -> float:
    """Delta-method standard error of mu_hat = mean difference / pooled standard deviation."""
    dof = max(runs_out + runs_in - 2, 1)
    mu = mu if math.isfinite(mu) else 0.0
    return math.sqrt(1 / runs_out + 1 / runs_in + mu * mu / (2 * dof))


def gdp_audit(out_values: Sequence[float], in_values: Sequence[float], mu_claimed: float,
              confidence: float = 0.95) -> MuAudit:
    """mu audit of a Gaussian statistic whose mean moves by one (noise) standard deviation unit per unit of mu.

    Args:
        out_values, in_values: the statistic in runs without / with the canary (e.g. the canary cell's noisy count,
            whose mean moves by exactly 1 when the canary is added).
        mu_claimed: the mu the charge stands for (`mu_for_rho(rho)`).
        confidence: of the one-sided lower bound.
    """
    out_values, in_values = np.asarray(out_values, float), np.asarray(in_values, float)
    n_out, n_in = len(out_values), len(in_values)
    if n_out < 2 or n_in < 2:
        raise ValueError("a mu audit needs at least two runs per world")
    shift = float(in_values.mean() - out_values.mean())
    pooled = math.sqrt((((out_values - out_values.mean()) ** 2).sum() + ((in_values - in_values.mean()) ** 2).sum())
                       / (n_out + n_in - 2))
    if pooled == 0:
        mu_hat = math.inf if shift > 0 else 0.0
    else:
        mu_hat = shift / pooled
    se = mu_standard_error(mu_hat, n_out, n_in)
    mu_lower = mu_hat - float(norm.ppf(confidence)) * se if math.isfinite(mu_hat) else mu_hat
    return MuAudit(mu_hat, se, mu_lower, float(mu_claimed), n_out, n_in, confidence)


def standardised_sum(noisy: Sequence[float], exact_out: Sequence[float], sigmas: Sequence[float]
                     ) -> tuple[float, float]:
    """Likelihood-ratio score of several Gaussian measurements of one canary cell each.

    Args:
        noisy: the measured values of the canary's cell in each measurement.
        exact_out: each cell's exact count in the world without the canary (known to the auditor).
        sigmas: the noise each measurement claims (from its charge: sigma_i = 1 / sqrt(2 rho_i)).

    Returns:
        (score, mu_claimed): score = sum_i (x_i - c_i) / sigma_i^2 / sqrt(sum_i 1/sigma_i^2), distributed N(0, 1)
        without the canary and N(mu_claimed, 1) with it when every measurement applies the noise it claims.
    """
    x = np.asarray(noisy, float) - np.asarray(exact_out, float)
    precision = 1.0 / np.square(np.asarray(sigmas, float))
    total = float(precision.sum())
    if total == 0:
        return 0.0, 0.0
    return float((x * precision).sum() / math.sqrt(total)), math.sqrt(total)
