"""MST (McKenna, Sheldon, Miklau 2021, "Winning the NIST Contest: A scalable and general approach to differentially
private synthetic data").

1. Measure every 1-way marginal with Gaussian noise (rho/3).
2. Select a maximum spanning tree of 2-way marginals: d-1 rounds of the exponential mechanism (rho/3 in total), each
   choosing, among pairs that join two components, the pair whose exact marginal is worst approximated by the model of
   the 1-way measurements (L1 error; sensitivity 1, or k for a privacy unit of at most k rows).
3. Measure the selected 2-way marginals with Gaussian noise (the remaining rho, so the release spends exactly rho).
4. Fit a graphical model consistent with all measurements (Private-PGM) and sample from it.

Noise is calibrated with `PrivateTable.sigma_for`, which includes the privacy unit's k (σ = k / sqrt(2ρ)).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import ClassVar

from ..accounting.budget import PrivacyBudget
from ..accounting.zcdp import exponential_eps_for_rho, sigma_for_rho
from ..measurement.private_table import PrivateTable
from ..pgm import Measurement, estimate
from ..preprocessing.domains import TableDomain
from ..validation import Interval, Param
from .base import Generator, GeneratorOptions, NoisePlan
from .graphical import FittedGraphicalModel, pgm_domain

STAGE_SHARE = 1 / 3   # of MST's rho for the 1-way marginals, and again for the selection; 2-way gets the rest


class _Components:
    """Union-find over attributes (Kruskal)."""

    def __init__(self, attrs):
        self.parent = {a: a for a in attrs}

    def find(self, a):
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a, b):
        self.parent[self.find(a)] = self.find(b)


@dataclass(frozen=True)
class MSTOptions(GeneratorOptions):
    """iters: mirror-descent iterations of each Private-PGM fit."""

    iters: int = 500

    constraints: ClassVar[dict[str, Param]] = {"iters": Param(int, Interval(1, None), example=500)}


class MST(Generator):
    """MST generator (`generator: mst`). Splits its budget in thirds: 1-way marginals, tree selection, 2-way
    marginals (d-1 selected pairs)."""

    name = "mst"
    title = "MST"
    Options = MSTOptions
    Fitted = FittedGraphicalModel

    def noise_plan(self, d: int, rho: float) -> NoisePlan:
        """1-way marginals get a third of rho (all of it for one column), the tree selection a third (d-1 rounds),
        the d-1 selected 2-way marginals the rest."""
        if d < 2:
            return NoisePlan((("1-way marginals", rho),), sigma_for_rho(rho / max(d, 1)))
        third = rho * STAGE_SHARE
        return NoisePlan((("1-way marginals", third), ("spanning-tree selection", third),
                          ("selected 2-way marginals", rho - 2 * third)),
                         sigma_for_rho(third / d), sigma_for_rho((rho - 2 * third) / (d - 1)))

    def fit(self, private: PrivateTable, domain: TableDomain, budget: PrivacyBudget) -> FittedGraphicalModel:
        iters = self.options.iters
        attrs = domain.attrs
        d = len(attrs)
        binning = {c.name: c.binning for c in domain.columns}
        pdomain = pgm_domain(domain)
        one_way = budget.child("1way", share=STAGE_SHARE) if d > 1 else budget.rest("1way")

        sigma1 = private.sigma_for(one_way.rho_total / d)
        measurements = [Measurement((a,), private.measure([binning[a]], sigma1, step=f"mst:1way:{a}",
                                                          budget=one_way), sigma1) for a in attrs]
        self.context.report("mst", stage="1way", measured=d)
        selected: list[tuple[str, str]] = []
        model = estimate(pdomain, measurements, iters=iters)
        if d > 1:
            select = budget.child("select", share=STAGE_SHARE)
            eps_round = exponential_eps_for_rho(select.rho_total / (d - 1))
            components = _Components(attrs)
            for round_ in range(d - 1):
                candidates = [(a, b) for a, b in itertools.combinations(attrs, 2)
                              if components.find(a) != components.find(b)]
                estimates = [model.project((a, b)).values for a, b in candidates]
                chosen = private.select_worst_approximated(
                    [(binning[a], binning[b]) for a, b in candidates], estimates, eps_round,
                    step=f"mst:select:{round_ + 1}", budget=select)
                a, b = candidates[chosen]
                selected.append((a, b))
                components.union(a, b)
            self.context.report("mst", stage="select", selected=len(selected))
            two_way = budget.rest("2way")      # exactly what is left, so the release spends its whole rho
            sigma2 = private.sigma_for(two_way.rho_total / len(selected))
            for a, b in selected:
                measurements.append(Measurement((a, b), private.measure(
                    [binning[a], binning[b]], sigma2, step=f"mst:2way:{a}|{b}", budget=two_way), sigma2))
            model = estimate(pdomain, measurements, iters=iters, warm_start=model)
            self.context.report("mst", stage="2way", measured=len(selected))
        return FittedGraphicalModel(self.name, domain, model, [tuple(s) for s in selected])
