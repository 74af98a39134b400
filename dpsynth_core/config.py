"""SynthesisConfig: the settings of one release, validated before any data is read."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Mapping

from .accounting.plan import BudgetPlan, default_delta
from .errors import ConfigError
from .measurement.privacy_unit import PrivacyUnit
from .validation import Interval, Param, check_param, validate_params

DEFAULT_GENERATOR = "aim"
MAX_ROWS_PER_UNIT = 1000   # beyond this the noise (k times a row's) drowns any marginal
MAX_ROWS = 100_000_000   # the most rows one release may ask for (sampled in memory by the CLI and dbt-duckdb)


def _known_generator(name: str) -> str | None:
    from .generators.base import available_generators

    if name in available_generators():
        return None
    return f"names an unknown generator (use one of {available_generators()})"


@dataclass
class SynthesisConfig:
    """Settings of one release.

    epsilon, delta: the (epsilon, delta)-DP guarantee of the whole release (preprocessing included), per privacy unit
        (one source row by default; see `privacy_unit`).
    delta: default `accounting.plan.default_delta(max_rows)`: min(1e-6, 1/(n ln n)) with n the public `max_rows`,
        else 1e-6.
    rows: rows to generate (public); default: the DP estimate of the source's row count.
    max_rows: public upper bound on the source's rows (sets the default delta and DP-SGD's sampling rate).
    seed: drives sampling from the fitted model only — never the privacy noise, never the holdout split.
    holdout: share of the rows kept out of training for the (non-DP) release evaluation.
    domain_share: the most of the zCDP rho DP domain discovery may spend (only on columns without a public domain);
        default: the generator's (0.1 for marginal generators, 0.5 of the zCDP part for DP-SGD generators).
    options: generator options (validated by the generator's own constraint table).
    privacy_unit: key column naming the individual protected (e.g. `patient_id`); neighbouring tables then differ by
        all rows of one key value, and the column is an identifier (never modelled; surrogate keys in the output).
        Default None: one source row is the unit. Public.
    max_rows_per_unit: k, the most rows one unit contributes (public, default 1): the source is bounded to k rows per
        unit, chosen at random with a secret salt, before any measurement, and every sensitivity is multiplied by k.
        More rows per unit keep more data but cost k times the noise; DP-SGD generators need k = 1.
    preprocess: DP domain resolution options (`preprocessing.PreprocessOptions`, e.g. `infer_text_kinds: true` for
        a CSV read as all-VARCHAR, `other_label`), validated by their own constraint table.
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
    privacy_unit: str | None = None
    max_rows_per_unit: int = 1
    preprocess: dict[str, Any] = field(default_factory=dict)
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
        "privacy_unit": Param(str, none=True, example="patient_id"),
        "max_rows_per_unit": Param(int, Interval(1, MAX_ROWS_PER_UNIT), example=2),
        "preprocess": Param(dict, example="{infer_text_kinds: true}"),
    }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None, table: str = "") -> "SynthesisConfig":
        raw = dict(raw or {})
        if "epsilon" not in raw:
            raise ConfigError("no epsilon given.", table=table or None, fix="set dpsynth: {epsilon: 1.0, ...}.")
        values = validate_params({k: v for k, v in raw.items() if k != "columns"}, cls.constraints,
                                 what="dpsynth setting", table=table or None)
        return cls(**values, table=table)._check_privacy_unit()

    def validate(self) -> "SynthesisConfig":
        """Check every field against the constraint table (dataclass construction does not); returns self."""
        for f in fields(self):
            if f.name in self.constraints:
                setattr(self, f.name, check_param(f.name, getattr(self, f.name), self.constraints[f.name],
                                                  what="dpsynth setting", table=self.table or None))
        return self._check_privacy_unit()

    def _check_privacy_unit(self) -> "SynthesisConfig":
        """The rules between the unit settings (public facts only, so a refusal reads and charges nothing)."""
        table = self.table or None
        if self.privacy_unit is None and self.max_rows_per_unit != 1:
            raise ConfigError(f"max_rows_per_unit={self.max_rows_per_unit} is set but no privacy_unit names the key "
                              "column it bounds.", table=table,
                              fix="add `privacy_unit: <key column>` (e.g. patient_id), or drop max_rows_per_unit.")
        if self.max_rows_per_unit > 1 and self.uses_dp_sgd:
            raise ConfigError(f"generator {self.generator!r} trains with DP-SGD, which clips and accounts per row; "
                              f"max_rows_per_unit={self.max_rows_per_unit} > 1 would need group-level accounting, "
                              "which is not implemented.", table=table,
                              fix="use max_rows_per_unit: 1 (one random row per unit) or a marginal generator "
                                  "(aim, mst, copula).")
        return self

    @property
    def unit(self) -> PrivacyUnit:
        """The privacy unit (one row unless `privacy_unit` names a key column)."""
        return PrivacyUnit(self.privacy_unit, int(self.max_rows_per_unit))

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
