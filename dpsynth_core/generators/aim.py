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
"""

from __future__ import annotations

import itertools
import math
from typing import Sequence

import numpy as np

from ..errors import ConfigError
from ..measurement.private_table import PrivateTable
from ..pgm import Domain, GraphicalModel, Measurement, estimate, hypothetical_model_size
from ..preprocessing.domains import TableDomain
from .graphical import FittedGraphicalModel, pgm_domain

MEASURE_SHARE = 0.9  # of each round's rho: the Gaussian measurement; the rest pays for the selection
ROUNDS_PER_COLUMN = 16
EXPECTED_ABS_NORMAL = math.sqrt(2 / math.pi)  # E|N(0, 1)|


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


class AIM:
    """AIM generator.

    Options: target (column whose 3-way marginals join the workload), max_model_size (MB of float64 clique tables,
    default 20; the paper uses 80, but on nassCDS at epsilon 10 the 80 MB model took 130 s and 3.7 GB with a worse
    2-way TVD (0.030) than 20 MB (5-17 s, 0.6-0.8 GB, 0.012-0.015)), rounds (T, default 16 per column), iters (mirror-descent iterations per refit),
    final_iters and final_tol (the last refit stops early once the loss improves by less than final_tol per
    iteration; deterministic).
    """

    name = "aim"

    def __init__(self, target: str | None = None, max_model_size: float = 20.0, rounds: int | None = None,
                 iters: int = 100, final_iters: int = 1000, final_tol: float | None = 1e-3, **unused):
        if unused:
            raise ConfigError(f"unknown AIM option(s) {sorted(unused)}.",
                              fix="AIM takes target, max_model_size, rounds, iters, final_iters and final_tol.")
        if not (max_model_size > 0 and math.isfinite(max_model_size)):
            raise ConfigError(f"AIM max_model_size={max_model_size!r} must be a positive number of megabytes.",
                              fix="use e.g. max_model_size: 20.")
        for option, value in (("iters", iters), ("final_iters", final_iters)):
            if int(value) != value or value < 1:
                raise ConfigError(f"AIM {option}={value!r} must be a positive integer.", fix=f"use e.g. {option}: 100.")
        self.target = target
        self.max_model_size = float(max_model_size)
        self.rounds = rounds
        self.iters = int(iters)
        self.final_iters = int(final_iters)
        if final_tol is not None and not (final_tol >= 0 and math.isfinite(final_tol)):
            raise ConfigError(f"AIM final_tol={final_tol!r} must be a number >= 0 or null.", fix="use e.g. final_tol: 0.001.")
        self.final_tol = final_tol

    def fit(self, private: PrivateTable, domain: TableDomain, rho: float, rng: np.random.Generator | None = None
            ) -> FittedGraphicalModel:
        attrs = domain.attrs
        if self.target is not None and self.target not in attrs:
            raise ConfigError(f"AIM target {self.target!r} is not a modelled column (modelled: {list(attrs)}).",
                              table=domain.relation, column=self.target,
                              fix="name a non-identifier column of this relation as target, or drop the target.")
        rounds = ROUNDS_PER_COLUMN * len(attrs) if self.rounds is None else self.rounds
        if int(rounds) != rounds or rounds < len(attrs):
            raise ConfigError(f"AIM rounds={rounds!r} must be an integer >= the number of modelled columns "
                              f"({len(attrs)}).", table=domain.relation,
                              fix=f"omit rounds (default {ROUNDS_PER_COLUMN} per column) or raise it.")
        return _AIMRun(self, private, domain, rho, int(rounds)).fit()


class _AIMRun:
    """State of one AIM fit: the budget it may spend, its measurements and the current model."""

    def __init__(self, options: AIM, private: PrivateTable, domain: TableDomain, rho: float, rounds: int):
        self.options = options
        self.private = private
        self.domain = domain
        self.pdomain: Domain = pgm_domain(domain)
        self.binning = {c.name: c.binning for c in domain.columns}
        self.rho = float(rho)
        self.start = private.budget.spent
        self.candidates = candidate_weights(domain.attrs, workload(domain.attrs, options.target))
        self.sigma = math.sqrt(rounds / (2 * MEASURE_SHARE * self.rho))
        self.epsilon = math.sqrt(8 * (1 - MEASURE_SHARE) * self.rho / rounds)
        self.measurements: list[Measurement] = []
        self.selected: list[tuple[str, ...]] = []

    @property
    def used(self) -> float:
        return self.private.budget.spent - self.start

    def _measure(self, clique: tuple[str, ...], sigma: float, step: str) -> None:
        noisy = self.private.measure([self.binning[a] for a in clique], sigma, step=step)
        self.measurements.append(Measurement(clique, noisy, sigma))

    def fit(self) -> FittedGraphicalModel:
        for a in self.domain.attrs:
            self._measure((a,), self.sigma, step=f"aim:1way:{a}")
        model = estimate(self.pdomain, self.measurements, iters=self.options.iters)
        last = False
        round_ = 0
        while not last:
            round_ += 1
            round_rho = 1 / (2 * self.sigma**2) + self.epsilon**2 / 8
            remaining = self.rho - self.used
            if remaining < 2 * round_rho:
                # The last round spends exactly what is left.
                self.sigma = math.sqrt(1 / (2 * MEASURE_SHARE * remaining))
                self.epsilon = math.sqrt(8 * (1 - MEASURE_SHARE) * remaining)
                round_rho, last = remaining, True
            size_limit = self.options.max_model_size * (self.used + round_rho) / self.rho
            clique = self._select(model, size_limit, step=f"aim:select:{round_}")
            before = model.project(clique).values
            self._measure(clique, self.sigma, step=f"aim:measure:{round_}:{'|'.join(clique)}")
            self.selected.append(clique)
            model = estimate(self.pdomain, self.measurements, iters=self.options.iters, warm_start=model)
            moved = np.abs(model.project(clique).values - before).sum()
            if moved <= EXPECTED_ABS_NORMAL * self.sigma * self.pdomain.size(clique):
                self.sigma /= 2
                self.epsilon *= 2
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
            penalties=[EXPECTED_ABS_NORMAL * self.sigma * self.pdomain.size(c) for c in eligible],
            weights=[self.candidates[c] for c in eligible],
        )
        return eligible[chosen]
