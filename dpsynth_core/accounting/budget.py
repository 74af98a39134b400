"""One object owns a release's privacy state (like Opacus's PrivacyEngine owns its accountant).

`PrivacyBudget` holds the release's total rho and refuses any step that would spend more; each spend leaves a
`SpendRecord` so the release record can show what was spent where.
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
    """rho spent by one mechanism invocation (or a batch of identical ones, `count`)."""

    step: str
    mechanism: str
    rho: float
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, delta: float | None = None) -> dict[str, Any]:
        out = asdict(self)
        if delta is not None:
            # epsilon this step alone would amount to at the release's delta (for reading, not for composing)
            out["epsilon_equivalent"] = cdp_eps(self.rho, delta) if self.rho > 0 else 0.0
        return out


class PrivacyBudget:
    """Total rho of one release and its spend log.

    Args:
        rho: total zCDP budget of the release.
        delta_conversion: the delta used to convert rho to epsilon for reporting.
    """

    def __init__(self, rho: float, delta_conversion: float):
        if not (rho > 0 and math.isfinite(rho)):
            raise ValueError(f"rho must be a positive finite number, got {rho}")
        self.rho_total = float(rho)
        self.delta_conversion = float(delta_conversion)
        self._records: list[SpendRecord] = []

    @property
    def spent(self) -> float:
        return math.fsum(r.rho for r in self._records)

    @property
    def remaining(self) -> float:
        return max(self.rho_total - self.spent, 0.0)

    @property
    def records(self) -> tuple[SpendRecord, ...]:
        return tuple(self._records)

    def can_spend(self, rho: float) -> bool:
        return rho <= self.remaining + _TOLERANCE * self.rho_total

    def spend(self, step: str, mechanism: str, rho: float, **detail: Any) -> SpendRecord:
        """Charge `rho` for one step; raises BudgetOverspendError (and charges nothing) if it does not fit."""
        if not (rho >= 0 and math.isfinite(rho)):
            raise ValueError(f"step {step!r}: rho must be a finite number >= 0, got {rho}")
        if not self.can_spend(rho):
            raise BudgetOverspendError(
                f"step {step!r} asked for rho={rho:.6g} but only {self.remaining:.6g} of {self.rho_total:.6g} remains")
        rho = min(rho, self.remaining) if rho > self.remaining else rho
        record = SpendRecord(step=step, mechanism=mechanism, rho=float(rho), detail=dict(detail))
        self._records.append(record)
        return record

    def epsilon_spent(self) -> float:
        return cdp_eps(self.spent, self.delta_conversion) if self.spent > 0 else 0.0

    def breakdown(self) -> list[dict[str, Any]]:
        return [r.to_dict(self.delta_conversion) for r in self._records]
