"""One object owns a release's zCDP privacy state (like Opacus's PrivacyEngine owns its accountant).

`PrivacyBudget` is a tree. The root holds the release's zCDP budget (rho, and the delta that converts it to
epsilon). Each stage of a release carves a child out of its parent's unallocated rho (`child`), spends from it
(`spend`, refused when it would exceed the child's allocation) and may hand back what it did not spend (`close`).
Every spend leaves a `SpendRecord`; `tree()` lists every node, so the release record shows how the budget was split
and where each step was charged. Leaves' allocations add up to the root's rho when every node is fully allocated.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import BudgetOverspendError
from .zcdp import cdp_eps

# Relative slack for float round-off when the last step spends "the remainder".
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class SpendRecord:
    """rho spent by one mechanism invocation (or a batch of identical ones, `count`), charged to budget `node`."""

    step: str
    mechanism: str
    rho: float
    detail: dict[str, Any] = field(default_factory=dict)
    node: str = ""

    def to_dict(self, delta: float | None = None) -> dict[str, Any]:
        out = asdict(self)
        if delta is not None:
            # epsilon this step alone would amount to at the release's delta (for reading, not for composing)
            out["epsilon_equivalent"] = cdp_eps(self.rho, delta) if self.rho > 0 else 0.0
        return out


class DpSgdAllowance:
    """The DP-SGD share of a release, (epsilon, delta) for an Opacus accountant: charged once, with the calibrated
    plan's epsilon, when the training rows are handed out (`PrivateTable.training_rows`)."""

    def __init__(self, epsilon: float, delta: float):
        self.epsilon, self.delta = float(epsilon), float(delta)
        self.charged: dict[str, Any] | None = None

    def charge(self, step: str, plan: Any) -> dict[str, Any]:
        """Charge a calibrated plan (`DpSgdPlan`); refused when already charged or when it exceeds the share."""
        if self.charged is not None:
            raise BudgetOverspendError(f"step {step!r}: the DP-SGD share was already charged by "
                                       f"{self.charged['step']!r}")
        if plan.planned_epsilon > self.epsilon * (1 + _TOLERANCE) or plan.delta > self.delta * (1 + _TOLERANCE):
            raise BudgetOverspendError(f"step {step!r}: DP-SGD plan (epsilon={plan.planned_epsilon:.6g}, "
                                       f"delta={plan.delta:.3g}) exceeds its share (epsilon={self.epsilon:.6g}, "
                                       f"delta={self.delta:.3g})")
        self.charged = {"step": step, "accountant": plan.accountant, "epsilon": plan.planned_epsilon,
                        "delta": plan.delta, "steps": plan.steps, "sample_rate": plan.sample_rate,
                        "noise_multiplier": plan.noise_multiplier}
        return self.charged


class PrivacyBudget:
    """A node of a release's zCDP budget tree.

    Args:
        rho: the node's allocation (zCDP rho, unitless; rho = Δ²/(2σ²) for a Gaussian of sensitivity Δ and std σ).
        delta_conversion: the delta used to convert rho to epsilon when reporting.
        label: the node's name in the release record (children are named `parent/label`).
    """

    def __init__(self, rho: float, delta_conversion: float, label: str = "zcdp", *,
                 dpsgd: DpSgdAllowance | None = None, _parent: "PrivacyBudget | None" = None):
        if not (rho > 0 and math.isfinite(rho)) and not (_parent is not None and rho == 0):
            raise ValueError(f"rho must be a positive finite number, got {rho}")
        self.rho_total = float(rho)
        self.delta_conversion = float(delta_conversion)
        self.label = label if _parent is None else f"{_parent.label}/{label}"
        self.parent = _parent
        self.children: list[PrivacyBudget] = []
        self._records: list[SpendRecord] = []
        self.dpsgd = dpsgd

    # ------------------------------------------------------------------ structure
    @property
    def root(self) -> "PrivacyBudget":
        node = self
        while node.parent is not None:
            node = node.parent
        return node

    def child(self, label: str, *, rho: float | None = None, share: float | None = None,
              dpsgd: DpSgdAllowance | None = None) -> "PrivacyBudget":
        """Allocate a child budget of `rho`, or `share` of this node's total rho, out of what is unallocated here
        (and, for a DP-SGD generator, hand it the release's DP-SGD allowance).

        Raises BudgetOverspendError (and allocates nothing) when the request exceeds the unallocated rho.
        """
        if (rho is None) == (share is None):
            raise ValueError("give exactly one of rho= or share=")
        amount = float(rho) if rho is not None else float(share) * self.rho_total
        if not (amount >= 0 and math.isfinite(amount)):
            raise ValueError(f"child {label!r}: rho must be a finite number >= 0, got {amount}")
        if not self.can_spend(amount):
            raise BudgetOverspendError(f"budget {self.label!r}: child {label!r} asked for rho={amount:.6g} but only "
                                       f"{self.remaining:.6g} of {self.rho_total:.6g} is unallocated")
        node = PrivacyBudget(min(amount, self.remaining), self.delta_conversion, label, dpsgd=dpsgd, _parent=self)
        self.children.append(node)
        return node

    def rest(self, label: str, dpsgd: DpSgdAllowance | None = None) -> "PrivacyBudget":
        """A child holding everything still unallocated here (the last stage of a split)."""
        return self.child(label, rho=self.remaining, dpsgd=dpsgd)

    def dpsgd_allowance(self) -> DpSgdAllowance | None:
        """The DP-SGD allowance of this node or its nearest ancestor that has one."""
        node: PrivacyBudget | None = self
        while node is not None:
            if node.dpsgd is not None:
                return node.dpsgd
            node = node.parent
        return None

    def close(self) -> float:
        """Shrink this node's allocation to what it (and its children) spent, handing the rest back to the parent.
        Returns the rho handed back."""
        for node in self.children:
            node.close()
        unspent = self.rho_total - self.spent
        if self.parent is not None and unspent > 0:
            self.rho_total = self.spent
            return unspent
        return 0.0

    # ------------------------------------------------------------------ accounting
    @property
    def direct_spent(self) -> float:
        return math.fsum(r.rho for r in self._records)

    @property
    def allocated(self) -> float:
        """rho held by this node's children (their allocations, spent or not) plus its own spends."""
        return math.fsum([self.direct_spent] + [c.rho_total for c in self.children])

    @property
    def spent(self) -> float:
        """rho actually spent by this node and its descendants."""
        return math.fsum([self.direct_spent] + [c.spent for c in self.children])

    @property
    def remaining(self) -> float:
        """rho neither spent here nor allocated to a child."""
        return max(self.rho_total - self.allocated, 0.0)

    @property
    def records(self) -> tuple[SpendRecord, ...]:
        """Spend records of this node and its descendants, in tree order."""
        out = list(self._records)
        for c in self.children:
            out.extend(c.records)
        return tuple(out)

    def can_spend(self, rho: float) -> bool:
        return rho <= self.remaining + _TOLERANCE * max(self.root.rho_total, 1e-300)

    def spend(self, step: str, mechanism: str, rho: float, **detail: Any) -> SpendRecord:
        """Charge `rho` for one step; raises BudgetOverspendError (and charges nothing) if it does not fit.

        The record keeps the rho the mechanism ran with (a float round-off over the remainder is tolerated).
        """
        if not (rho >= 0 and math.isfinite(rho)):
            raise ValueError(f"step {step!r}: rho must be a finite number >= 0, got {rho}")
        if not self.can_spend(rho):
            raise BudgetOverspendError(
                f"step {step!r} asked for rho={rho:.6g} but only {self.remaining:.6g} of {self.rho_total:.6g} remains "
                f"in budget {self.label!r}")
        record = SpendRecord(step=step, mechanism=mechanism, rho=float(rho), detail=dict(detail), node=self.label)
        self._records.append(record)
        return record

    def epsilon_spent(self) -> float:
        """Epsilon of what was spent at `delta_conversion` (a float round-off over the allocation, which `spend`
        tolerates, is not reported as an overspend)."""
        spent = min(self.spent, self.rho_total)
        return cdp_eps(spent, self.delta_conversion) if spent > 0 else 0.0

    def breakdown(self) -> list[dict[str, Any]]:
        return [r.to_dict(self.delta_conversion) for r in self.records]

    def tree(self) -> list[dict[str, Any]]:
        """Every node (this one first, then children depth-first): label, parent, accountant, rho allocated, rho
        spent, epsilon equivalent at `delta_conversion`, share of the parent's allocation."""
        parent_rho = self.parent.rho_total if self.parent is not None else None
        node = {"label": self.label, "parent": self.parent.label if self.parent is not None else None,
                "accountant": "zcdp", "rho": self.rho_total, "rho_spent": self.spent,
                "epsilon": cdp_eps(self.rho_total, self.delta_conversion) if self.rho_total > 0 else 0.0,
                "share": self.rho_total / parent_rho if parent_rho else 1.0}
        out = [node]
        for c in self.children:
            out.extend(c.tree())
        return out
