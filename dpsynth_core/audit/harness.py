"""End-to-end audits of the generators through `synthesize_table` on neighbouring tables.

Threshold audit (marginal generators, `audit_scenario`): fit `runs` times on D and `runs` times on D' = D + {canary}
(interleaved), score every release (black-box and white-box, `scores.py`) and bound epsilon with `split_audit`;
optionally bound mu of the white-box likelihood-ratio score with `gdp_audit`.

One-run audit (DP-SGD generators, `audit_one_run`): ONE fit on a table holding each of m canaries with probability
1/2, per-canary scores, guesses on the top/bottom k (`one_run.py`).

Noise: every fit draws its privacy noise from OS entropy (`noise_rng=None`; the deep generators derive their DP-SGD
noise seed from it too). The public `seed` only drives sampling from the fitted model and is the same in every run,
as a published configuration would be.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from ..api import synthesize_table
from ..config import SynthesisConfig
from ..measurement.pandas_engine import PandasEngine
from .capture import Capture, capture_private_reads
from .design import AuditTable, audit_table, canary_pool
from .epsilon import EpsilonAudit, perfect_attack_ceiling, split_audit
from .gaussian import MuAudit, gdp_audit
from .one_run import OneRunAudit, one_run_audit
from .scores import CanaryScorer, one_run_scores

PUBLIC_SEED = 7
CONFIDENCE = 0.95
# The mu audit tests "noise applied = noise charged", where a correct mechanism sits exactly at the claim, so its false
# alarm rate is 1 - confidence: CI uses a strict level.
MU_CONFIDENCE = 0.999
NOT_SCORES = ("wb_llr_mu",)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Scenario:
    """One threshold audit: a generator, its claimed epsilon, runs per world and the table variant.

    Args:
        options: generator options (public; cheap settings are fine, privacy does not depend on them).
        discovered: the rare column's categories are found with DP instead of declared.
        holdout: fraction held out (evaluation split); the white-box likelihood-ratio score needs 0.
        synthetic_rows: rows sampled per release (public; more rows make black-box counts less noisy).
        scores: restrict to these score names (None: all that apply).
        mu_audit: also audit mu of the white-box likelihood-ratio score.
    """

    name: str
    generator: str
    epsilon: float
    runs: int
    options: Mapping[str, Any] = field(default_factory=dict)
    discovered: bool = False
    holdout: float = 0.0
    table_rows: int = 1500
    synthetic_rows: int = 15_000
    seed: int = PUBLIC_SEED
    scores: tuple[str, ...] | None = None
    mu_audit: bool = False

    def config(self) -> SynthesisConfig:
        return SynthesisConfig(epsilon=self.epsilon, generator=self.generator, rows=self.synthetic_rows,
                               seed=self.seed, holdout=self.holdout, options=dict(self.options))

    def table(self) -> AuditTable:
        return audit_table(self.table_rows, self.discovered)


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    claimed_epsilon: float
    delta: float
    epsilon: EpsilonAudit
    mu: MuAudit | None
    seconds: float

    @property
    def ceiling(self) -> float:
        """What a perfect attack reaches with all runs per world and one pre-chosen threshold (golden values)."""
        return perfect_attack_ceiling(self.scenario.runs, CONFIDENCE)

    @property
    def epsilon_flagged(self) -> bool:
        return self.epsilon.exceeds(self.claimed_epsilon)

    @property
    def mu_flagged(self) -> bool:
        return self.mu is not None and self.mu.exceeded

    @property
    def flagged(self) -> bool:
        return self.epsilon_flagged or self.mu_flagged

    def summary(self) -> dict:
        out = {"scenario": self.scenario.name, "generator": self.scenario.generator, "runs_per_world":
               self.scenario.runs, "claimed_epsilon": self.claimed_epsilon, "eps_lb": self.epsilon.epsilon,
               "score": self.epsilon.score, "tpr": self.epsilon.tpr, "fpr": self.epsilon.fpr,
               "ceiling": self.ceiling, "ceiling_split": self.epsilon.ceiling, "seconds": self.seconds,
               "flagged": self.flagged}
        if self.mu is not None:
            out |= {"mu_hat": self.mu.mu_hat, "mu_se": self.mu.se, "mu_claimed": self.mu.mu_claimed,
                    "mu_lower": self.mu.mu_lower}
        return out


def fit_once(scenario: Scenario, table: AuditTable, canary: bool) -> tuple[Any, Capture]:
    """One release on D (canary=False) or D' with the white-box capture on."""
    engine = PandasEngine(table.world(canary), table.name)
    with capture_private_reads() as capture:
        release = synthesize_table(engine, table.spec, scenario.config(), noise_rng=None, evaluation_rows=False)
    return release, capture


def run_worlds(scenario: Scenario, progress: Progress | None = None
               ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Scores of `scenario.runs` releases per world (interleaved: out, in, out, in, ...)."""
    table = scenario.table()
    scorer = CanaryScorer(table, exact_known=scenario.holdout == 0)
    worlds: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for i in range(scenario.runs):
        for canary in (False, True):
            release, capture = fit_once(scenario, table, canary)
            domain = {c.name: c.binning for c in release.model.domain.columns}
            scores = scorer.black_box(release.data, release.record) | scorer.white_box(capture, domain)
            worlds[canary].append(scores)
        if progress is not None:
            progress(scenario.name, i + 1, scenario.runs)
    names = [k for k in worlds[False][0] if all(k in s for w in worlds.values() for s in w)]
    if scenario.scores is not None:
        names = [k for k in names if k in scenario.scores or k in NOT_SCORES]
    stack = lambda runs: {k: np.stack([np.asarray(r[k], float) for r in runs]) for k in names}  # noqa: E731
    return stack(worlds[False]), stack(worlds[True])


def audit_scenario(scenario: Scenario, progress: Progress | None = None) -> ScenarioResult:
    """Run both worlds and bound epsilon (and mu when asked)."""
    start = time.perf_counter()
    out, in_ = run_worlds(scenario, progress)
    delta = scenario.config().resolved_delta()
    scores = [k for k in out if k not in NOT_SCORES]
    epsilon = split_audit({k: out[k] for k in scores}, {k: in_[k] for k in scores}, delta, CONFIDENCE)
    mu = None
    if scenario.mu_audit and "wb_llr" in out:
        mu = gdp_audit(out["wb_llr"], in_["wb_llr"], float(np.mean(in_["wb_llr_mu"])), MU_CONFIDENCE)
    return ScenarioResult(scenario, scenario.epsilon, delta, epsilon, mu, time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------- one-run audit

@dataclass(frozen=True)
class OneRunScenario:
    """One training run with `canaries` candidate canaries (each in with probability 1/2) and `guesses` per side."""

    name: str
    generator: str
    epsilon: float
    canaries: int
    guesses: int
    base_rows: int = 1000
    options: Mapping[str, Any] = field(default_factory=dict)
    synthetic_rows: int = 20_000
    seed: int = PUBLIC_SEED

    def config(self) -> SynthesisConfig:
        return SynthesisConfig(epsilon=self.epsilon, generator=self.generator, rows=self.synthetic_rows,
                               seed=self.seed, max_rows=self.base_rows + self.canaries, options=dict(self.options))


@dataclass(frozen=True)
class OneRunResult:
    scenario: OneRunScenario
    claimed_epsilon: float
    audit: OneRunAudit
    audits: tuple[OneRunAudit, ...]
    seconds: float

    @property
    def flagged(self) -> bool:
        return self.audit.exceeds(self.claimed_epsilon)

    def summary(self) -> dict:
        a = self.audit
        return {"scenario": self.scenario.name, "generator": self.scenario.generator, "canaries": a.canaries,
                "included": a.included, "guesses": a.guesses, "correct": a.correct, "score": a.score,
                "claimed_epsilon": self.claimed_epsilon, "eps_lb": a.epsilon, "ceiling": a.ceiling,
                "seconds": self.seconds, "flagged": self.flagged}


def audit_one_run(scenario: OneRunScenario) -> OneRunResult:
    """Fit once on base rows + the canaries whose secret coin is heads; guess on each score; keep the best bound
    (Bonferroni over the scores)."""
    start = time.perf_counter()
    pool = canary_pool(scenario.base_rows, scenario.canaries)
    coins = np.random.default_rng().random(scenario.canaries) < 0.5    # OS entropy, secret from the fit
    config = scenario.config()
    engine = PandasEngine(pool.table(coins), "audit_one_run")
    with capture_private_reads() as capture:
        release = synthesize_table(engine, pool.spec, config, noise_rng=None, evaluation_rows=False)
    tag_binning = next((c.binning for c in release.model.domain.columns if c.name == "tag"), None)
    scores = one_run_scores(pool, release, capture, tag_binning)
    half = scenario.guesses // 2
    audits = tuple(one_run_audit(values, coins, half, scenario.guesses - half, config.resolved_delta(), CONFIDENCE,
                                 tests=len(scores), score=name) for name, values in scores.items())
    best = max(audits, key=lambda a: (a.epsilon, a.correct))
    return OneRunResult(scenario, scenario.epsilon, best, audits, time.perf_counter() - start)


def finite(x: float) -> str:
    """Format a bound for tables (inf shown as such)."""
    return "inf" if math.isinf(x) else f"{x:.2f}"
