"""PrivateTable: the measurement layer's front door. Raw data goes in; only noisy, charged answers come out.

Every method that reads the engine charges a node of the release's `PrivacyBudget` tree first (so a refused step
reads nothing) and returns noisy values. Privacy unit: one row (add/remove neighbours), so a contingency table over a
partition of the rows has L2 sensitivity 1 and the Gaussian mechanism with std sigma costs rho = 1/(2 sigma²).

Methods take `budget=` (a node of this table's budget tree; default the root the table was opened with). Rows leave
this layer only inside `TrainingRows`, tied to a calibrated DP-SGD plan whose epsilon was charged when they were
handed out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..accounting.budget import PrivacyBudget
from ..accounting.zcdp import exponential_rho, gaussian_rho
from ..errors import BudgetOverspendError
from ..mechanisms.exponential import exponential_mechanism
from ..mechanisms.gaussian import discrete_gaussian, noise_rng
from .binning import Binning
from .engine import Engine, SourceColumn
from .guard import guarded
from .pandas_engine import codes_of


def threshold_for(sigma: float, delta_threshold: float) -> int:
    """Release threshold for thresholded noisy counts.

    A value held by exactly one row is released only if 1 + Z >= threshold with Z ~ N_Z(0, sigma²). The discrete
    Gaussian is sigma-subgaussian (Canonne-Kamath-Steinke 2020, Cor. 9), so P(Z >= k) <= exp(-k²/(2 sigma²)); with
    k = ceil(sigma * sqrt(2 ln(1/delta_threshold))) that probability is at most delta_threshold.
    """
    k = math.ceil(sigma * math.sqrt(2 * math.log(1 / delta_threshold)))
    return 1 + k


def off_diagonal_sensitivity(d: int, bound: float) -> float:
    """L2 sensitivity of the off-diagonal products (z_i z_j, i < j) of one row with ||z||² <= bound:
    sqrt(sum_{i<j} z_i² z_j²) = sqrt((||z||⁴ - sum z_i⁴)/2) <= bound sqrt((1 - 1/d)/2) (as sum z_i⁴ >= ||z||⁴/d)."""
    return bound * math.sqrt((1.0 - 1.0 / d) / 2.0)


@dataclass
class AccessLog:
    """Which private reads happened (for the release record); values never stored."""

    entries: list[dict] = field(default_factory=list)

    def add(self, **entry):
        self.entries.append(entry)


class TrainingRows:
    """Raw rows handed to a DP-SGD trainer, tied to the calibrated plan whose epsilon was charged for them.

    The trainer must follow `plan` (Poisson rate `plan.sample_rate`, `plan.steps` steps, noise multiplier
    `plan.noise_multiplier`, per-row clipping): that is what was charged. `take()` returns the rows once.
    """

    def __init__(self, frame: pd.DataFrame, plan: Any):
        self._frame: pd.DataFrame | None = frame
        self.plan = plan

    def take(self) -> pd.DataFrame:
        if self._frame is None:
            raise RuntimeError("training rows were already taken")
        frame, self._frame = self._frame, None
        return frame


class PrivateTable:
    """The only door to raw rows: every answer is noisy and charged before the engine is read.

    Args:
        engine: where the rows live.
        budget: the root of the release's zCDP budget tree (methods may charge any node of it).
        rng: the noise generator; default OS entropy (`noise_rng()`). Tests pass a seeded one.
    """

    def __init__(self, engine: Engine, budget: PrivacyBudget, rng: np.random.Generator | None = None):
        self._engine = engine
        self.budget = budget
        self._rng = rng if rng is not None else noise_rng()
        self.access = AccessLog()
        self._exact_cache: dict[tuple, np.ndarray] = {}

    def _node(self, budget: PrivacyBudget | None) -> PrivacyBudget:
        node = budget if budget is not None else self.budget
        if node.root is not self.budget.root:
            raise BudgetOverspendError(f"budget {node.label!r} does not belong to this table's budget tree")
        return node

    def _exact(self, binnings: Sequence[Binning], step: str) -> np.ndarray:
        """Exact counts — private; never returned to callers. Cached so repeated selection rounds query once."""
        key = tuple(binnings)
        if key not in self._exact_cache:
            self._exact_cache[key] = guarded(lambda: self._engine.count_cells(binnings), step=step,
                                             table=self.relation_name, columns=[b.column for b in binnings])
            self.access.add(step=step, query="count_cells", columns=[b.column for b in binnings])
        return self._exact_cache[key]

    @property
    def rng(self) -> np.random.Generator:
        """This table's noise generator (shared with another part of the same release, e.g. the holdout's)."""
        return self._rng

    @property
    def relation_name(self) -> str:
        return self._engine.relation_name

    def schema(self) -> list[SourceColumn]:
        return guarded(self._engine.schema, step="schema", table=self.relation_name)

    def noise_seed(self) -> int:
        """A seed for noise drawn by another library (DP-SGD), taken from this table's noise generator."""
        return int(self._rng.integers(2 ** 63 - 1))

    def measure(self, binnings: Sequence[Binning], sigma: float, step: str,
                budget: PrivacyBudget | None = None) -> np.ndarray:
        """Noisy contingency table (int64, discrete Gaussian std sigma) over the binned columns; charges 1/(2σ²)."""
        cols = [b.column for b in binnings]
        self._node(budget).spend(step, "discrete_gaussian", gaussian_rho(sigma), columns=cols, sigma=sigma)
        exact = self._exact(binnings, step)
        return exact + discrete_gaussian(exact.shape, sigma, self._rng)

    def select_worst_approximated(self, candidates: Sequence[Sequence[Binning]], estimates: Sequence[np.ndarray],
                                  epsilon: float, step: str, penalties: Sequence[float] | None = None,
                                  weights: Sequence[float] | None = None,
                                  budget: PrivacyBudget | None = None) -> int:
        """Exponential mechanism over candidate marginals, score_k = w_k (||exact_k - estimate_k||_1 - penalty_k).

        Adding or removing one row moves one cell of each exact marginal by 1, so a score moves by at most w_k:
        sensitivity max(w). Costs epsilon²/8 (bounded range). Returns the chosen candidate's index.
        """
        if len(candidates) != len(estimates):
            raise ValueError("one estimate per candidate marginal is needed")
        w = np.ones(len(candidates)) if weights is None else np.asarray(weights, dtype=float)
        pen = np.zeros(len(candidates)) if penalties is None else np.asarray(penalties, dtype=float)
        self._node(budget).spend(step, "exponential_mechanism", exponential_rho(epsilon), epsilon=epsilon,
                                 candidates=len(candidates), sensitivity=float(w.max()))
        scores = np.array([wk * (np.abs(self._exact(c, step) - e).sum() - pk)
                           for c, e, wk, pk in zip(candidates, estimates, w, pen)])
        return exponential_mechanism(scores, epsilon, float(w.max()), self._rng)

    def discover_categories(self, column: str, sigma: float, delta_threshold: float, step: str,
                            max_categories: int, budget: PrivacyBudget | None = None) -> dict[object, int]:
        """Values whose noisy count clears the threshold (at most `max_categories`, the largest noisy counts).

        (rho, delta_threshold)-approximate zCDP: the Gaussian part costs 1/(2σ²); a value present in the data only
        through the differing row is released with probability <= delta_threshold (see `threshold_for`).
        """
        self._node(budget).spend(step, "thresholded_discrete_gaussian", gaussian_rho(sigma), columns=[column],
                                 sigma=sigma, delta_threshold=delta_threshold)
        exact = guarded(lambda: self._engine.count_values(column), step=step, table=self.relation_name,
                        columns=[column])
        self.access.add(step=step, query="count_values", columns=[column])
        if not exact:
            return {}
        noise = discrete_gaussian((len(exact),), sigma, self._rng)
        tau = threshold_for(sigma, delta_threshold)
        released = [(v, int(c + z)) for (v, c), z in zip(exact, noise) if c + z >= tau]
        released.sort(key=lambda vc: -vc[1])
        return dict(released[:max_categories])

    def noisy_tvd_test(self, binning_sets: Sequence[Sequence[Binning]], distributions: Sequence[np.ndarray],
                       threshold: float, sigma: float, step: str, budget: PrivacyBudget | None = None) -> float:
        """Noisy threshold test of "the mean TVD between these rows' marginals and `distributions` <= threshold".

        Statistic G = sum_j (1/2 ||c_j - n q_j||_1 - threshold * n) over the M column sets, with c_j the exact
        contingency table of set j, n the row count and q_j the given distribution (public: e.g. the synthetic
        table's marginal). Adding or removing one row moves c_j by one cell and n by one, so 1/2 ||c_j - n q_j||_1
        moves by at most 1 - q_jk <= 1 and the threshold term by `threshold`: L2 (= L1, a scalar) sensitivity
        M (1 + threshold). Gaussian noise of std sigma costs (M (1 + threshold))² / (2 sigma²), charged first.
        G <= 0 iff the mean TVD <= threshold. Returns G + N(0, sigma²) (continuous noise on a real statistic).
        """
        if len(binning_sets) != len(distributions) or not binning_sets:
            raise ValueError("one distribution per column set, and at least one set, are needed")
        if any(np.shape(q) != tuple(b.size for b in bs) for bs, q in zip(binning_sets, distributions, strict=True)):
            raise ValueError("each distribution must have the shape of its column set's contingency table")
        sensitivity = len(binning_sets) * (1.0 + float(threshold))
        cols = sorted({b.column for bs in binning_sets for b in bs})
        self._node(budget).spend(step, "gaussian", gaussian_rho(sigma, sensitivity), columns=cols, sigma=sigma,
                                 sensitivity=sensitivity, threshold=float(threshold), column_sets=len(binning_sets),
                                 statistic="noisy threshold test of the mean marginal TVD")
        statistic = 0.0
        for binnings, q in zip(binning_sets, distributions, strict=True):
            exact = self._exact(binnings, step).astype(float)
            n = float(exact.sum())
            statistic += 0.5 * float(np.abs(exact - n * np.asarray(q, dtype=float)).sum()) - float(threshold) * n
        return statistic + float(self._rng.normal(0.0, sigma))

    def noisy_score_products(self, binnings: Sequence[Binning], score_tables: Sequence[np.ndarray], bound: float,
                             sigma: float, step: str, budget: PrivacyBudget | None = None) -> np.ndarray:
        """Gaussian-noised S_ij = sum over rows of z_i z_j (i < j; flattened upper triangle, row-major).

        Each row's score vector z has z_j = score_tables[j][code of column j under binnings[j]] and is scaled down,
        if needed, to ||z||² <= `bound`; then one row moves S by at most `off_diagonal_sensitivity(d, bound)` in L2,
        and std-sigma Gaussian noise costs Δ²/(2σ²), charged first. (Continuous float noise on a real statistic.)
        """
        d = len(binnings)
        delta = off_diagonal_sensitivity(d, bound)
        cols = [b.column for b in binnings]
        self._node(budget).spend(step, "gaussian", gaussian_rho(sigma, delta), columns=cols, sigma=sigma,
                                 sensitivity=delta, row_norm_bound=bound,
                                 statistic="sum of off-diagonal score products")
        rows = guarded(lambda: self._engine.fetch_rows(cols), step=step, table=self.relation_name, columns=cols)
        self.access.add(step=step, query="fetch_rows", columns=cols)
        z = np.empty((len(rows), d), dtype=float)
        for j, b in enumerate(binnings):
            z[:, j] = np.asarray(score_tables[j], dtype=float)[codes_of(rows[b.column], b)]
        del rows
        norms = np.einsum("ij,ij->i", z, z)
        z *= np.sqrt(bound / np.maximum(norms, bound))[:, None]      # 1 for rows already inside the ball
        iu = np.triu_indices(d, k=1)
        return (z.T @ z)[iu] + self._rng.normal(0.0, sigma, size=len(iu[0]))

    def training_rows(self, columns: Sequence[str], plan: Any, step: str,
                      budget: PrivacyBudget | None = None) -> TrainingRows:
        """Raw rows for DP-SGD, handed out only against a calibrated plan (`DpSgdPlan`) that fits the DP-SGD share of
        `budget` (`budget.dpsgd`); the plan's epsilon is charged there first."""
        node = self._node(budget)
        allowance = node.dpsgd_allowance()
        if allowance is None:
            raise BudgetOverspendError(f"budget {node.label!r} has no DP-SGD share")
        allowance.charge(step, plan)
        self.access.add(step=step, query="fetch_rows", columns=list(columns))
        rows = guarded(lambda: self._engine.fetch_rows(columns), step=step, table=self.relation_name,
                       columns=list(columns))
        return TrainingRows(rows, plan)
