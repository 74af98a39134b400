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
from .accounting.budget import PrivacyBudget
from .config import SynthesisConfig
from .generators.base import FittedSynthesizer, get_generator
from .measurement.engine import Engine
from .measurement.holdout import EvaluationRows, read_evaluation_rows, split_holdout
from .measurement.private_table import PrivateTable
from .preprocessing.domains import PreprocessOptions, resolve_domains
from .release import ReleaseRecord
from .schema import TableSpec


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


def synthesize_table(engine: Engine, spec: TableSpec | Mapping | None, config: SynthesisConfig,
                     noise_rng: np.random.Generator | None = None,
                     preprocess: PreprocessOptions = PreprocessOptions(),
                     progress: Callable[[str, dict], None] | None = None,
                     evaluation_rows: bool = True) -> Release:
    """Synthesize a DP table from `engine`. `progress(event, info)` receives per-epoch events of DP-SGD generators.
    With a holdout and `evaluation_rows`, the release carries the raw rows of both parts for the (non-DP) evaluation."""
    config.validate()
    table_spec = resolve_spec(engine, spec)
    plan = config.budget_plan()
    generator = get_generator(config.generator, **_generator_options(config, plan, engine.relation_name, progress))
    delta_conversion, delta_threshold, rho = plan.delta_conversion, plan.delta_threshold, plan.rho
    # ---- nothing above read data; everything below may ----
    train, holdout = split_holdout(engine, config.holdout) if config.holdout > 0 else (engine, None)
    budget = PrivacyBudget(rho, delta_conversion)
    private = PrivateTable(train, budget, noise_rng)
    # DP-SGD generators spend their whole zCDP share on preprocessing: half on domains, half on their own histograms
    domain_share = 0.5 if config.uses_dp_sgd else config.preprocessing_fraction
    domain = resolve_domains(private, table_spec, rho * domain_share, delta_threshold, preprocess)
    fitted = generator.fit(private, domain, budget.remaining, noise_rng)
    rows_source = "config" if config.rows is not None else "dp_estimate"
    n = config.rows if config.rows is not None else max(int(round(fitted.estimated_rows)), 0)
    data = fitted.sample(n, config.seed)
    epsilon_other = float(getattr(fitted, "epsilon_other", 0.0))
    record = ReleaseRecord(
        relation=engine.relation_name, generator=config.generator, epsilon=config.epsilon,
        delta=config.resolved_delta(), delta_conversion=delta_conversion, delta_threshold=delta_threshold, rho=rho,
        epsilon_spent=budget.epsilon_spent() + epsilon_other, rho_spent=budget.spent,
        accountant=getattr(fitted, "accountant", plan.accountant), rows=n, rows_source=rows_source, seed=config.seed,
        spend=budget.breakdown() + list(getattr(fitted, "extra_spend", [])),
        columns={c.name: {"kind": c.kind.value, "domain": "dp_discovered" if c.discovered else "public",
                          "codes": c.size} for c in domain.columns}
        | {name: {"kind": "identifier", "domain": "surrogate_keys"} for name, _ in domain.identifiers},
        holdout={"used": holdout is not None, "fraction": config.holdout,
                 "purpose": "evaluation only; never seen by the generator"} if holdout is not None else {"used": False},
        warnings=list(domain.warnings), epsilon_other=epsilon_other, library_version=__version__)
    evaluation = (read_evaluation_rows(train, holdout, list(data.columns))
                  if holdout is not None and evaluation_rows else None)
    return Release(data=data, record=record, model=fitted, evaluation=evaluation)


def _generator_options(config: SynthesisConfig, plan, table: str, progress) -> dict[str, Any]:
    options = dict(config.options)
    if config.uses_dp_sgd:
        options["sgd_epsilon"], options["sgd_delta"] = plan.epsilon_sgd, plan.delta_sgd
        options["table"] = table
        if progress is not None:
            options["progress"] = progress
        if config.max_rows is not None:
            # a public N fixes the Poisson rate q = batch / N (amplification depends on q alone), and lets the
            # configuration be validated before any data is read
            options.setdefault("rows", config.max_rows)
        if config.seed is not None:
            options.setdefault("seed", config.seed)
    if config.target is not None and config.generator == "aim":
        options.setdefault("target", config.target)
    return options
