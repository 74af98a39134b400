"""Small helpers shared by the section builders."""

from __future__ import annotations

import math
from typing import Any, Mapping

from ...accounting.zcdp import cdp_eps
from ..document import Fact
from ..numbers import num

NON_DP_WARNING = ("Empirical, NON-DP measurements on real data. Every number in this section is an exact statistic "
                  "of real rows (the generator's training rows and the holdout). The (epsilon, delta) guarantee of "
                  "the synthetic table does not cover them: this report is as sensitive as the metrics table and must "
                  "be shared only with the people who sign off the release.")


def fact(label: str, value: Any, text: str | None = None) -> Fact:
    return Fact(label, value, num(value) if text is None else text)


def f(x: Any) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def eps_of_rho(rho: float | None, delta: float | None) -> float | None:
    """Epsilon a rho amounts to at `delta` (for reading a share of the budget, not for composing)."""
    if rho is None or delta is None or not 0 < delta < 1:
        return None
    return cdp_eps(rho, delta) if rho > 0 else 0.0


def gate_text(passed: Any) -> str:
    return {True: "gate passed", False: "gate failed"}.get(passed, "not gated (reported only)")


def where_written(evidence) -> str:
    parts = []
    if evidence.written_to:
        parts.append(f"This report was written to {evidence.written_to}")
    if evidence.metrics_location:
        parts.append(f"the measurements come from {evidence.metrics_location}")
    return ("; ".join(parts) + ".") if parts else "No output location was given to the renderer."


def record_value(record: Mapping[str, Any], key: str, default: Any = None) -> Any:
    value = record.get(key, default)
    return default if value is None else value
