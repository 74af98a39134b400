"""SynthesisConfig: the settings of one release, validated before any data is read."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Mapping

from .accounting.plan import BudgetPlan, default_delta
from .errors import ConfigError
from .validation import Interval, Param, check_param, validate_params

DEFAULT_GENERATOR = "aim"
MAX_ROWS = 100_000_000   # the most rows one release may ask for (sampled in memory by the CLI and dbt-duckdb)


def _known_generator(name: str) -> str | None:
    from .generators.base import available_generators

    return None if name in available_generators() else f"names an unknown generator (use one of {available_generators()})"


@dataclass
class SynthesisConfig:
    """Settings of one release.

    epsilon, delta: the (epsilon, delta)-DP guarantee of the whole release (preprocessing included), per source row.
    delta: default `accounting.plan.default_delta(max_rows)`: min(1e-6, 1/(n ln n)) with n the public `max_rows`,
        else 1e-6.
    rows: rows to generate (public); default: the DP estimate of the source's row count.
    max_rows: public upper bound on the source's rows (sets the default delta and DP-SGD's sampling rate).
    seed: drives sampling from the fitted model only — never the privacy noise, never the holdout split.
    holdout: share of the rows kept out of training for the (non-DP) release evaluation.
    domain_share: the most of the zCDP rho DP domain discovery may spend (only on columns without a public domain);
        default: the generator's (0.1 for marginal generators, 0.5 of the zCDP part for DP-SGD generators).
    options: generator options (validated by the generator's own constraint table).
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
    domain_share: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    table: str = ""   # for error messages only

    constraints: ClassVar[dict[str, Param]] = {
        "epsilon": Param(float, Interval(0, None, "neither"), example=1.0),
        "delta": Param(float, Interval(0, 1e-3, "right"), none=True, example=1e-7),
        "generator": Param(str, check=_known_generator, example=DEFAULT_GENERATOR),
        # at least one row: a release of zero rows would spend the whole epsilon for nothing (refused before reading)
        "rows": Param(int, Interval(1, MAX_ROWS), none=True, example=1000),
        "max_rows": Param(int, Interval(1, None), none=True, example=100000),
        "seed": Param(int, Interval(0, 2**63 - 1), none=True, example=7),
        "budget_key": Param(str, none=True, example="patients"),
        "target": Param(str, none=True, example="outcome"),
        "holdout": Param(float, Interval(0, 1, "left"), example=0.2),
        "domain_share": Param(float, Interval(0, 1, "left"), none=True, example=0.1),
        "options": Param(dict, example="{iters: 500}"),
    }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None, table: str = "") -> "SynthesisConfig":
        raw = dict(raw or {})
        if "epsilon" not in raw:
            raise ConfigError("no epsilon given.", table=table or None, fix="set dpsynth: {epsilon: 1.0, ...}.")
        values = validate_params({k: v for k, v in raw.items() if k != "columns"}, cls.constraints,
                                 what="dpsynth setting", table=table or None)
        return cls(**values, table=table)

    def validate(self) -> "SynthesisConfig":
        """Check every field against the constraint table (dataclass construction does not); returns self."""
        for f in fields(self):
            if f.name in self.constraints:
                setattr(self, f.name, check_param(f.name, getattr(self, f.name), self.constraints[f.name],
                                                  what="dpsynth setting", table=self.table or None))
        return self

    def resolved_delta(self) -> float:
        return float(self.delta) if self.delta is not None else default_delta(self.max_rows)

    def generator_class(self):
        from .generators.base import generator_class

        return generator_class(self.generator, self.table or None)

    @property
    def uses_dp_sgd(self) -> bool:
        return self.budget_plan().dpsgd is not None

    def budget_plan(self, generator=None) -> BudgetPlan:
        """The release's budget plan (every split of (epsilon, delta)), from public settings only.

        Args:
            generator: the release's Generator instance (built from `options` when not given).
        """
        if generator is None:
            from .generators.base import GeneratorContext

            generator = self.generator_class()(self.options, GeneratorContext(table=self.table))
        share = self.domain_share if self.domain_share is not None else generator.domain_share
        return BudgetPlan.for_release(self.epsilon, self.resolved_delta(), domain_share=share,
                                      zcdp_share=generator.zcdp_share())

    def requested_rho(self) -> float:
        """rho (zCDP part) this release may spend — known before any data is read."""
        return self.budget_plan().rho
