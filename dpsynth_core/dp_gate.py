"""The DP gate: a release decision that is itself differentially private, charged to the release's budget.

The evidence gates (`evaluate`) are exact statistics of real rows: whether a gated table appears is a non-DP function
of the data. The DP gate instead makes one noisy threshold test on a low-sensitivity statistic of the HOLDOUT: "is the
mean k-way marginal TVD between the holdout and the synthetic model at most `threshold`?" (`PrivateTable
.noisy_tvd_test`: sensitivity M (1 + threshold) for M column sets, Gaussian noise). Its rho is a node of the release's
budget tree (`dp_gate`, `share` of the zCDP rho, carved out before domain discovery and the generator), so the
release's (epsilon, delta) covers the decision, its noisy value and the table's appearance. The synthetic side is the
fitted model's own sample (post-processing of DP outputs).

Use it when people who must not learn more than epsilon about the data can see whether a table was released (a
scheduled release to outside consumers); use the evidence gates when the reviewers may see the raw data anyway. See
docs/gates.md.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Mapping

import numpy as np

from .accounting.budget import PrivacyBudget
from .accounting.zcdp import gaussian_rho
from .errors import ConfigError
from .measurement.private_table import PrivateTable
from .validation import Interval, Param, validate_params

SYNTHETIC_DRAW = 20_000     # codes drawn from the fitted model for its marginals (at least; more when rows are more)


@dataclass(frozen=True)
class DpGateConfig:
    """Settings of the DP gate (`dpsynth.gates.dp`).

    threshold: upper bound on the mean k-way marginal TVD, holdout vs synthetic (0..1). The holdout's own sampling
        noise is part of it: a holdout of a few thousand rows scores ~0.02-0.05 against a perfect model on 2-way
        marginals of a dozen columns.
    share: share of the release's zCDP rho spent on the test (the generator gets less).
    order: marginal order k (1 or 2).
    max_sets: at most this many column sets (a public, seeded choice when there are more).
    """

    threshold: float = 0.10
    share: float = 0.05
    order: int = 2
    max_sets: int = 100

    constraints: ClassVar[dict[str, Param]] = {
        "threshold": Param(float, Interval(0, 1, "right"), example=0.1),
        "share": Param(float, Interval(0, 0.5, "right"), example=0.05),
        "order": Param(int, choices=(1, 2), example=2),
        "max_sets": Param(int, Interval(1, 10_000), example=100),
    }

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None, table: str | None = None) -> "DpGateConfig":
        return cls(**validate_params(raw or {}, cls.constraints, what="dpsynth.gates.dp setting", table=table))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def metric(self) -> str:
        return f"dp_marginal_tvd_{self.order}way"


@dataclass(frozen=True)
class DpGateResult:
    """What the DP gate released (all DP: safe to publish with the table)."""

    metric: str
    threshold: float
    passed: bool
    noisy_value: float          # threshold + noisy statistic / (M * DP holdout size): a noisy mean TVD
    rho: float
    sigma: float
    sensitivity: float
    column_sets: int
    differentially_private: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_record(self, release_id: str | None, model: str | None, computed_at: str) -> dict[str, Any]:
        """A `dpsynth_metrics` row (kind 'utility', read by the utility gate test)."""
        return {"release_id": release_id, "model": model, "metric": self.metric, "kind": "utility",
                "value": self.noisy_value, "threshold": self.threshold, "passed": self.passed,
                "computed_at": computed_at, "rule": "DP noisy threshold test (charged to the release)",
                "holdout_value": None}


def check_before_read(config: DpGateConfig, holdout: float, table: str) -> None:
    if not holdout > 0:
        raise ConfigError("the DP gate tests the synthetic model against the holdout, and holdout is 0.", table=table,
                          fix="set `holdout: 0.2` (or drop gates.dp).")


def column_sets(n_columns: int, order: int, max_sets: int) -> list[tuple[int, ...]]:
    """Column index sets of size `order` (a seeded, public choice of `max_sets` when there are more)."""
    sets = list(itertools.combinations(range(n_columns), order))
    if len(sets) > max_sets:
        picks = np.random.default_rng(0).choice(len(sets), size=max_sets, replace=False)
        sets = [sets[i] for i in sorted(picks)]
    return sets


def run_dp_gate(holdout: PrivateTable, fitted, config: DpGateConfig, node: PrivacyBudget,
                holdout_rows_estimate: float, rows: int, rng: np.random.Generator | None = None) -> DpGateResult:
    """The noisy threshold test, spending all of `node` (the release's `dp_gate` node).

    Args:
        holdout: the measurement layer over the holdout part (same budget tree as the release).
        fitted: the fitted synthesizer (its domain and `sample_codes`: post-processing).
        config: the gate's settings.
        node: the budget node to spend (its whole rho).
        holdout_rows_estimate: a DP estimate of the holdout's size (to report a noisy mean TVD; post-processing).
        rows: rows of the released table (the model's sample has at least `SYNTHETIC_DRAW` rows).
        rng: generator for the model's sample (default OS entropy).
    """
    domain = fitted.domain
    binnings = [c.binning for c in domain.columns]
    sets = column_sets(len(binnings), config.order, config.max_sets)
    if not sets:
        raise ConfigError(f"the DP gate needs at least {config.order} modelled columns.", table=domain.relation,
                          fix="use order: 1, or drop gates.dp.")
    codes = fitted.sample_codes(max(SYNTHETIC_DRAW, int(rows)), rng if rng is not None else np.random.default_rng())
    shape = [b.size for b in binnings]
    distributions = []
    for cols in sets:
        flat = np.ravel_multi_index(tuple(codes[:, j] for j in cols), tuple(shape[j] for j in cols))
        counts = np.bincount(flat, minlength=int(np.prod([shape[j] for j in cols]))).astype(float)
        distributions.append((counts / counts.sum()).reshape(tuple(shape[j] for j in cols)))
    sensitivity = len(sets) * (1.0 + config.threshold)
    sigma = sensitivity / math.sqrt(2.0 * node.rho_total)
    assert math.isclose(gaussian_rho(sigma, sensitivity), node.rho_total, rel_tol=1e-9)
    noisy = holdout.noisy_tvd_test([[binnings[j] for j in cols] for cols in sets], distributions, config.threshold,
                                   sigma, step=f"dp_gate:{config.metric}", budget=node)
    estimate = config.threshold + noisy / (len(sets) * max(holdout_rows_estimate, 1.0))
    return DpGateResult(config.metric, config.threshold, bool(noisy <= 0.0), float(estimate), node.rho_total, sigma,
                        sensitivity, len(sets))
