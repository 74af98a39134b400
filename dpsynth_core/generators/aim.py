"""AIM (McKenna, Mullins, Sheldon, Miklau 2022, "AIM: An Adaptive and Iterative Mechanism for Differentially
Private Synthetic Data").

Workload: every 2-way marginal, plus every 3-way marginal that contains the configured `target` column. Candidates
are the workload's marginals and all their subsets, each weighted by how much it overlaps the workload
(w_r = Σ_{s in workload} |r ∩ s|).

1. Measure every 1-way marginal with Gaussian noise σ₀ = sqrt(T / (2·0.9·ρ)), T = 16·d rounds planned.
2. Each round spends ε²/8 + 1/(2σ²) with ε = sqrt(8·0.1·ρ/T): the exponential mechanism (ε, sensitivity max w)
   picks the candidate with the largest w_r·(||M_r(data) − M_r(model)||₁ − sqrt(2/π)·σ·cells_r) among those that
   keep the model under `max_model_size` × (share of ρ spent), then the Gaussian mechanism measures it and
   Private-PGM refits (warm start).
3. Annealing: when the refit moved the chosen marginal by less than the noise it expects (sqrt(2/π)·σ·cells),
   σ halves and ε doubles. When less than two rounds' worth of ρ remains, the last round spends exactly the rest
   (0.9 of it on the measurement, 0.1 on the selection), so the release spends exactly its ρ.
4. A final, longer refit; sampling is post-processing.

With a privacy unit of at most k rows every σ is k times the above and selections have sensitivity k·max w
(`PrivateTable.sigma_for` and the measurement layer apply k), so each round still spends exactly what is planned.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import ClassVar, Sequence

import numpy as np

from ..accounting.budget import PrivacyBudget
from ..accounting.zcdp import sigma_for_rho
from ..errors import ConfigError
from ..measurement.private_table import PrivateTable
from ..pgm import Domain, GraphicalModel, Measurement, estimate, hypothetical_model_size
from ..preprocessing.domains import TableDomain
from ..validation import Interval, Param
from .base import Generator, GeneratorOptions, NoisePlan
from .graphical import FittedGraphicalModel, pgm_domain

MEASURE_SHARE = 0.9  # of each round's rho: the Gaussian measurement; the rest pays for the selection
ROUNDS_PER_COLUMN = 16
EXPECTED_ABS_NORMAL = math.sqrt(2 / math.pi)  # E|N(0, 1)|


def initial_noise(rounds: int, rho: float, sensitivity: float = 1.0) -> tuple[float, float]:
    """(sigma, epsilon) of AIM's first rounds: T rounds of rho/T each, MEASURE_SHARE of it on the measurement, whose
    counts have L2 `sensitivity` (the privacy unit's k): sigma = sensitivity·sqrt(T / (2·MEASURE_SHARE·rho))."""
    return (sigma_for_rho(MEASURE_SHARE * rho / rounds, sensitivity),
            math.sqrt(8 * (1 - MEASURE_SHARE) * rho / rounds))


def workload(attrs: Sequence[str], target: str | None) -> list[tuple[str, ...]]:
    """All 2-way marginals, plus the 3-way marginals that contain ``target`` (attribute order kept)."""
    if len(attrs) == 1:
        return [tuple(attrs)]
    marginals = list(itertools.combinations(attrs, 2))
    if target is not None:
        marginals += [c for c in itertools.combinations(attrs, 3) if target in c]
    return marginals


def candidate_weights(attrs: Sequence[str], marginals: Sequence[tuple[str, ...]]) -> dict[tuple[str, ...], float]:
    """Downward closure of the workload, each subset r weighted by Σ_s |r ∩ s| (AIM, Sec. 4)."""
    order = {a: i for i, a in enumerate(attrs)}
    closure: dict[tuple[str, ...], float] = {}
    for marginal in marginals:
        for size in range(1, len(marginal) + 1):
            for subset in itertools.combinations(sorted(marginal, key=order.get), size):
                closure[subset] = 0.0
    for r in closure:
        closure[r] = float(sum(len(set(r) & set(s)) for s in marginals))
    return closure


@dataclass(frozen=True)
class AIMOptions(GeneratorOptions):
    """AIM options (units: max_model_size in MB of float64 clique tables)."""

    target: str | None = None
    max_model_size: float = 20.0
    rounds: int | None = None
    iters: int = 100
    final_iters: int = 1000
    final_tol: float | None = 1e-3

    constraints: ClassVar[dict[str, Param]] = {
        "target": Param(str, none=True, example="dead"),
        "max_model_size": Param(float, Interval(0, None, "neither"), example=20),
        "rounds": Param(int, Interval(1, None), none=True, example=200),
        "iters": Param(int, Interval(1, None), example=100),
        "final_iters": Param(int, Interval(1, None), example=1000),
        "final_tol": Param(float, Interval(0, None), none=True, example=0.001),
    }


class AIM(Generator):
    """AIM generator (`generator: aim`, the default).

    Options: target (column whose 3-way marginals join the workload; default the release's `target`),
    max_model_size (MB of float64 clique tables, default 20; the paper uses 80, but on nassCDS at epsilon 10 the 80 MB
    model took 130 s and 3.7 GB with a worse 2-way TVD (0.030) than 20 MB (5-17 s, 0.6-0.8 GB, 0.012-0.015)), rounds
    (T, default 16 per column), iters (mirror-descent iterations per refit), final_iters and final_tol (the last refit
    stops early once the loss improves by less than final_tol per iteration; deterministic).
    """

    name = "aim"
    title = "AIM"
    Options = AIMOptions
    Fitted = FittedGraphicalModel

    def rounds_for(self, d: int) -> int:
        return ROUNDS_PER_COLUMN * d if self.options.rounds is None else int(self.options.rounds)

    def noise_plan(self, d: int, rho: float) -> NoisePlan:
        """T rounds planned; every measurement starts at sigma0 = sqrt(T / (2 MEASURE_SHARE rho)) (annealing only
        lowers it), the d 1-way marginals at sigma0 and the adaptive rounds the rest."""
        rounds = self.rounds_for(d)
        sigma0, _ = initial_noise(rounds, rho)
        one_way = d / (2 * sigma0 ** 2)
        after = rho - one_way
        first = sigma0 if after >= 2 * rho / rounds else math.sqrt(1 / (2 * MEASURE_SHARE * after))
        return NoisePlan((("1-way marginals", one_way), ("adaptive rounds (select + measure)", after)), sigma0, first)

    def fit(self, private: PrivateTable, domain: TableDomain, budget: PrivacyBudget) -> FittedGraphicalModel:
        attrs = domain.attrs
        target = self.options.target if self.options.target is not None else self.context.target
        if target is not None and target not in attrs:
            raise ConfigError(f"AIM target {target!r} is not a modelled column (modelled: {list(attrs)}).",
                              table=domain.relation, column=target,
                              fix="name a non-identifier column of this relation as target, or drop the target.")
        rounds = self.rounds_for(len(attrs))
        if rounds < len(attrs):
            raise ConfigError(f"AIM rounds={rounds!r} must be an integer >= the number of modelled columns "
                              f"({len(attrs)}).", table=domain.relation,
                              fix=f"omit rounds (default {ROUNDS_PER_COLUMN} per column) or raise it.")
        return _AIMRun(self.options, target, private, domain, budget, int(rounds), self.context).fit()


class _AIMRun:
    """State of one AIM fit: the budget it may spend, its measurements and the current model."""

    def __init__(self, options: AIMOptions, target: str | None, private: PrivateTable, domain: TableDomain,
                 budget: PrivacyBudget, rounds: int, context):
        self.options = options
        self.private = private
        self.domain = domain
        self.context = context
        self.pdomain: Domain = pgm_domain(domain)
        self.binning = {c.name: c.binning for c in domain.columns}
        self.rho = float(budget.rho_total)
        self.candidates = candidate_weights(domain.attrs, workload(domain.attrs, target))
        # the PrivateTable's count sensitivity is the privacy unit's k (1 for the row unit)
        self.sigma, self.epsilon = initial_noise(rounds, self.rho, private.count_sensitivity)
        # 1-way marginals: d Gaussian measurements at sigma; the adaptive rounds get the rest
        self.one_way = budget.child("1way", rho=len(domain.attrs) * private.gaussian_cost(self.sigma))
        self.rounds = budget.rest("rounds")
        self.measurements: list[Measurement] = []
        self.selected: list[tuple[str, ...]] = []

    def _measure(self, clique: tuple[str, ...], sigma: float, step: str, budget: PrivacyBudget) -> None:
        noisy = self.private.measure([self.binning[a] for a in clique], sigma, step=step, budget=budget)
        self.measurements.append(Measurement(clique, noisy, sigma))

    def fit(self) -> FittedGraphicalModel:
        for a in self.domain.attrs:
            self._measure((a,), self.sigma, step=f"aim:1way:{a}", budget=self.one_way)
        model = estimate(self.pdomain, self.measurements, iters=self.options.iters)
        last = False
        round_ = 0
        while not last:
            round_ += 1
            round_rho = self.private.gaussian_cost(self.sigma) + self.epsilon**2 / 8
            remaining = self.rounds.remaining
            if remaining < 2 * round_rho:
                # The last round spends exactly what is left.
                self.sigma = self.private.sigma_for(MEASURE_SHARE * remaining)
                self.epsilon = math.sqrt(8 * (1 - MEASURE_SHARE) * remaining)
                round_rho, last = remaining, True
            used = self.rho - remaining
            size_limit = self.options.max_model_size * (used + round_rho) / self.rho
            clique = self._select(model, size_limit, step=f"aim:select:{round_}")
            before = model.project(clique).values
            self._measure(clique, self.sigma, step=f"aim:measure:{round_}:{'|'.join(clique)}", budget=self.rounds)
            self.selected.append(clique)
            model = estimate(self.pdomain, self.measurements, iters=self.options.iters, warm_start=model)
            moved = np.abs(model.project(clique).values - before).sum()
            annealed = moved <= EXPECTED_ABS_NORMAL * self.sigma * self.pdomain.size(clique)
            if annealed:
                self.sigma /= 2
                self.epsilon *= 2
            # progress: the public round number, the selected marginal (a DP output) and the rho spent so far
            self.context.report("aim", round=round_, selected="|".join(clique),
                                spent_share=(self.rho - self.rounds.remaining) / self.rho, annealed=bool(annealed))
        model = estimate(self.pdomain, self.measurements, iters=self.options.final_iters, warm_start=model,
                         tol=self.options.final_tol)
        return FittedGraphicalModel(AIM.name, self.domain, model, self.selected)

    def _select(self, model: GraphicalModel, size_limit: float, step: str) -> tuple[str, ...]:
        """Exponential mechanism over the candidates that fit the size limit or that the model already holds.

        A candidate inside a junction-tree clique of the current model adds no cells, so it is always eligible
        (mbi's "free cliques", extended from the measured cliques to the cliques of their junction tree).
        """
        covered = [set(c) for c in model.junction_tree.cliques]
        eligible = [c for c in self.candidates
                    if any(set(c) <= k for k in covered)
                    or hypothetical_model_size(self.pdomain, model.cliques + (c,)) <= size_limit]
        chosen = self.private.select_worst_approximated(
            [[self.binning[a] for a in c] for c in eligible],
            [f.values for f in model.project_many(eligible)],
            self.epsilon,
            step=step,
            budget=self.rounds,
            penalties=[EXPECTED_ABS_NORMAL * self.sigma * self.pdomain.size(c) for c in eligible],
            weights=[self.candidates[c] for c in eligible],
        )
        return eligible[chosen]
