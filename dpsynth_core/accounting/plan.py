"""The budget plan of one release: every split of (epsilon, delta), fixed before any data is read.

    release (epsilon, delta)
    ├── zcdp          rho = cdp_rho(epsilon_zcdp, delta_conversion)  — PrivacyBudget tree:
    │   ├── domains   at most `domain_share` of rho (DP domain discovery; unspent rho goes to the generator)
    │   └── generator the rest (each generator splits its node into its own stages)
    └── dp-sgd        (epsilon_sgd, delta_sgd), Opacus accountant      — only for DP-SGD generators

zCDP part: delta_zcdp = delta_conversion + delta_threshold, where `THRESHOLD_DELTA_SHARE` of it is reserved for
thresholded category discovery (fails with that probability) and the rest converts rho to epsilon. A DP-SGD
generator gets `1 - zcdp_share` of epsilon and of delta; the two parts compose by adding epsilons and deltas.
This module is the one place that splits a release's budget; `SynthesisConfig.budget_plan()` builds it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .budget import DpSgdAllowance, PrivacyBudget
from .zcdp import cdp_rho

DEFAULT_DELTA = 1e-6
# Share of the zCDP delta reserved for thresholded domain discovery (the rest converts rho to epsilon). A fixed policy,
# so the rho of a request is known before reading data.
THRESHOLD_DELTA_SHARE = 0.1


def default_delta(max_rows: int | None) -> float:
    """The default delta: min(1e-6, 1/(n ln n)) with n a public upper bound on the rows, else 1e-6
    (dp-correctness.md, item 8). The one default-delta rule of the package."""
    if max_rows is not None and max_rows > 2:
        return min(DEFAULT_DELTA, 1.0 / (max_rows * math.log(max_rows)))
    return DEFAULT_DELTA


def delta_is_weak(delta: float, rows: float) -> bool:
    """True when delta is not below 1/(n ln n) for a table of about `rows` rows (used to warn after the fact)."""
    return rows > 2 and delta > 1.0 / (rows * math.log(rows))


@dataclass(frozen=True)
class DpSgdBudget:
    """The DP-SGD share of a release: (epsilon, delta) for an Opacus accountant."""

    epsilon: float
    delta: float

    def allowance(self) -> DpSgdAllowance:
        return DpSgdAllowance(self.epsilon, self.delta)


@dataclass(frozen=True)
class BudgetPlan:
    """How a release's (epsilon, delta) is split, known before any data is read.

    Attributes:
        epsilon, delta: the request (the whole release's guarantee, per privacy unit).
        rho: zCDP budget (domains + the generator's zCDP stages); delta_conversion converts it to epsilon.
        delta_threshold: delta of thresholded domain discovery.
        domain_share: the most of `rho` DP domain discovery may spend.
        dpsgd: the DP-SGD share, or None for zCDP-only generators.
    """

    epsilon: float
    delta: float
    rho: float
    delta_conversion: float
    delta_threshold: float
    domain_share: float
    dpsgd: DpSgdBudget | None = None

    @classmethod
    def for_release(cls, epsilon: float, delta: float, *, domain_share: float,
                    zcdp_share: float = 1.0) -> "BudgetPlan":
        """Split (epsilon, delta): `zcdp_share` of both to zCDP (all of it unless the generator trains with DP-SGD)."""
        eps_z, delta_z = epsilon * zcdp_share, delta * zcdp_share
        conversion, threshold = delta_z * (1 - THRESHOLD_DELTA_SHARE), delta_z * THRESHOLD_DELTA_SHARE
        dpsgd = None if zcdp_share >= 1.0 else DpSgdBudget(epsilon - eps_z, delta - delta_z)
        return cls(epsilon, delta, cdp_rho(eps_z, conversion), conversion, threshold, domain_share, dpsgd)

    @property
    def epsilon_sgd(self) -> float:
        return self.dpsgd.epsilon if self.dpsgd else 0.0

    @property
    def delta_sgd(self) -> float:
        return self.dpsgd.delta if self.dpsgd else 0.0

    @property
    def epsilon_other(self) -> float:
        """Epsilon accounted outside zCDP (DP-SGD), composed with the zCDP part by adding."""
        return self.epsilon_sgd

    @property
    def accountant(self) -> str:
        return "zcdp" if self.dpsgd is None else "zcdp+dpsgd"

    def open(self) -> PrivacyBudget:
        """The zCDP budget tree's root for this release (the caller splits it into domains and generator)."""
        return PrivacyBudget(self.rho, self.delta_conversion, "zcdp")

    def tree(self, zcdp: PrivacyBudget | None = None, dpsgd_spent: dict[str, Any] | None = None
             ) -> list[dict[str, Any]]:
        """The whole budget tree for the release record: the release node, the zCDP subtree (with what each node
        spent, when `zcdp` is given) and the DP-SGD node. Leaves add up to the request per accountant."""
        zcdp_epsilon = self.epsilon - self.epsilon_sgd
        nodes: list[dict[str, Any]] = [
            {"label": "release", "parent": None, "accountant": self.accountant, "epsilon": self.epsilon,
             "delta": self.delta, "rho": None, "share": 1.0}]
        subtree = zcdp.tree() if zcdp is not None else self.open().tree()
        for node in subtree:
            node = dict(node)
            if node["parent"] is None:
                node.update(parent="release", epsilon=zcdp_epsilon, share=zcdp_epsilon / self.epsilon,
                            delta=self.delta_conversion + self.delta_threshold,
                            delta_conversion=self.delta_conversion, delta_threshold=self.delta_threshold)
            nodes.append(node)
        if self.dpsgd is not None:
            nodes.append({"label": "dp-sgd", "parent": "release", "accountant": "opacus", "rho": None,
                          "epsilon": self.dpsgd.epsilon, "delta": self.dpsgd.delta,
                          "share": self.dpsgd.epsilon / self.epsilon,
                          **({"spent": dpsgd_spent} if dpsgd_spent else {})})
        return nodes
