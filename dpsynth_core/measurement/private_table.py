"""PrivateTable: the measurement layer's front door. Raw data goes in; only noisy, charged answers come out.

Every method that reads the engine charges the release's `PrivacyBudget` first (so a refused step reads nothing) and
returns noisy values. Privacy unit: one row (add/remove neighbours), so a contingency table over a partition of the
rows has L2 sensitivity 1 and the Gaussian mechanism with std sigma costs rho = 1/(2 sigma²).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..accounting.budget import PrivacyBudget
from ..accounting.zcdp import exponential_rho, gaussian_rho
from ..mechanisms.exponential import exponential_mechanism
from ..mechanisms.gaussian import discrete_gaussian, noise_rng
from .binning import Binning
from .engine import Engine


def threshold_for(sigma: float, delta_threshold: float) -> int:
    """Release threshold for thresholded noisy counts.

    A value held by exactly one row is released only if 1 + Z >= threshold with Z ~ N_Z(0, sigma²). The discrete
    Gaussian is sigma-subgaussian (Canonne-Kamath-Steinke 2020, Cor. 9), so P(Z >= k) <= exp(-k²/(2 sigma²)); with
    k = ceil(sigma * sqrt(2 ln(1/delta_threshold))) that probability is at most delta_threshold.
    """
    k = math.ceil(sigma * math.sqrt(2 * math.log(1 / delta_threshold)))
    return 1 + k


@dataclass
class AccessLog:
    """Which private reads happened (for the release record); values never stored."""

    entries: list[dict] = field(default_factory=list)

    def add(self, **entry):
        self.entries.append(entry)


class PrivateTable:
    def __init__(self, engine: Engine, budget: PrivacyBudget, rng: np.random.Generator | None = None):
        self._engine = engine
        self.budget = budget
        self._rng = rng if rng is not None else noise_rng()
        self.access = AccessLog()
        self._exact_cache: dict[tuple, np.ndarray] = {}

    def _exact(self, binnings: Sequence[Binning], step: str) -> np.ndarray:
        """Exact counts — private; never returned to callers. Cached so repeated selection rounds query once."""
        key = tuple(binnings)
        if key not in self._exact_cache:
            self._exact_cache[key] = self._engine.count_cells(binnings)
            self.access.add(step=step, query="count_cells", columns=[b.column for b in binnings])
        return self._exact_cache[key]

    @property
    def relation_name(self) -> str:
        return self._engine.relation_name

    def schema(self) -> list[tuple[str, str]]:
        return self._engine.schema()

    def measure(self, binnings: Sequence[Binning], sigma: float, step: str) -> np.ndarray:
        """Noisy contingency table (int64, discrete Gaussian std sigma) over the binned columns; charges 1/(2σ²)."""
        cols = [b.column for b in binnings]
        self.budget.spend(step, "discrete_gaussian", gaussian_rho(sigma), columns=cols, sigma=sigma)
        exact = self._exact(binnings, step)
        return exact + discrete_gaussian(exact.shape, sigma, self._rng)

    def select_worst_approximated(self, candidates: Sequence[Sequence[Binning]], estimates: Sequence[np.ndarray],
                                  epsilon: float, step: str, penalties: Sequence[float] | None = None,
                                  weights: Sequence[float] | None = None) -> int:
        """Exponential mechanism over candidate marginals, score_k = w_k (||exact_k - estimate_k||_1 - penalty_k).

        Adding or removing one row moves one cell of each exact marginal by 1, so a score moves by at most w_k:
        sensitivity max(w). Costs epsilon²/8 (bounded range). Returns the chosen candidate's index.
        """
        if len(candidates) != len(estimates):
            raise ValueError("one estimate per candidate marginal is needed")
        w = np.ones(len(candidates)) if weights is None else np.asarray(weights, dtype=float)
        pen = np.zeros(len(candidates)) if penalties is None else np.asarray(penalties, dtype=float)
        self.budget.spend(step, "exponential_mechanism", exponential_rho(epsilon), epsilon=epsilon,
                          candidates=len(candidates), sensitivity=float(w.max()))
        scores = np.array([wk * (np.abs(self._exact(c, step) - e).sum() - pk)
                           for c, e, wk, pk in zip(candidates, estimates, w, pen)])
        return exponential_mechanism(scores, epsilon, float(w.max()), self._rng)

    def discover_categories(self, column: str, sigma: float, delta_threshold: float, step: str,
                            max_categories: int) -> dict[object, int]:
        """Values whose noisy count clears the threshold (at most `max_categories`, the largest noisy counts).

        (rho, delta_threshold)-approximate zCDP: the Gaussian part costs 1/(2σ²); a value present in the data only
        through the differing row is released with probability <= delta_threshold (see `threshold_for`).
        """
        self.budget.spend(step, "thresholded_discrete_gaussian", gaussian_rho(sigma), columns=[column], sigma=sigma,
                          delta_threshold=delta_threshold)
        exact = self._engine.value_counts(column)
        self.access.add(step=step, query="value_counts", columns=[column])
        if not exact:
            return {}
        noise = discrete_gaussian((len(exact),), sigma, self._rng)
        tau = threshold_for(sigma, delta_threshold)
        released = [(v, int(c + z)) for (v, c), z in zip(exact, noise) if c + z >= tau]
        released.sort(key=lambda vc: -vc[1])
        return dict(released[:max_categories])

    def rows_for_training(self, columns: Sequence[str], step: str) -> pd.DataFrame:
        """Raw rows for a generator that is itself DP (DP-SGD). Logged; charged by the caller's own accountant."""
        self.access.add(step=step, query="fetch_rows", columns=list(columns))
        return self._engine.fetch_rows(columns)
