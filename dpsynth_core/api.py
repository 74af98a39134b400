"""One call from a relation to a released synthetic table: `synthesize_table(engine, spec, config)`.

Order matters for "bad input loses nothing": everything that can be checked without reading data (config, spec
against the public schema, generator options) is checked first; only then does the PrivateTable read rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from . import __version__
from .accounting.plan import delta_is_weak
from .config import SynthesisConfig
from .dp_gate import DpGateConfig, run_dp_gate
from .dp_gate import check_before_read as check_dp_gate
from .errors import ConfigError
from .generators.base import FittedSynthesizer, GeneratorContext, get_generator
from .measurement.engine import Engine
from .measurement.guard import guarded
from .measurement.holdout import EvaluationRows, read_evaluation_rows, split_holdout
from .measurement.private_table import PrivateTable
from .preprocessing.domains import PreprocessOptions, resolve_domains
from .release import ReleaseRecord
from .schema import ColumnKind, TableSpec

SMALL_ESTIMATE = 10      # a DP row estimate below this is worth a warning (post-processing of a DP output)


@dataclass
class Release:
    """A synthetic table, its release record and fitted model; `evaluation` holds raw rows (NOT DP) when a holdout
    was kept and the caller asked for them."""

    data: pd.DataFrame
    record: ReleaseRecord
    model: FittedSynthesizer
    evaluation: EvaluationRows | None = None


def resolve_spec(engine: Engine, spec: TableSpec | Mapping | None) -> TableSpec:
    """Complete a spec against the engine's public schema (kinds inferred from types where not declared)."""
    if isinstance(spec, TableSpec):
        columns = spec.to_dict()
    else:
        columns = dict(spec or {})
    return TableSpec.from_dict(engine.relation_name, columns, engine.schema())


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
                     preprocess: PreprocessOptions = PreprocessOptions(),
                     progress: Callable[[str, dict], None] | None = None,
                     evaluation_rows: bool = True, dp_gate: DpGateConfig | None = None) -> Release:
    """Synthesize a DP table from `engine`.

    Args:
        engine: where the source rows live (read only through the measurement layer).
        spec: column specs (a TableSpec or `{column: {kind: ...}}`); kinds default from the public schema.
        config: the release's settings (epsilon, delta, generator, rows, ...).
        noise_rng: the privacy noise generator (default: OS entropy). Tests only.
        preprocess: DP domain discovery options.
        progress: `progress(event, info)` receives progress events (info is post-processing of DP outputs only).
        evaluation_rows: with a holdout, hand the raw rows of both parts to the caller for the (non-DP) evaluation.
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
    table_spec = resolve_spec(engine, spec)
    check_named_column(config.target, table_spec, "target")
    generator = get_generator(config.generator, config.options, GeneratorContext(
        table=engine.relation_name, max_rows=config.max_rows, seed=config.seed, target=config.target,
        progress=progress))
    plan = config.budget_plan(generator)
    generator.check_before_read(plan)
    if dp_gate is not None:
        check_dp_gate(dp_gate, config.holdout, engine.relation_name)
    # ---- nothing above read data; everything below may (so its errors are scrubbed: measurement/guard.py) ----
    stage = ["holdout split"]
    return guarded(lambda: _read_and_fit(engine, table_spec, config, generator, plan, noise_rng, preprocess,
                                         progress, evaluation_rows, stage, dp_gate),
                   step=lambda: stage[0], table=engine.relation_name)


def _read_and_fit(engine, table_spec, config, generator, plan, noise_rng, preprocess, progress, evaluation_rows,
                  stage: list[str], dp_gate: DpGateConfig | None = None) -> Release:
    """The part of `synthesize_table` that reads data; `stage[0]` names the step running (for scrubbed errors)."""
    train, holdout = split_holdout(engine, config.holdout) if config.holdout > 0 else (engine, None)
    stage[0] = "domains"
    budget = plan.open()
    # the DP gate's node comes first: domains and the generator share what is left
    gate_node = budget.child("dp_gate", share=dp_gate.share) if dp_gate is not None else None
    private = PrivateTable(train, budget, noise_rng)
    domains = budget.child("domains", share=plan.domain_share)
    domain = resolve_domains(private, table_spec, domains, plan.delta_threshold, preprocess)
    domains.close()                                  # what discovery did not need goes to the generator
    stage[0] = "fit"
    generator_budget = budget.rest(config.generator, dpsgd=plan.dpsgd.allowance() if plan.dpsgd else None)
    fitted = generator.fit(private, domain, generator_budget)
    stage[0] = "sample"
    rows_source = "config" if config.rows is not None else "dp_estimate"
    n = config.rows if config.rows is not None else max(int(round(fitted.estimated_rows)), 0)
    if progress is not None:
        progress("sample", {"rows": n})
    data = fitted.sample(n, config.seed)
    gate_result = None
    if dp_gate is not None:
        stage[0] = "dp gate"
        holdout_rows = fitted.estimated_rows * config.holdout / (1.0 - config.holdout)   # post-processing
        gate_result = run_dp_gate(PrivateTable(holdout, budget, private.rng), fitted, dp_gate, gate_node,
                                  holdout_rows, n)
        if progress is not None:
            progress("dp gate", {"passed": gate_result.passed, "noisy_value": gate_result.noisy_value})
    warnings = list(domain.warnings)
    if rows_source == "dp_estimate" and n < SMALL_ESTIMATE:
        warnings.append(f"the DP estimate of the source's row count is {n}: the source is (nearly) empty, or epsilon "
                        "is too small to see its rows. Declare `rows` to generate a chosen number of rows.")
    if config.delta is None and config.max_rows is None and delta_is_weak(plan.delta, fitted.estimated_rows):
        warnings.append(f"the default delta={plan.delta:g} is not below 1/(n ln n) for the DP-estimated "
                        f"n={fitted.estimated_rows:.0f} rows; declare max_rows (or a smaller delta).")
    record = ReleaseRecord(
        relation=engine.relation_name, generator=config.generator, epsilon=config.epsilon,
        delta=plan.delta, delta_conversion=plan.delta_conversion, delta_threshold=plan.delta_threshold, rho=plan.rho,
        # spends may exceed rho by float round-off only (PrivacyBudget tolerates 1e-9 relative); report at most rho
        epsilon_spent=budget.epsilon_spent() + fitted.epsilon_other, rho_spent=min(budget.spent, plan.rho),
        accountant=fitted.accountant if plan.dpsgd else plan.accountant, rows=n, rows_source=rows_source,
        seed=config.seed, spend=budget.breakdown() + list(fitted.extra_spend),
        budget_tree=plan.tree(budget, plan.dpsgd and generator_budget.dpsgd_allowance().charged),
        columns={c.name: {"kind": c.kind.value, "domain": "dp_discovered" if c.discovered else "public",
                          "codes": c.size} for c in domain.columns}
        | {name: {"kind": "identifier", "domain": "surrogate_keys"} for name, _ in domain.identifiers},
        holdout={"used": holdout is not None, "fraction": config.holdout, "split": "keyed hash, secret salt",
                 "purpose": "evaluation only; never seen by the generator"} if holdout is not None else {"used": False},
        warnings=warnings, epsilon_other=fitted.epsilon_other, library_version=__version__,
        dp_gate=gate_result.to_dict() if gate_result is not None else None)
    stage[0] = "evaluation rows"
    evaluation = (read_evaluation_rows(train, holdout, list(data.columns))
                  if holdout is not None and evaluation_rows else None)
    return Release(data=data, record=record, model=fitted, evaluation=evaluation)
