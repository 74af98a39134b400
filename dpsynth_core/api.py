"""One call from a relation to a released synthetic table: `synthesize_table(engine, spec, config)`.

Order matters for "bad input loses nothing": everything that can be checked without reading data (config, spec
against the public schema, generator options) is checked first; only then does the PrivateTable read rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from . import __version__
from .accounting.plan import delta_is_weak
from .config import SynthesisConfig
from .dp_gate import DpGateConfig, DpGateResult, run_dp_gate
from .dp_gate import check_before_read as check_dp_gate
from .errors import ConfigError, SpecError
from .generators.base import FittedSynthesizer, GeneratorContext, get_generator
from .measurement.engine import Engine, TypeFamily
from .measurement.guard import guarded
from .measurement.holdout import EvaluationRows, read_evaluation_rows, split_holdout
from .measurement.privacy_unit import PrivacyUnit
from .measurement.private_table import PrivateTable
from .preprocessing import PreprocessOptions, domain_share_for, infers_kind, resolve_domains
from .release import ReleaseRecord
from .schema import ColumnKind, ColumnSpec, TableSpec

SMALL_ESTIMATE = 10      # a DP row estimate below this is worth a warning (post-processing of a DP output)


@dataclass
class Release:
    """A synthetic table, its release record and fitted model; `evaluation` holds raw rows (NOT DP) when a holdout
    was kept and the caller asked for them."""

    data: pd.DataFrame | None          # None when the caller streams the rows from `model`
    record: ReleaseRecord
    model: FittedSynthesizer
    evaluation: EvaluationRows | None = None


def resolve_spec(engine: Engine, spec: TableSpec | Mapping | None) -> TableSpec:
    """Complete a spec against the engine's public schema (kinds inferred from types where not declared)."""
    if isinstance(spec, TableSpec):
        columns = spec.to_dict(declared_only=True)
    else:
        columns = dict(spec or {})
    return TableSpec.from_dict(engine.relation_name, columns, engine.schema())


def with_unit_identifier(spec: TableSpec, unit: PrivacyUnit) -> TableSpec:
    """The spec with the privacy unit's key column as an identifier (never modelled; surrogate keys in the output).

    Raises SpecError (before any read) when the relation has no such column, or when its spec declares a domain
    (categories or bounds): a key that identifies people must not be learned.
    """
    if unit.is_row:
        return spec
    if unit.column not in spec.names:
        raise SpecError(f"privacy_unit names column {unit.column!r}, which the relation does not have (it has "
                        f"{list(spec.names)}).", table=spec.name, column=unit.column,
                        fix="name the key column that identifies the individual (e.g. patient_id), spelled as in "
                            "the relation.")
    column = spec.column(unit.column)
    if column.kind != ColumnKind.IDENTIFIER and not (column.categories is None and column.lower is None
                                                     and column.bins is None):
        raise SpecError(f"column {unit.column!r} is the privacy unit, but its spec declares a domain to model it as "
                        f"{column.kind.value!r}.", table=spec.name, column=unit.column,
                        fix="drop its categories/bounds (the unit's key is an identifier, never learned).")
    return spec.with_column(ColumnSpec(unit.column, ColumnKind.IDENTIFIER, column.nullable))


def check_named_column(name: str | None, spec: TableSpec, setting: str) -> None:
    """A setting that names a column (`target`, the evaluation's `sensitive` ...) must name a modelled column: checked
    from the spec alone, before anything is read."""
    if name is None:
        return
    modelled = [c.name for c in spec.columns if c.kind != ColumnKind.IDENTIFIER]
    if name not in modelled:
        raise ConfigError(f"{setting}={name!r} is not a modelled column of the relation.", table=spec.name,
                          column=name, fix=f"name one of {modelled}, or drop `{setting}`.")


def synthesize_table(engine: Engine, spec: TableSpec | Mapping | None, config: SynthesisConfig,
                     noise_rng: np.random.Generator | None = None,
                     preprocess: PreprocessOptions | None = None,
                     progress: Callable[[str, dict], None] | None = None,
                     evaluation_rows: bool = True, sample: bool = True,
                     sample_seed: int | None = None, dp_gate: DpGateConfig | None = None) -> Release:
    """Synthesize a DP table from `engine`.

    Args:
        engine: where the source rows live (read only through the measurement layer).
        spec: column specs (a TableSpec or `{column: {kind: ...}}`); kinds default from the public schema.
        config: the release's settings (epsilon, delta, generator, rows, ...).
        noise_rng: the privacy noise generator (default: OS entropy). Tests only.
        preprocess: DP domain discovery options (default: `config.preprocess`).
        progress: `progress(event, info)` receives progress events (info is post-processing of DP outputs only).
        evaluation_rows: with a holdout, hand the raw rows of both parts to the caller for the (non-DP) evaluation.
        sample: draw the synthetic rows in memory (`Release.data`); False leaves that to the caller, who streams
            `record.rows` rows from `Release.model` (e.g. `dbt_dpsynth.engines.duckdb.write_sample`).
        sample_seed: the seed of the sampling step (default `config.seed`); a caller that stores the fitted model
            passes the seed it stores, so re-sampling the stored model gives the same rows. Post-processing only.
        dp_gate: run the DP gate (a noisy threshold test on the holdout, `dpsynth_core.dp_gate`) with this share of
            the budget; its result is in `record.dp_gate`.
    Returns:
        The Release: synthetic rows, release record (with the whole budget tree), fitted model, evaluation rows.
    Raises:
        ConfigError, SpecError, InputError before any data is read when the settings cannot work (the spec is checked
            against the public schema: `spec_types`).
        EngineError after reading, for any failure that is not one of ours: the step, the exception type and the
            columns only, never the message (`measurement/guard.py`).
    """
    config.validate()
    unit = config.unit
    if preprocess is None:
        preprocess = PreprocessOptions.from_dict(config.preprocess, engine.relation_name)
    table_spec = with_unit_identifier(resolve_spec(engine, spec), unit)
    check_named_column(config.target, table_spec, "target")
    generator = get_generator(config.generator, config.options, GeneratorContext(
        table=engine.relation_name, max_rows=config.max_rows, seed=config.seed, target=config.target,
        progress=progress))
    if config.domain_share is None:       # the generator's default, raised with what the spec leaves to DP (public)
        families = {c.name: c.family for c in engine.schema()}
        config = replace(config, domain_share=domain_share_for(
            [(c, infers_kind(c, families.get(c.name, TypeFamily.OTHER), preprocess.infer_text_kinds))
             for c in table_spec.columns], generator.domain_share, preprocess.max_integer_bins))
    plan = config.budget_plan(generator)
    generator.check_before_read(plan)
    if dp_gate is not None:
        check_dp_gate(dp_gate, config.holdout, engine.relation_name)
    # ---- nothing above read data; everything below may (so its errors are scrubbed: measurement/guard.py) ----
    stage = ["holdout split"]
    return guarded(lambda: _read_and_fit(engine, table_spec, config, generator, plan, noise_rng, preprocess,
                                         progress, evaluation_rows, sample, sample_seed, stage, dp_gate),
                   step=lambda: stage[0], table=engine.relation_name)


def _read_and_fit(engine, table_spec, config, generator, plan, noise_rng, preprocess, progress, evaluation_rows,
                  sample: bool, sample_seed: int | None, stage: list[str],
                  dp_gate: DpGateConfig | None = None) -> Release:
    """The part of `synthesize_table` that reads data; `stage[0]` names the step running (for scrubbed errors)."""
    unit = config.unit
    # a unit's rows stay on one side of the split; the PrivateTable bounds the training part to k rows per unit
    train, holdout = split_holdout(engine, config.holdout, unit) if config.holdout > 0 else (engine, None)
    stage[0] = "domains"
    budget = plan.open()
    # the DP gate's node comes first: domains and the generator share what is left
    gate_node = budget.child("dp_gate", share=dp_gate.share) if dp_gate is not None else None
    private = PrivateTable(train, budget, noise_rng, unit=unit)
    domains = budget.child("domains", share=plan.domain_share)
    domain = resolve_domains(private, table_spec, domains, plan.delta_threshold, preprocess)
    domains.close()                                  # what discovery did not need goes to the generator
    stage[0] = "fit"
    generator_budget = budget.rest(config.generator, dpsgd=plan.dpsgd.allowance() if plan.dpsgd else None)
    fit_started = time.perf_counter()
    fitted = generator.fit(private, domain, generator_budget)
    fit_seconds = round(time.perf_counter() - fit_started, 3)
    stage[0] = "sample"
    rows_source = "config" if config.rows is not None else "dp_estimate"
    n = config.rows if config.rows is not None else max(int(round(fitted.estimated_rows)), 0)
    if progress is not None and sample:
        progress("sample", {"rows": n})
    seed = sample_seed if sample_seed is not None else config.seed
    data = fitted.sample(n, seed) if sample else None
    gate_result = None
    if dp_gate is not None:
        stage[0] = "dp gate"
        gate_result = _dp_gate(PrivateTable(holdout, budget, private.rng, unit=unit), fitted, dp_gate, gate_node,
                               config.holdout, n, progress)
    record = ReleaseRecord(
        relation=engine.relation_name, generator=config.generator, epsilon=config.epsilon,
        delta=plan.delta, delta_conversion=plan.delta_conversion, delta_threshold=plan.delta_threshold, rho=plan.rho,
        # spends may exceed rho by float round-off only (PrivacyBudget tolerates 1e-9 relative); report at most rho
        epsilon_spent=budget.epsilon_spent() + fitted.epsilon_other, rho_spent=min(budget.spent, plan.rho),
        accountant=fitted.accountant if plan.dpsgd else plan.accountant, rows=n, rows_source=rows_source,
        seed=seed,
        spend=budget.breakdown() + list(fitted.extra_spend),
        budget_tree=plan.tree(budget, plan.dpsgd and generator_budget.dpsgd_allowance().charged),
        columns=_column_report(domain, unit), neighbouring=unit.neighbouring, privacy_unit=unit.to_record(),
        holdout=_holdout_report(config.holdout, unit) if holdout is not None else {"used": False},
        warnings=_release_warnings(domain, fitted, n, rows_source, config, plan),
        epsilon_other=fitted.epsilon_other, library_version=__version__,
        options=generator.options.to_dict(), fit_seconds=fit_seconds,
        dp_gate=gate_result.to_dict() if gate_result is not None else None)
    stage[0] = "evaluation rows"
    evaluation = (read_evaluation_rows(train, holdout, list(domain.column_order or domain.attrs))
                  if holdout is not None and evaluation_rows else None)
    return Release(data=data, record=record, model=fitted, evaluation=evaluation)


def _dp_gate(holdout: PrivateTable, fitted, dp_gate: DpGateConfig, node, holdout_fraction: float, rows: int,
             progress) -> DpGateResult:
    """The DP gate on the holdout (its own budget node); the holdout's size is estimated from the DP row estimate."""
    holdout_rows = fitted.estimated_rows * holdout_fraction / (1.0 - holdout_fraction)   # post-processing
    result = run_dp_gate(holdout, fitted, dp_gate, node, holdout_rows, rows)
    if progress is not None:
        progress("dp gate", {"passed": result.passed, "noisy_value": result.noisy_value})
    return result


def _column_report(domain, unit: PrivacyUnit) -> dict:
    """The record's `columns`: kind, where the domain came from (public or DP), codes and the domain report."""
    modelled = {c.name: {"kind": c.kind.value, "domain": "dp_discovered" if c.discovered else "public",
                         "codes": c.size, "source_type": c.source_type, **c.report} for c in domain.columns}
    keys = {name: {"kind": "identifier", "domain": "surrogate_keys"} | ({"privacy_unit": True}
                                                                         if name == unit.column else {})
            for name, _ in domain.identifiers}
    return modelled | keys


def _holdout_report(fraction: float, unit: PrivacyUnit) -> dict:
    return {"used": True, "fraction": fraction,
            "split": "keyed hash, secret salt" + ("" if unit.is_row else f" (of {unit.column}: whole units)"),
            "purpose": "evaluation only; never seen by the generator"}


def _release_warnings(domain, fitted, rows: int, rows_source: str, config: SynthesisConfig, plan) -> list[str]:
    """The domain's warnings, and those about the row estimate and the default delta (post-processing of DP
    outputs and settings: public)."""
    warnings = list(domain.warnings)
    if rows_source == "dp_estimate" and rows < SMALL_ESTIMATE:
        warnings.append(f"the DP estimate of the source's row count is {rows}: the source is (nearly) empty, or "
                        "epsilon is too small to see its rows. Declare `rows` to generate a chosen number of rows.")
    if config.delta is None and config.max_rows is None and delta_is_weak(plan.delta, fitted.estimated_rows):
        warnings.append(f"the default delta={plan.delta:g} is not below 1/(n ln n) for the DP-estimated "
                        f"n={fitted.estimated_rows:.0f} rows; declare max_rows (or a smaller delta).")
    return warnings
