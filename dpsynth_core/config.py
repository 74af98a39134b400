"""SynthesisConfig: the settings of one release, validated before any data is read."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from .accounting.zcdp import cdp_rho
from .errors import ConfigError

DEFAULT_DELTA = 1e-6
# Share of delta reserved for thresholded domain discovery (the rest converts rho to epsilon). A fixed policy, so the
# rho of a request is known before reading data.
THRESHOLD_DELTA_SHARE = 0.1
DEFAULT_GENERATOR = "aim"
# Generators trained with DP-SGD: their (epsilon, delta) is split into a zCDP preprocessing share and a DP-SGD share
# accounted by Opacus (RDP or PRV), composed basically: epsilon = epsilon_pre + epsilon_sgd, delta likewise.
DP_SGD_GENERATORS = ("dp-ctgan", "dp-tvae")
DEFAULT_DP_SGD_PREPROCESSING_SHARE = 0.1


@dataclass(frozen=True)
class BudgetPlan:
    """How a release's (epsilon, delta) is split, known before any data is read.

    rho: zCDP budget (domain discovery, marginal measurements, deep generators' DP histograms), converted to epsilon
    with delta_conversion; delta_threshold: thresholded domain discovery; epsilon_sgd/delta_sgd: DP-SGD's share.
    """

    rho: float
    delta_conversion: float
    delta_threshold: float
    epsilon_sgd: float = 0.0
    delta_sgd: float = 0.0

    @property
    def epsilon_other(self) -> float:
        return self.epsilon_sgd

    @property
    def accountant(self) -> str:
        return "zcdp" if self.epsilon_sgd == 0 else "zcdp+dpsgd"


@dataclass
class SynthesisConfig:
    """Settings of one release.

    epsilon, delta: the (epsilon, delta)-DP guarantee of the whole release (preprocessing included), per source row.
    delta: default min(1e-6, 1/(n ln n)) where n is the public `max_rows` bound when given, else 1e-6.
    rows: rows to generate (public); default: the DP estimate of the source's row count.
    seed: drives sampling from the fitted model only — never the privacy noise.
    preprocessing_fraction: share of rho for DP domain discovery (only spent on columns without a public domain).
    """

    epsilon: float
    delta: float | None = None
    generator: str = DEFAULT_GENERATOR
    rows: int | None = None
    max_rows: int | None = None
    seed: int | None = None
    budget_key: str | None = None
    target: str | None = None
    holdout: float = 0.0
    preprocessing_fraction: float = 0.1
    options: dict[str, Any] = field(default_factory=dict)
    table: str = ""   # for error messages only

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None, table: str = "") -> "SynthesisConfig":
        raw = dict(raw or {})
        known = {f.name for f in fields(cls)} - {"table"}
        unknown = sorted(set(raw) - known - {"columns"})
        if unknown:
            raise ConfigError(f"unknown dpsynth setting(s) {unknown}.", table=table or None,
                              fix=f"use only {sorted(known)}.")
        if "epsilon" not in raw:
            raise ConfigError("no epsilon given.", table=table or None, fix="set dpsynth: {epsilon: 1.0, ...}.")
        cfg = cls(**{k: v for k, v in raw.items() if k in known}, table=table)
        cfg.validate()
        return cfg

    def _err(self, problem: str, fix: str) -> ConfigError:
        return ConfigError(problem, table=self.table or None, fix=fix)

    def validate(self) -> "SynthesisConfig":
        try:
            eps = float(self.epsilon)
        except (TypeError, ValueError):
            raise self._err(f"epsilon={self.epsilon!r} is not a number.", "write e.g. epsilon: 1.0.") from None
        if not (eps > 0 and math.isfinite(eps)):
            raise self._err(f"epsilon={self.epsilon!r} must be a positive finite number.",
                            "use e.g. epsilon: 1.0 (smaller = more private).")
        self.epsilon = eps
        if self.delta is not None:
            try:
                self.delta = float(self.delta)
            except (TypeError, ValueError):
                raise self._err(f"delta={self.delta!r} is not a number.", "write e.g. delta: 1e-7.") from None
            if not 0 < self.delta < 1:
                raise self._err(f"delta={self.delta!r} must be in (0, 1).", "use e.g. delta: 1e-7.")
            if self.delta > 1e-3:
                raise self._err(f"delta={self.delta} is far too large: it allows whole records to leak.",
                                "use delta <= 1/(n ln n) for n source rows (default 1e-6).")
        for name in ("rows", "max_rows", "seed"):
            value = getattr(self, name)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value or value < 0:
                    raise self._err(f"{name}={value!r} must be a non-negative integer.", f"write e.g. {name}: 1000.")
                setattr(self, name, int(value))
        if not 0 <= float(self.holdout) < 1:
            raise self._err(f"holdout={self.holdout!r} must be in [0, 1).", "use e.g. holdout: 0.2.")
        self.holdout = float(self.holdout)
        if not 0 <= float(self.preprocessing_fraction) < 1:
            raise self._err(f"preprocessing_fraction={self.preprocessing_fraction!r} must be in [0, 1).",
                            "use e.g. preprocessing_fraction: 0.1.")
        self.preprocessing_fraction = float(self.preprocessing_fraction)
        if not isinstance(self.options, dict):
            raise self._err(f"options={self.options!r} must be a mapping.", "write options: {iters: 500}.")
        from .generators.base import available_generators

        if self.generator not in available_generators():
            raise self._err(f"unknown generator {self.generator!r}.", f"use one of {available_generators()}.")
        return self

    def resolved_delta(self) -> float:
        if self.delta is not None:
            return float(self.delta)
        if self.max_rows and self.max_rows > 2:
            return min(DEFAULT_DELTA, 1.0 / (self.max_rows * math.log(self.max_rows)))
        return DEFAULT_DELTA

    @property
    def uses_dp_sgd(self) -> bool:
        return self.generator in DP_SGD_GENERATORS

    def budget_plan(self) -> BudgetPlan:
        """Split (epsilon, delta) between zCDP steps and DP-SGD (deep generators only)."""
        epsilon, delta = self.epsilon, self.resolved_delta()
        eps_sgd = delta_sgd = 0.0
        if self.uses_dp_sgd:
            share = float(self.options.get("preprocessing_share", DEFAULT_DP_SGD_PREPROCESSING_SHARE))
            if not 0 < share < 1:
                raise self._err(f"options.preprocessing_share={share!r} must be in (0, 1).",
                                "use e.g. preprocessing_share: 0.1.")
            eps_sgd, delta_sgd = epsilon * (1 - share), delta * (1 - share)
            epsilon, delta = epsilon * share, delta * share
        conversion, threshold = delta * (1 - THRESHOLD_DELTA_SHARE), delta * THRESHOLD_DELTA_SHARE
        return BudgetPlan(cdp_rho(epsilon, conversion), conversion, threshold, eps_sgd, delta_sgd)

    def delta_split(self) -> tuple[float, float]:
        """(delta_conversion, delta_threshold) of the zCDP part."""
        plan = self.budget_plan()
        return plan.delta_conversion, plan.delta_threshold

    def requested_rho(self) -> float:
        """rho (zCDP part) this release may spend — known before any data is read."""
        return self.budget_plan().rho
