"""Audits of each `PrivateTable` mechanism against its own budget charge (cheap: no generator fit).

Each audit calls the mechanism many times on two tiny neighbouring tables and compares the privacy loss it shows with
the loss its charge stands for:
- `measure`: the canary cell's noisy count; mu audit against mu = sqrt(2 rho_charged) (Gaussian DP);
- `select_worst_approximated`: which candidate wins; the neighbours are built so that the canary moves one
  candidate's score up and the other's down by the sensitivity; epsilon audit against sqrt(8 rho_charged), the
  epsilon an exponential mechanism charged rho stands for;
- `discover_categories`: whether a value held only by the canary is released; epsilon audit at
  delta = delta_threshold + DELTA_CONVERSION against cdp_eps(rho_charged, DELTA_CONVERSION).
An end-to-end audit can only see a bug as large as the extra loss it causes in the whole release (an uncharged
selection step lets AIM run ~10% more rounds, and costs MST nothing extra because its selection share is allocated
up front: invisible either way); against its own charge the same bug is total (charged 0, leaks its epsilon), which
these audits show in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..accounting.budget import PrivacyBudget
from ..accounting.zcdp import cdp_eps
from ..measurement.binning import CategoricalBinning
from ..measurement.pandas_engine import PandasEngine, codes_of
from ..measurement.private_table import PrivateTable
from .epsilon import EpsilonAudit, scan_audit
from .gaussian import MuAudit, gdp_audit

DELTA_CONVERSION = 1e-6
_BUDGET = 1e6      # each draw gets a fresh PrivateTable with a budget that never binds
_MU_CONFIDENCE = 0.999
_EPS_CONFIDENCE = 0.95


@dataclass(frozen=True)
class MechanismAudit:
    """mechanism: which PrivateTable method; claimed: the epsilon (or mu) its charge stands for; measured: eps_LB
    (or the lower confidence bound of mu); flagged: measured > claimed; detail: the underlying audit."""

    mechanism: str
    quantity: str
    claimed: float
    measured: float
    draws: int
    detail: Any

    @property
    def flagged(self) -> bool:
        return self.measured > self.claimed

    def summary(self) -> dict:
        return {"mechanism": self.mechanism, "quantity": self.quantity, "claimed": self.claimed,
                "measured": self.measured, "draws_per_world": self.draws, "flagged": self.flagged}


def _tables(canary_value: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    base = pd.DataFrame({"x": ["a"] * 30 + ["b"] * 30, "z": ["a"] * 20 + ["b"] * 40}, dtype=object)
    canary = pd.DataFrame({"x": [canary_value], "z": ["a"]}, dtype=object)
    return base, pd.concat([canary, base], ignore_index=True)


def _private(frame: pd.DataFrame, rng: np.random.Generator) -> PrivateTable:
    return PrivateTable(PandasEngine(frame, "mechanism_audit"), PrivacyBudget(_BUDGET, DELTA_CONVERSION), rng)


def audit_measure(draws: int = 2000, sigma: float = 2.0) -> MechanismAudit:
    """mu audit of `PrivateTable.measure` on a 1-way count (the canary adds one row to cell `a`)."""
    binning = CategoricalBinning("x", ("a", "b"), True, False)
    rng = np.random.default_rng()
    values: dict[bool, list[float]] = {False: [], True: []}
    charges = []
    for _ in range(draws):
        for canary, frame in zip((False, True), _tables("a"), strict=True):
            private = _private(frame, rng)
            values[canary].append(float(private.measure([binning], sigma, step="audit:measure")[0]))
            charges.append(private.budget.spent)
    mu_claimed = math.sqrt(2 * max(charges))
    mu = gdp_audit(values[False], values[True], mu_claimed, _MU_CONFIDENCE)
    return MechanismAudit("measure", "mu", mu_claimed, mu.mu_lower, draws, mu)


def audit_selection(draws: int = 2000, epsilon: float = 2.0) -> MechanismAudit:
    """epsilon audit of `PrivateTable.select_worst_approximated` with two candidate 1-way marginals.

    Estimates equal the exact marginals of D, except that z's estimate holds one extra row in the canary's cell:
    scores are (0, 1) on D and (1, 0) on D', the largest swing one row can cause.
    """
    base, with_canary = _tables("a")
    bx = CategoricalBinning("x", ("a", "b"), True, False)
    bz = CategoricalBinning("z", ("a", "b"), True, False)
    est_x = np.bincount(codes_of(base["x"], bx), minlength=bx.size).astype(float)
    est_z = np.bincount(codes_of(base["z"], bz), minlength=bz.size).astype(float)
    est_z[0] += 1
    rng = np.random.default_rng()
    chose_x: dict[bool, list[float]] = {False: [], True: []}
    charges = []
    for _ in range(draws):
        for canary, frame in zip((False, True), (base, with_canary), strict=True):
            private = _private(frame, rng)
            chosen = private.select_worst_approximated([[bx], [bz]], [est_x, est_z], epsilon, step="audit:select")
            chose_x[canary].append(float(chosen == 0))
            charges.append(private.budget.spent)
    claimed = math.sqrt(8 * max(charges))
    audit = scan_audit(chose_x[False], chose_x[True], [0.5], 0.0, _EPS_CONFIDENCE, output_sets=("in_high",),
                       score="chose_canary_candidate")
    return MechanismAudit("select_worst_approximated", "epsilon", claimed, audit.epsilon, draws, audit)


def audit_discovery(draws: int = 200, sigma: float = 10.0, delta_threshold: float = 1e-6) -> MechanismAudit:
    """epsilon audit of `PrivateTable.discover_categories`: is the canary's value (held by no other row) released?"""
    base, with_canary = _tables("zz_canary")
    rng = np.random.default_rng()
    released: dict[bool, list[float]] = {False: [], True: []}
    charges = []
    for _ in range(draws):
        for canary, frame in zip((False, True), (base, with_canary), strict=True):
            private = _private(frame, rng)
            values = private.discover_categories("x", sigma, delta_threshold, step="audit:discover",
                                                 max_categories=10)
            released[canary].append(float("zz_canary" in values))
            charges.append(private.budget.spent)
    claimed = cdp_eps(max(charges), DELTA_CONVERSION)
    audit: EpsilonAudit = scan_audit(released[False], released[True], [0.5], delta_threshold + DELTA_CONVERSION,
                                     _EPS_CONFIDENCE, output_sets=("in_high",), score="canary_value_released")
    return MechanismAudit("discover_categories", "epsilon", claimed, audit.epsilon, draws, audit)


def audit_mechanisms(scale: float = 1.0) -> list[MechanismAudit]:
    """All three mechanism audits (`scale` multiplies the number of draws)."""
    return [audit_measure(int(2000 * scale)), audit_selection(int(2000 * scale)), audit_discovery(int(200 * scale))]


__all__ = ["MechanismAudit", "MuAudit", "audit_discovery", "audit_measure", "audit_mechanisms", "audit_selection"]
