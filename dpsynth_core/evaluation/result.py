"""Result model: one `MetricResult` per metric, an `EvaluationReport` holding them.

`EvaluationReport.to_records()` gives the rows of the warehouse table `dpsynth_metrics`:
release_id, model, metric, kind ('privacy'|'utility'), value, threshold, passed, computed_at, rule, holdout_value.

A threshold computed from the data (e.g. the holdout's own copy rate + 0.01, or a confidence bound whose sample size
is the holdout's) is rounded to `THRESHOLD_DECIMALS` places before the decision, so the stored threshold does not
encode an exact count (0.01 + 4/5119 would give away the holdout's size); `rule` says how it was derived.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

METRIC_RECORD_COLUMNS = ("release_id", "model", "metric", "kind", "value", "threshold", "passed", "computed_at",
                         "rule", "holdout_value")
THRESHOLD_DECIMALS = 3


def public_threshold(threshold: float | None) -> float | None:
    """A data-dependent threshold rounded to `THRESHOLD_DECIMALS` places (None stays None)."""
    return None if threshold is None else round(float(threshold), THRESHOLD_DECIMALS)


@dataclass(frozen=True)
class MetricResult:
    """One metric. `direction` 'max': passes when value <= threshold; 'min': when value >= threshold.
    `threshold` None = reported only (`passed` None, never fails a gate). `rule`: how the threshold was derived from
    the configured value (`configured` when it is that value). `baseline`: what the holdout (a fresh sample of the
    population) scores on the same metric, where that is defined."""

    metric: str
    value: float
    threshold: float | None
    direction: str = "max"
    passed: bool | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "utility"
    rule: str = "configured"
    baseline: float | None = None

    @classmethod
    def gated(cls, metric: str, value: float, threshold: float | None, kind: str, direction: str = "max",
              lower_bound: float | None = None, rule: str = "configured", baseline: float | None = None,
              data_dependent: bool = False, **detail: Any) -> "MetricResult":
        """Build a result and decide `passed` (a NaN value never passes a set threshold).

        `data_dependent=True`: the threshold was computed from the data; it is rounded (`public_threshold`) first.
        `lower_bound` (for noisy estimates: anonymeter-style risks, the TSTR gap): the metric fails only when this
        one-sided lower confidence bound is above the threshold, i.e. when the data show, at that confidence, that the
        true value exceeds it; a value above the threshold whose bound is not records `not_significant`."""
        if data_dependent:
            threshold = public_threshold(threshold)
        extra = {"rule": rule, "baseline": None if baseline is None else float(baseline)}
        if lower_bound is not None and threshold is not None and not math.isnan(value) and direction == "max" \
                and value > threshold and not lower_bound > threshold:
            detail = {**detail, "not_significant": True, "lower_bound": float(lower_bound)}
            return cls(metric, float(value), float(threshold), direction, True, _jsonable(detail), kind, **extra)
        if lower_bound is not None:
            detail = {**detail, "lower_bound": float(lower_bound)}
        if threshold is None:
            passed = None
        elif value is None or math.isnan(value):
            passed = False
        elif direction == "max":
            passed = bool(value <= threshold)
        else:
            passed = bool(value >= threshold)
        return cls(metric, float(value), None if threshold is None else float(threshold), direction, passed,
                   _jsonable(detail), kind, **extra)

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "kind": self.kind, "value": _num(self.value), "threshold": _num(self.threshold),
                "direction": self.direction, "passed": self.passed, "rule": self.rule,
                "holdout_value": _num(self.baseline), "detail": _jsonable(self.detail)}


@dataclass(frozen=True)
class EvaluationReport:
    """All metrics of one evaluation. NOT differentially private: metrics are exact statistics of real rows (train
    sample and holdout); share them with the people who sign off a release, not with the synthetic table's users."""

    results: tuple[MetricResult, ...]
    computed_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    notes: tuple[str, ...] = ()
    details: Mapping[str, Any] | None = None   # plot data (`evaluation.details`), when evaluate(details=True)

    @property
    def passed(self) -> bool:
        return all(r.passed is not False for r in self.results)

    def failures(self, kind: str | None = None) -> list[MetricResult]:
        return [r for r in self.results if r.passed is False and (kind is None or r.kind == kind)]

    def passed_kind(self, kind: str) -> bool:
        return not self.failures(kind)

    def __getitem__(self, metric: str) -> MetricResult:
        for r in self.results:
            if r.metric == metric:
                return r
        raise KeyError(metric)

    def metrics(self) -> list[str]:
        return [r.metric for r in self.results]

    def to_records(self, release_id: str | None = None, model: str | None = None) -> list[dict[str, Any]]:
        """Rows for `dpsynth_metrics` (columns `METRIC_RECORD_COLUMNS`)."""
        return [{"release_id": release_id, "model": model, "metric": r.metric, "kind": r.kind,
                 "value": _num(r.value), "threshold": _num(r.threshold), "passed": r.passed,
                 "computed_at": self.computed_at, "rule": r.rule, "holdout_value": _num(r.baseline)}
                for r in self.results]

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "privacy_passed": self.passed_kind("privacy"),
                "utility_passed": self.passed_kind("utility"), "computed_at": self.computed_at,
                "notes": list(self.notes), "differentially_private": False,
                "metrics": [r.to_dict() for r in self.results]} | (
                    {"details": self.details} if self.details is not None else {})

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


def _num(x):
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def _jsonable(obj):
    """Detail values made JSON-safe (numpy scalars -> float/int, tuples -> lists, NaN -> None)."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if hasattr(obj, "item") and not hasattr(obj, "__len__"):
        obj = obj.item()
    if isinstance(obj, float):
        return _num(obj)
    if isinstance(obj, int):
        return obj
    return str(obj)
