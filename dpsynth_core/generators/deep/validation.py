"""Validate a deep-generator configuration before any data is read, and recommend one for a goal.

Inputs are public only: the config, the release's (epsilon, delta), and the table size N when it is declared
(`rows`/`max_rows`) or DP-estimated. Thresholds (dp-correctness.md item 6 and the issue):
- sampling rate q = batch_size / N: warning when q > 10%, error when q > 20% (amplification by subsampling fades and
  batches stop being small random subsets);
- planned steps: warning when > 1,000 (each step composes; noise must grow);
- batch_size > N: error;
- epsilon unreachable (no noise multiplier reaches it, or the one that does exceeds `max_noise_multiplier`): error.
Errors come with a recommended configuration for the same table and budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from dpsynth_core.accounting.dpsgd import calibrate_noise_multiplier
from dpsynth_core.accounting.plan import BudgetPlan, default_delta
from dpsynth_core.errors import ConfigError
from dpsynth_core.generators.deep.config import DeepConfig

SAMPLE_RATE_WARN = 0.10
SAMPLE_RATE_ERROR = 0.20
STEPS_WARN = 1000
GOALS = ("high_privacy", "balanced", "high_quality")

# Per goal: target sampling rate and epochs; the recommender lowers epochs until the calibrated sigma is below the
# goal's noise cap, and keeps steps <= STEPS_WARN.
_GOAL_PRESETS = {
    "high_privacy": {"sample_rate": 0.01, "epochs": 5, "noise_cap": 5.0},
    "balanced": {"sample_rate": 0.02, "epochs": 10, "noise_cap": 5.0},
    "high_quality": {"sample_rate": 0.04, "epochs": 25, "noise_cap": 3.0},
}
MIN_BATCH = 16


def planned_steps(epochs: int, sample_rate: float) -> int:
    """DP-SGD steps for `epochs` passes at Poisson rate q: ceil(epochs / q) (one epoch = 1/q expected batches)."""
    return int(math.ceil(epochs / sample_rate - 1e-9))


@dataclass(frozen=True)
class ValidationReport:
    """Outcome of validating one configuration: errors stop the model, warnings are recorded in the release."""

    generator: str
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    derived: dict = field(default_factory=dict)
    recommended: dict | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {"ok": self.ok, "generator": self.generator, "errors": list(self.errors),
                "warnings": list(self.warnings), "derived": dict(self.derived), "recommended": self.recommended}

    def raise_if_errors(self, table: str | None = None) -> "ValidationReport":
        if self.errors:
            recommended = ""
            if self.recommended:
                recommended = f" Recommended configuration: {self.recommended['config_summary']}."
            raise ConfigError(f"{self.generator} configuration rejected: " + " ".join(self.errors), table=table,
                              fix="Adjust the settings named above." + recommended)
        return self


def deep_plan(config: DeepConfig, epsilon: float, delta: float) -> BudgetPlan:
    """The budget plan of a deep-generator release of (epsilon, delta) (the one split rule, in accounting/plan)."""
    from dpsynth_core.generators.deep.common import DeepGenerator

    return BudgetPlan.for_release(epsilon, delta, domain_share=DeepGenerator.domain_share,
                                  zcdp_share=config.preprocessing_share)


def validate_deep_config(config: DeepConfig, *, generator: str, plan: BudgetPlan,
                         rows: int | None, recommend: bool = True) -> ValidationReport:
    """Check `config` for a release with budget `plan` on a table of `rows` rows (public/declared or DP-estimated).

    DP-SGD gets the plan's DP-SGD share. With `rows=None` (size unknown until the DP row count) only the data-free
    checks run; call again with the DP count.
    """
    errors: list[str] = []
    warnings: list[str] = []
    epsilon, delta = plan.epsilon, plan.delta
    shares = {"preprocessing_epsilon": epsilon - plan.epsilon_sgd, "preprocessing_delta": delta - plan.delta_sgd,
              "sgd_epsilon": plan.epsilon_sgd, "sgd_delta": plan.delta_sgd}
    derived: dict = {"epsilon": epsilon, "delta": delta, **shares,
                     "accountant": config.accountant, "rows": rows}
    if rows is None:
        warnings.append("Table size unknown before reading data: the sampling rate and noise are checked again "
                        "after the DP row count (declare `rows` to check them now).")
        return ValidationReport(generator, tuple(errors), tuple(warnings), derived)
    if rows < 1:
        errors.append(f"The table size must be positive (rows={rows}).")
        return ValidationReport(generator, tuple(errors), tuple(warnings), derived)

    if config.batch_size > rows:
        errors.append(f"batch_size={config.batch_size} is larger than the table ({rows} rows).")
    sample_rate = config.batch_size / rows
    derived["sample_rate"] = sample_rate
    if sample_rate > SAMPLE_RATE_ERROR:
        errors.append(f"Sampling rate {sample_rate:.1%} (batch_size/rows) exceeds {SAMPLE_RATE_ERROR:.0%}.")
    elif sample_rate > SAMPLE_RATE_WARN:
        warnings.append(f"Sampling rate {sample_rate:.1%} exceeds {SAMPLE_RATE_WARN:.0%}: weak privacy "
                        "amplification; a smaller batch_size usually gives a better model at the same epsilon.")
    steps = planned_steps(config.epochs, min(sample_rate, 1.0))
    derived["steps"] = steps
    if steps > STEPS_WARN:
        warnings.append(f"{steps} planned DP-SGD steps exceed {STEPS_WARN}: every step composes, so the noise must "
                        "grow; consider fewer epochs or a larger batch.")
    if delta >= 1.0 / rows:
        warnings.append(f"delta={delta:g} is not well below 1/rows={1.0 / rows:.3g}; a mechanism could release a "
                        f"whole row with probability delta. Suggested: delta <= {default_delta(rows):.3g}.")
    if config.accountant == "prv" and epsilon > 10:
        warnings.append("The PRV accountant is numerically fragile above epsilon 10 (Opacus #601, #604); "
                        "consider accountant 'rdp'.")

    if not errors:
        try:
            sgd_plan = calibrate_noise_multiplier(target_epsilon=shares["sgd_epsilon"], delta=shares["sgd_delta"],
                                              sample_rate=sample_rate, steps=steps, accountant=config.accountant)
        except ConfigError as exc:
            errors.append(f"epsilon unreachable: {exc.problem}")
        else:
            derived["noise_multiplier"] = sgd_plan.noise_multiplier
            derived["planned_sgd_epsilon"] = sgd_plan.planned_epsilon
            derived["noise_std_per_mean_gradient"] = (sgd_plan.noise_multiplier * config.max_grad_norm
                                                      / config.batch_size)
            if sgd_plan.noise_multiplier > config.max_noise_multiplier:
                errors.append(
                    f"epsilon unreachable for a useful model: DP-SGD needs noise multiplier "
                    f"{sgd_plan.noise_multiplier:.3g} > max_noise_multiplier={config.max_noise_multiplier:g} for "
                    f"{steps} steps at sampling rate {sample_rate:.3g}.")

    recommended = None
    if errors and recommend:
        try:
            recommended = recommend_deep_config(goal="balanced", generator=generator, rows=rows, epsilon=epsilon,
                                                delta=delta, base=config)
        except ConfigError as exc:
            recommended = {"config_summary": f"none found ({exc.problem}); increase epsilon", "config": None}
    return ValidationReport(generator, tuple(errors), tuple(warnings), derived, recommended)


def recommend_deep_config(*, goal: str, generator: str, rows: int, epsilon: float, delta: float | None = None,
                          base: DeepConfig | None = None) -> dict:
    """A configuration for `goal` on a table of `rows` rows at (epsilon, delta) that validates without errors.

    Starts from the goal's sampling rate and epochs, caps steps at STEPS_WARN, then lowers epochs (and, failing that,
    raises the sampling rate up to SAMPLE_RATE_WARN) until the calibrated noise multiplier is within the goal's cap.
    Returns {"goal", "config", "config_summary", "validation"}; raises ConfigError when nothing fits.
    """
    if goal not in GOALS:
        raise ConfigError(f"Unknown goal {goal!r}.", fix=f"Use one of {', '.join(GOALS)}.")
    if rows < 1:
        raise ConfigError(f"Cannot recommend a configuration for a table of {rows} rows.",
                          fix="Declare the table's (public) row count.")
    delta = default_delta(rows) if delta is None else delta
    base = base or DeepConfig()
    preset = _GOAL_PRESETS[goal]
    noise_cap = min(preset["noise_cap"], base.max_noise_multiplier)
    rates = sorted({preset["sample_rate"], 0.02, 0.05, SAMPLE_RATE_WARN})
    rates = [r for r in rates if r >= preset["sample_rate"]]
    plan = deep_plan(base, epsilon, delta)
    sgd = {"sgd_epsilon": plan.epsilon_sgd, "sgd_delta": plan.delta_sgd}
    for rate in rates:
        batch = min(rows, max(MIN_BATCH, int(round(rate * rows))))
        if batch / rows > SAMPLE_RATE_WARN:
            batch = max(1, int(math.floor(SAMPLE_RATE_WARN * rows)))
        q = batch / rows
        max_epochs = max(1, min(preset["epochs"], int(STEPS_WARN * q)))
        for epochs in range(max_epochs, 0, -1):
            steps = planned_steps(epochs, q)
            try:
                sgd_plan = calibrate_noise_multiplier(target_epsilon=sgd["sgd_epsilon"], delta=sgd["sgd_delta"],
                                                  sample_rate=q, steps=steps, accountant=base.accountant)
            except ConfigError:
                continue
            if sgd_plan.noise_multiplier <= noise_cap:
                config = base.with_(batch_size=batch, epochs=epochs)
                report = validate_deep_config(config, generator=generator, plan=deep_plan(config, epsilon, delta),
                                              rows=rows, recommend=False)
                if report.ok:
                    return {"goal": goal, "config": config.to_dict(),
                            "config_summary": f"batch_size={batch}, epochs={epochs} ({steps} steps, sigma="
                                              f"{sgd_plan.noise_multiplier:.3g}, accountant={base.accountant})",
                            "validation": report.to_dict()}
    raise ConfigError(f"No {generator} configuration for goal {goal!r} reaches epsilon={epsilon:g} on {rows} rows "
                      f"with noise multiplier <= {noise_cap:g}.",
                      fix="Increase epsilon, use a marginal generator (mst/aim) for small tables, "
                          "or declare more rows.")
