"""PrivateTable: the measurement layer's front door. Raw data goes in; only noisy, charged answers come out.

Every method that reads the engine charges a node of the release's `PrivacyBudget` tree first (so a refused step
reads nothing) and returns noisy values.

Privacy unit (`privacy_unit.py`): one row, or one key value with at most k rows (the table is bounded to k rows per
unit when it is opened, before any read). This class is the one place where k enters a sensitivity; every mechanism
charges for a neighbour that adds or removes up to k rows:
- contingency tables and value counts (`measure`, `discover_categories`): the k rows can all fall in one cell, so the
  L2 sensitivity is k and std-sigma Gaussian noise costs k²/(2σ²);
- the exponential mechanism (`select_worst_approximated`): each score w·||exact - estimate||_1 moves by at most k·w, so
  the score sensitivity is k·max(w);
- thresholded discovery: besides moving counts by k in L2, a unit can create up to k new values (counts c_v >= 1,
  sum <= k); the threshold is set so that any of them is released with probability <= delta (`threshold_for`);
- score products (`noisy_score_products`): each of the k rows moves the sums by at most Δ, so k·Δ;
- DP-SGD (`training_rows`) clips per row, so it is refused for k > 1 (the config refuses it before reading).
Callers calibrate noise with `sigma_for(rho)`, which includes k, so a generator's plan spends exactly its rho.

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
from ..accounting.zcdp import exponential_rho, gaussian_rho, sigma_for_rho
from ..errors import BudgetOverspendError, ConfigError
from ..mechanisms.exponential import exponential_mechanism
from ..mechanisms.gaussian import discrete_gaussian, noise_rng
from .binning import Binning, CategoricalBinning
from .engine import Engine, SourceColumn
from .guard import guarded
from .pandas_engine import codes_of
from .privacy_unit import ROW, PrivacyUnit, bound_contributions


def threshold_for(sigma: float, delta_threshold: float, max_rows_per_unit: int = 1) -> int:
    """Release threshold tau for thresholded noisy counts: values present only through the differing unit are
    released with probability <= delta_threshold.

    A unit of at most k rows creates new values with counts c_v >= 1, sum c_v <= k (at most k values). Each is
    released iff c_v + Z >= tau with Z ~ N_Z(0, sigma²); the discrete Gaussian is sigma-subgaussian
    (Canonne-Kamath-Steinke 2020, Cor. 9), so P(Z >= t) <= g(t) = exp(-t²/(2 sigma²)) for t >= 0, and by the union
    bound P(any new value released) <= max over such (c_v) of sum_v g(tau - c_v). That maximum is computed exactly (a
    knapsack over the integer splits of at most k rows), and tau is the smallest integer that brings it to
    delta_threshold or below. It lies between k + ceil(sigma sqrt(2 ln(1/delta))) (one value with all k rows) and
    k + ceil(sigma sqrt(2 ln(k/delta))) (k terms, each at most g(tau - k)); for k = 1 both are
    1 + ceil(sigma sqrt(2 ln(1/delta))).
    """
    k = int(max_rows_per_unit)
    if k < 1:
        raise ValueError(f"max_rows_per_unit must be >= 1, got {max_rows_per_unit}")
    low = k + math.ceil(sigma * math.sqrt(2 * math.log(1 / delta_threshold)))
    high = k + math.ceil(sigma * math.sqrt(2 * math.log(k / delta_threshold)))
    while low < high:                                 # the worst case falls as tau grows: bisect
        mid = (low + high) // 2
        if worst_new_value_release(sigma, mid, k) <= delta_threshold:
            high = mid
        else:
            low = mid + 1
    return low


def worst_new_value_release(sigma: float, tau: int, max_rows_per_unit: int) -> float:
    """max over splits of at most k rows into new values (c_v >= 1, sum <= k) of sum_v exp(-(tau - c_v)²/(2 sigma²)),
    the union bound on releasing any value that only the differing unit holds (tau > k)."""
    k = int(max_rows_per_unit)
    c = np.arange(1, k + 1, dtype=float)
    g = np.exp(-np.square(np.maximum(tau - c, 0.0)) / (2 * sigma * sigma))   # g[c - 1] bounds P(c + Z >= tau)
    best = np.zeros(k + 1)                            # best[s]: the largest sum over splits of exactly s rows
    for total in range(1, k + 1):
        best[total] = np.max(g[:total] + best[total - 1::-1][:total])   # last value holds c rows, the rest s - c
    return float(best.max())


@dataclass(frozen=True)
class ValueDiscovery:
    """What thresholded value discovery released (all of it DP): the values whose noisy count cleared `threshold`
    with those noisy counts, and the noisy null count (the null group is a public key: always released)."""

    values: dict
    null_count: int
    threshold: int
    sigma: float


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


def _null_binning(column: str, numeric: bool) -> CategoricalBinning:
    """Two codes: 0 = a value (as `count_values` reads it), 1 = null."""
    return CategoricalBinning(column, (), has_other=True, nullable=True, numeric=numeric)


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
        unit: the privacy unit; with a key column the engine is bounded to `unit.max_rows` rows per unit (secret
            random choice) before anything is read, and every sensitivity is multiplied by that k.
    """

    def __init__(self, engine: Engine, budget: PrivacyBudget, rng: np.random.Generator | None = None,
                 unit: PrivacyUnit = ROW):
        self.unit = unit
        self._engine = bound_contributions(engine, unit)     # lazy: a filter on the relation, nothing read yet
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

    @property
    def max_rows_per_unit(self) -> int:
        """k: the most rows one privacy unit contributes (1 for the row unit)."""
        return int(self.unit.max_rows)

    @property
    def count_sensitivity(self) -> float:
        """L2 sensitivity of any contingency table or value-count vector: k (all k rows of a unit in one cell)."""
        return float(self.max_rows_per_unit)

    def sigma_for(self, rho: float, row_sensitivity: float = 1.0) -> float:
        """Noise std at which a statistic moving by `row_sensitivity` (L2) per row costs `rho` under this table's
        privacy unit: sigma = k·row_sensitivity / sqrt(2 rho)."""
        return sigma_for_rho(rho, self.max_rows_per_unit * row_sensitivity)

    def gaussian_cost(self, sigma: float, row_sensitivity: float = 1.0) -> float:
        """rho that std-sigma Gaussian noise costs here on a statistic moving by `row_sensitivity` per row:
        (k·row_sensitivity)²/(2σ²) — what the mechanisms below charge."""
        return gaussian_rho(sigma, self.max_rows_per_unit * row_sensitivity)

    def noise_seed(self) -> int:
        """A seed for noise drawn by another library (DP-SGD), taken from this table's noise generator."""
        return int(self._rng.integers(2 ** 63 - 1))

    def measure(self, binnings: Sequence[Binning], sigma: float, step: str,
                budget: PrivacyBudget | None = None) -> np.ndarray:
        """Noisy contingency table (int64, discrete Gaussian std sigma) over the binned columns; charges k²/(2σ²)."""
        cols = [b.column for b in binnings]
        self._node(budget).spend(step, "discrete_gaussian", self.gaussian_cost(sigma), columns=cols, sigma=sigma,
                                 sensitivity=self.count_sensitivity)
        exact = self._exact(binnings, step)
        return exact + discrete_gaussian(exact.shape, sigma, self._rng)

    def select_worst_approximated(self, candidates: Sequence[Sequence[Binning]], estimates: Sequence[np.ndarray],
                                  epsilon: float, step: str, penalties: Sequence[float] | None = None,
                                  weights: Sequence[float] | None = None,
                                  budget: PrivacyBudget | None = None) -> int:
        """Exponential mechanism over candidate marginals, score_k = w_k (||exact_k - estimate_k||_1 - penalty_k).

        Adding or removing one unit (at most k rows) moves each exact marginal by at most k in L1, so a score moves by
        at most k·w_k: sensitivity k·max(w). Costs epsilon²/8 (bounded range). Returns the chosen candidate's index.
        """
        if len(candidates) != len(estimates):
            raise ValueError("one estimate per candidate marginal is needed")
        w = np.ones(len(candidates)) if weights is None else np.asarray(weights, dtype=float)
        pen = np.zeros(len(candidates)) if penalties is None else np.asarray(penalties, dtype=float)
        sensitivity = self.max_rows_per_unit * float(w.max())
        self._node(budget).spend(step, "exponential_mechanism", exponential_rho(epsilon), epsilon=epsilon,
                                 candidates=len(candidates), sensitivity=sensitivity)
        scores = np.array([wk * (np.abs(self._exact(c, step) - e).sum() - pk)
                           for c, e, wk, pk in zip(candidates, estimates, w, pen, strict=True)])
        return exponential_mechanism(scores, epsilon, sensitivity, self._rng)

    def discover_categories(self, column: str, sigma: float, delta_threshold: float, step: str,
                            max_categories: int, budget: PrivacyBudget | None = None) -> dict[object, int]:
        """Values whose noisy count clears the threshold (at most `max_categories`, the largest noisy counts).

        (rho, delta_threshold)-approximate zCDP: the Gaussian part costs k²/(2σ²) (one unit moves the counts of the
        values both neighbours hold by at most k in L2); a value present only through the differing unit is released
        with probability <= delta_threshold (`threshold_for`, which accounts for up to k such values). Outside that
        event the output is post-processing of the Gaussian counts of the shared values.
        """
        tau = threshold_for(sigma, delta_threshold, self.max_rows_per_unit)
        self._node(budget).spend(step, "thresholded_discrete_gaussian", self.gaussian_cost(sigma), columns=[column],
                                 sigma=sigma, delta_threshold=delta_threshold, sensitivity=self.count_sensitivity,
                                 threshold=tau)
        exact = guarded(lambda: self._engine.count_values(column), step=step, table=self.relation_name,
                        columns=[column])
        self.access.add(step=step, query="count_values", columns=[column])
        if not exact:
            return {}
        noise = discrete_gaussian((len(exact),), sigma, self._rng)
        released = [(v, int(c + z)) for (v, c), z in zip(exact, noise, strict=True) if c + z >= tau]
        released.sort(key=lambda vc: -vc[1])
        return dict(released[:max_categories])

    def discover_values(self, column: str, sigma: float, delta_threshold: float, step: str, max_values: int,
                        threshold: int | None = None, numeric: bool = False,
                        budget: PrivacyBudget | None = None) -> ValueDiscovery:
        """Thresholded noisy counts of a column's values (DP partition selection with Gaussian noise) and a noisy
        null count, from one histogram of the rows by value (each row in exactly one group).

        Values are released when their noisy count reaches `threshold` (default and minimum: tau0 =
        `threshold_for(sigma, delta_threshold, k)`, the threshold for values that only the differing unit holds); at
        most `max_values` of them, the largest noisy counts. Pre-thresholding: the engine returns only values held by
        at least m = threshold - tau0 + 1 rows. The (rho, delta_threshold) argument is that of `discover_categories`:
        values held by >= m rows in both neighbours get the Gaussian mechanism (one unit moves the histogram by at most
        k in L2: costs k²/(2σ²)); a value the differing unit lifts from at most m - 1 rows (filtered out) by c_v rows
        is released only if (m - 1) + c_v + Z >= threshold, i.e. c_v + Z >= tau0 — the same event as a new value's
        under threshold tau0, so all such values together are released with probability <= delta_threshold.
        `numeric=True` groups the value read as a DOUBLE (NumericBinning's reading).
        """
        tau0 = threshold_for(sigma, delta_threshold, self.max_rows_per_unit)
        tau = tau0 if threshold is None else max(int(threshold), tau0)
        self._node(budget).spend(step, "thresholded_discrete_gaussian", self.gaussian_cost(sigma), columns=[column],
                                 sigma=sigma, delta_threshold=delta_threshold, sensitivity=self.count_sensitivity,
                                 threshold=tau, statistic="value counts and null count")
        exact = guarded(lambda: self._engine.count_values(column, min_count=tau - tau0 + 1, numeric=numeric),
                        step=step, table=self.relation_name, columns=[column])
        self.access.add(step=step, query="count_values", columns=[column])
        nulls = guarded(lambda: self._engine.count_cells([_null_binning(column, numeric)]), step=step,
                        table=self.relation_name, columns=[column])
        self.access.add(step=step, query="count_cells", columns=[column])
        exact_null = int(nulls[-1])
        # the number of noise draws depends on the data (distinct values): draw them from a generator of their own,
        # so the noise stream of every later mechanism does not shift with it
        own = np.random.default_rng(self._rng.integers(2 ** 63 - 1))
        noise = discrete_gaussian((len(exact) + 1,), sigma, own)
        released = [(v, int(c + z)) for (v, c), z in zip(exact, noise[:-1], strict=True) if c + z >= tau]
        released.sort(key=lambda vc: -vc[1])
        return ValueDiscovery(dict(released[:max_values]), int(exact_null + noise[-1]), tau, sigma)

    def noisy_tvd_test(self, binning_sets: Sequence[Sequence[Binning]], distributions: Sequence[np.ndarray],
                       threshold: float, sigma: float, step: str, budget: PrivacyBudget | None = None) -> float:
        """Noisy threshold test of "the mean TVD between these rows' marginals and `distributions` <= threshold".

        Statistic G = sum_j (1/2 ||c_j - n q_j||_1 - threshold * n) over the M column sets, with c_j the exact
        contingency table of set j, n the row count and q_j the given distribution (public: e.g. the synthetic
        table's marginal). Adding or removing one row moves c_j by one cell and n by one, so 1/2 ||c_j - n q_j||_1
        moves by at most 1 - q_jk <= 1 and the threshold term by `threshold`: L2 (= L1, a scalar) sensitivity
        M (1 + threshold) per row, k M (1 + threshold) per unit of k rows. Gaussian noise of std sigma costs
        (k M (1 + threshold))² / (2 sigma²), charged first.
        G <= 0 iff the mean TVD <= threshold. Returns G + N(0, sigma²) (continuous noise on a real statistic).
        """
        if len(binning_sets) != len(distributions) or not binning_sets:
            raise ValueError("one distribution per column set, and at least one set, are needed")
        if any(np.shape(q) != tuple(b.size for b in bs) for bs, q in zip(binning_sets, distributions, strict=True)):
            raise ValueError("each distribution must have the shape of its column set's contingency table")
        sensitivity = self.max_rows_per_unit * len(binning_sets) * (1.0 + float(threshold))
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
        one unit (k rows, triangle inequality) by k times that, and std-sigma Gaussian noise costs (kΔ)²/(2σ²),
        charged first. (Continuous float noise on a real statistic.)
        """
        d = len(binnings)
        delta = self.max_rows_per_unit * off_diagonal_sensitivity(d, bound)
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
        `budget` (`budget.dpsgd`); the plan's epsilon is charged there first.

        DP-SGD clips each row's gradient and its accountant is per row, so a unit of k > 1 rows is refused here (and by
        `SynthesisConfig` before anything is read); with k = 1 the bounded table has one row per unit and the per-row
        guarantee is the per-unit one."""
        if self.max_rows_per_unit > 1:
            raise ConfigError(f"DP-SGD accounts per row; max_rows_per_unit={self.max_rows_per_unit} > 1 is not "
                              "supported.", table=self.relation_name,
                              fix="use max_rows_per_unit: 1 or a marginal generator (aim, mst, copula).")
        node = self._node(budget)
        allowance = node.dpsgd_allowance()
        if allowance is None:
            raise BudgetOverspendError(f"budget {node.label!r} has no DP-SGD share")
        allowance.charge(step, plan)
        self.access.add(step=step, query="fetch_rows", columns=list(columns))
        rows = guarded(lambda: self._engine.fetch_rows(columns), step=step, table=self.relation_name,
                       columns=list(columns))
        return TrainingRows(rows, plan)
