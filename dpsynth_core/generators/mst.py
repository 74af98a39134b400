"""MST (McKenna, Sheldon, Miklau 2021, "Winning the NIST Contest: A scalable and general approach to differentially
private synthetic data").

1. Measure every 1-way marginal with Gaussian noise (rho/3).
2. Select a maximum spanning tree of 2-way marginals: d-1 rounds of the exponential mechanism (rho/3 in total), each
   choosing, among pairs that join two components, the pair whose exact marginal is worst approximated by the model of
   the 1-way measurements (L1 error; sensitivity 1).
3. Measure the selected 2-way marginals with Gaussian noise (the remaining rho, so the release spends exactly rho).
4. Fit a graphical model consistent with all measurements (Private-PGM) and sample from it.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..accounting.zcdp import exponential_eps_for_rho, sigma_for_rho
from ..measurement.private_table import PrivateTable
from ..pgm import Measurement, estimate
from ..preprocessing.domains import TableDomain
from .graphical import FittedGraphicalModel, pgm_domain


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


class MST:
    name = "mst"

    def __init__(self, iters: int = 500, **unused):
        if unused:
            from ..errors import ConfigError

            raise ConfigError(f"unknown MST option(s) {sorted(unused)}.", fix="MST takes only `iters`.")
        self.iters = int(iters)

    def fit(self, private: PrivateTable, domain: TableDomain, rho: float, rng: np.random.Generator | None = None
            ) -> FittedGraphicalModel:
        budget = private.budget
        start = budget.spent
        attrs = domain.attrs
        d = len(attrs)
        binning = {c.name: c.binning for c in domain.columns}
        pdomain = pgm_domain(domain)
        rho_one_way = rho / 3 if d > 1 else rho

        sigma1 = sigma_for_rho(rho_one_way / d)
        measurements = [Measurement((a,), private.measure([binning[a]], sigma1, step=f"mst:1way:{a}"), sigma1)
                        for a in attrs]
        selected: list[tuple[str, str]] = []
        if d > 1:
            model = estimate(pdomain, measurements, iters=self.iters)
            eps_round = exponential_eps_for_rho((rho / 3) / (d - 1))
            components = _Components(attrs)
            for round_ in range(d - 1):
                candidates = [(a, b) for a, b in itertools.combinations(attrs, 2)
                              if components.find(a) != components.find(b)]
                estimates = [model.project((a, b)).values for a, b in candidates]
                chosen = private.select_worst_approximated(
                    [(binning[a], binning[b]) for a, b in candidates], estimates, eps_round,
                    step=f"mst:select:{round_ + 1}")
                a, b = candidates[chosen]
                selected.append((a, b))
                components.union(a, b)
            # the last measurement takes exactly what is left of this generator's rho
            rho_left = rho - (budget.spent - start)
            sigma2 = sigma_for_rho(rho_left / len(selected))
            for a, b in selected:
                measurements.append(Measurement((a, b), private.measure([binning[a], binning[b]], sigma2,
                                                                        step=f"mst:2way:{a}|{b}"), sigma2))
            model = estimate(pdomain, measurements, iters=self.iters, warm_start=model)
        else:
            model = estimate(pdomain, measurements, iters=self.iters)
        return FittedGraphicalModel(self.name, domain, model, [tuple(s) for s in selected])
