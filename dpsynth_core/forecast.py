"""Before spending: the noise each marginal generator would add at a requested epsilon, from public numbers only.

Inputs are the declared column specs (domain sizes), the settings (epsilon, delta, generator, options,
domain_share) and a row count the user declares (public, or an assumption). Nothing here reads data, so
nothing is charged; the numbers are post-processing of public values.

What is forecast, per generator (mirroring how each one splits its rho; see the generator modules):
- `mst`: 1-way marginals at rho/3 over d columns, d-1 selection rounds at rho/3, the d-1 selected 2-way marginals at
  the last rho/3. Every pair is shown "if selected".
- `aim`: T = 16 d rounds (or `rounds`); every measurement starts at sigma0 = sqrt(T / (2 * 0.9 * rho)); annealing halves
  sigma when a round gains little, so later measurements are less noisy (sigma0 is the upper end).
- `copula`: 1-way marginals at `one_way_fraction` of rho; the correlation of normal scores with the rest (noise of one
  correlation entry about sigma / n, sigma from the row-norm bound of the module doc).

Expected error of one noisy marginal with m cells, Gaussian noise sigma per cell and n rows, before the model's
projection (non-negativity, consistency), which can only reduce it on sparse tables:
TVD ~ m * sigma * sqrt(2/pi) / (2n).
For comparison, the sampling error of a second sample of n rows is at most sqrt(2/pi) * sqrt((m - 1) / n) / 2.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from statistics import median
from typing import Any

from .config import SynthesisConfig
from .measurement.private_table import threshold_for
from .preprocessing import DomainPlan, PreprocessOptions, domain_share_for
from .preprocessing import column_stages as planned_stages  # the resolver's own plan, so the forecast cannot drift
from .schema import ColumnKind, ColumnSpec, TableSpec

MARGINAL_GENERATORS = ("mst", "aim", "copula")
EXPECTED_ABS_NORMAL = math.sqrt(2 / math.pi)
DEFAULT_ASSUMED_CATEGORIES = 20
SWEEP_EPSILONS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


@dataclass(frozen=True)
class ColumnPlan:
    """How one column will be coded. `source`: 'declared' (public) or 'assumed' (found by DP: an upper end or a
    guess)."""

    name: str
    kind: str
    codes: int
    source: str
    stages: tuple[str, ...] = ()


@dataclass(frozen=True)
class MarginalForecast:
    columns: tuple[str, ...]
    cells: int
    sigma: float
    expected_tvd: float          # noise-only, before projection
    sampling_tvd: float          # ceiling of the sampling error of a second sample of n rows
    relative_noise: float        # sigma / mean count per cell


@dataclass(frozen=True)
class Forecast:
    generator: str
    epsilon: float
    delta: float
    rho: float
    rho_preprocessing: float
    rho_generator: float
    rows: int
    rows_public: bool
    columns: tuple[ColumnPlan, ...]
    one_way: tuple[MarginalForecast, ...]
    two_way: tuple[MarginalForecast, ...]
    split: tuple[tuple[str, float], ...]             # planned rho per phase
    discovery_sigma: float | None = None
    discovery_threshold: int | None = None           # rows a category needs to be released (about)
    correlation_noise: float | None = None           # copula: std of one correlation entry (about)
    notes: tuple[str, ...] = field(default_factory=tuple)
    discovery_sigmas: dict[str, float] = field(default_factory=dict)   # noise std per preprocessing stage

    def median_two_way_tvd(self) -> float | None:
        return median(m.expected_tvd for m in self.two_way) if self.two_way else None

    def max_one_way_tvd(self) -> float | None:
        return max(m.expected_tvd for m in self.one_way) if self.one_way else None

    def to_dict(self) -> dict[str, Any]:
        return {"generator": self.generator, "epsilon": self.epsilon, "delta": self.delta, "rho": self.rho,
                "rho_preprocessing": self.rho_preprocessing, "rho_generator": self.rho_generator,
                "rows": self.rows, "rows_public": self.rows_public,
                "columns": [c.__dict__ | {"stages": list(c.stages)} for c in self.columns],
                "one_way": [_marginal_dict(m) for m in self.one_way],
                "two_way": [_marginal_dict(m) for m in self.two_way],
                "split": [list(s) for s in self.split], "discovery_sigma": self.discovery_sigma,
                "discovery_threshold": self.discovery_threshold, "discovery_sigmas": dict(self.discovery_sigmas),
                "correlation_noise": self.correlation_noise,
                "median_two_way_tvd": self.median_two_way_tvd(), "max_one_way_tvd": self.max_one_way_tvd(),
                "notes": list(self.notes)}


def _marginal_dict(m: MarginalForecast) -> dict[str, Any]:
    return {"columns": list(m.columns), "cells": m.cells, "sigma": m.sigma, "expected_tvd": m.expected_tvd,
            "sampling_tvd": m.sampling_tvd, "relative_noise": m.relative_noise}


def planned_codes(col: ColumnSpec, options: PreprocessOptions | None = None,
                  assumed_categories: int = DEFAULT_ASSUMED_CATEGORIES) -> ColumnPlan:
    """Codes a column will have, from its spec alone (mirrors `preprocessing.domains`; other and null codes counted).

    `options` (None: `PreprocessOptions()`) gives the bin and category limits.
    """
    options = options if options is not None else PreprocessOptions()
    null = int(col.nullable is not False)   # undeclared: a DP test may add a null code; plan for one
    stages = tuple(planned_stages(col, options.max_integer_bins))
    if col.kind == ColumnKind.BOOLEAN:
        return ColumnPlan(col.name, col.kind.value, 2 + null, "declared", stages)
    if col.kind == ColumnKind.CATEGORICAL:
        if col.categories is not None:
            # a declared list is complete: an `other` code only when the null test (nullable undeclared) finds one
            other = int(col.nullable is None)
            return ColumnPlan(col.name, col.kind.value, len(col.categories) + other + null, "declared", stages)
        return ColumnPlan(col.name, col.kind.value, min(assumed_categories, options.max_categories) + 1 + null,
                          "assumed", stages)
    declared = col.lower is not None
    span = (math.floor(col.upper) - math.ceil(col.lower) + 1) if declared else None
    as_int = col.kind == ColumnKind.INTEGER
    if isinstance(col.bins, tuple):
        bins = len(col.bins) - 1
    elif isinstance(col.bins, int):
        bins = span if as_int and span is not None and span <= col.bins else col.bins
    elif as_int and span is not None and span <= options.max_integer_bins:
        bins = span
    else:
        bins = options.n_bins
    source = "declared" if declared and (col.bins is not None or "histogram" not in stages) else "assumed"
    return ColumnPlan(col.name, col.kind.value, bins + null, source, stages)


def _marginal(columns: tuple[str, ...], cells: int, sigma: float, rows: int) -> MarginalForecast:
    n = max(rows, 1)
    return MarginalForecast(columns, cells, sigma, min(1.0, cells * sigma * EXPECTED_ABS_NORMAL / (2 * n)),
                            min(1.0, EXPECTED_ABS_NORMAL * math.sqrt(max(cells - 1, 0) / n) / 2),
                            sigma / (n / cells))


def forecast(spec: TableSpec, config: SynthesisConfig, rows: int, rows_public: bool = True,
             preprocess: PreprocessOptions | None = None,
             assumed_categories: int = DEFAULT_ASSUMED_CATEGORIES) -> Forecast:
    """Expected noise of a marginal generator's measurements for `spec` at `config`'s epsilon on `rows` rows.

    Args:
        spec: declared column specs (every column's kind known; identifiers are not modelled).
        config: the release settings (validated here); `config.generator` must be a marginal generator.
        rows: the table's row count, public (declared) or an assumption (`rows_public=False`).
        preprocess: preprocessing options (bin and category limits); None means `PreprocessOptions()`.
        assumed_categories: categories assumed for a categorical column without declared categories.
    Returns:
        A `Forecast` (noise std per measured marginal, its expected TVD, the sampling error for comparison).
    """
    preprocess = preprocess if preprocess is not None else PreprocessOptions()
    config.validate()
    if config.generator not in MARGINAL_GENERATORS:
        raise ValueError(f"forecast covers {MARGINAL_GENERATORS}, not {config.generator!r}")
    if rows < 1:
        raise ValueError(f"rows must be >= 1, got {rows}")
    if config.domain_share is None:       # the resolver's default rule (preprocessing.plan.domain_share_for)
        config = replace(config, domain_share=domain_share_for([(c, False) for c in spec.columns],
                                                               config.generator_class().domain_share,
                                                               preprocess.max_integer_bins))
    plan = config.budget_plan()
    k = config.max_rows_per_unit          # the privacy unit's bound multiplies every sensitivity (measurement layer)
    columns = tuple(planned_codes(c, preprocess, assumed_categories) for c in spec.columns
                    if c.kind != ColumnKind.IDENTIFIER)
    rho_pre, discovery_sigmas, threshold = _discovery(spec, plan, preprocess, k)
    rho_gen = plan.rho - rho_pre
    discovery_sigma = (discovery_sigmas.get("categories") or discovery_sigmas.get("values")
                       or next(iter(discovery_sigmas.values()), None))
    d = len(columns)
    codes = {c.name: c.codes for c in columns}
    pairs = list(itertools.combinations([c.name for c in columns], 2))
    generator = config.generator_class()(config.options)
    noise = generator.noise_plan(d, rho_gen).for_unit(k)   # the generator's own plan: cannot drift from fit
    sigma1, sigma2, split = noise.sigma_one_way, noise.sigma_two_way, list(noise.split)
    correlation_noise = None
    if config.generator == "copula" and d > 1:   # no 2-way marginal: noise on each latent correlation instead
        sigma2 = None
        correlation_noise = generator.correlation_sigma(d, split[1][1], k) / rows
    notes = _generator_notes(config.generator, generator, d, len(pairs), sigma1, correlation_noise)
    if config.privacy_unit is not None:
        notes.append(f"Privacy unit {config.privacy_unit!r}, at most {k} row(s) each: every noise std is {k} times a "
                     f"row-level release's, and `rows` should count the rows left after bounding.")
    if rho_pre:
        split = [("preprocessing (DP domain discovery)", rho_pre)] + split
    one_way = tuple(_marginal((c.name,), c.codes, sigma1, rows) for c in columns)
    two_way = tuple(_marginal((a, b), codes[a] * codes[b], sigma2, rows) for a, b in pairs) if sigma2 else ()
    assumed = [c.name for c in columns if c.source == "assumed"]
    if assumed:
        notes.append(f"Domain sizes of {', '.join(assumed)} are not declared: they are found with DP, and the sizes "
                     f"used here are upper ends or assumptions ({assumed_categories} categories, "
                     f"{preprocess.n_bins} bins).")
    if not rows_public:
        notes.append(f"The row count {rows} is an assumption, not a public number: the forecast is only as good as it.")
    return Forecast(config.generator, config.epsilon, config.resolved_delta(), plan.rho, rho_pre, rho_gen, rows,
                    rows_public, columns, one_way, tuple(sorted(two_way, key=lambda m: -m.expected_tvd)),
                    tuple(split), discovery_sigma, threshold, correlation_noise, tuple(notes), discovery_sigmas)


def _discovery(spec: TableSpec, plan, preprocess: PreprocessOptions, k: int) -> tuple[float, dict, int | None]:
    """(rho of DP domain discovery, its noise std per stage, the release threshold of thresholded discovery), by the
    resolver's own split (preprocessing.plan: stage weights over the planned stages, delta per thresholded stage).
    The privacy unit's bound k multiplies every sigma (measurement layer)."""
    columns = [(c, False) for c in spec.columns]
    needs = DomainPlan.build(columns, 1.0, 1.0, preprocess.max_integer_bins).needs_budget
    rho_pre = plan.rho * plan.domain_share if needs else 0.0
    domain_plan = DomainPlan.build(columns, rho_pre, plan.delta_threshold, preprocess.max_integer_bins)
    sigmas = {stage: k * s for stage, s in domain_plan.sigmas().items()} if rho_pre > 0 else {}
    thresholded = sigmas.get("categories") or sigmas.get("values")
    threshold = (threshold_for(thresholded, domain_plan.delta_each, k) if thresholded is not None and
                 domain_plan.delta_each > 0 else None)
    return rho_pre, sigmas, threshold


def _generator_notes(name: str, generator, d: int, n_pairs: int, sigma1: float,
                     correlation_noise: float | None) -> list[str]:
    """What the forecast of each generator's measurements means (MST's selection, AIM's annealing, the copula's
    correlations)."""
    if name == "mst":
        return [f"MST measures d-1 = {max(d - 1, 0)} of the {n_pairs} pairs; each pair below is 'if selected'."]
    if name == "aim":
        return [f"AIM plans T = {generator.rounds_for(d)} rounds; sigma {sigma1:.4g} is where measurements start, "
                f"annealing halves it when a round gains little, so the marginals it ends up measuring are at most "
                f"this noisy."]
    if correlation_noise is not None:
        return [f"The copula measures no 2-way marginal; each latent correlation gets noise of std about "
                f"{correlation_noise:.3g}."]
    return []


def epsilon_sweep(spec: TableSpec, config: SynthesisConfig, rows: int, epsilons=SWEEP_EPSILONS,
                  **kwargs) -> list[dict[str, Any]]:
    """The forecast's headline numbers at other epsilons (same spec, rows, delta and options)."""
    from dataclasses import replace

    out = []
    for eps in sorted(set(epsilons) | {config.epsilon}):
        fc = forecast(spec, replace(config, epsilon=eps), rows, **kwargs)
        out.append({"epsilon": eps, "median_two_way_tvd": fc.median_two_way_tvd(),
                    "max_one_way_tvd": fc.max_one_way_tvd(), "requested": eps == config.epsilon})
    return out


def smallest_epsilon(spec: TableSpec, config: SynthesisConfig, rows: int, target_tvd: float,
                     upper: float = 64.0, **kwargs) -> float | None:
    """Smallest epsilon (bisection, 3 significant digits) whose headline expected TVD (median 2-way, or max 1-way
    for the copula) is at most `target_tvd`; None when not reached at `upper`."""
    from dataclasses import replace

    def headline(eps: float) -> float:
        fc = forecast(spec, replace(config, epsilon=eps), rows, **kwargs)
        value = fc.median_two_way_tvd()
        return fc.max_one_way_tvd() if value is None else value

    if headline(upper) > target_tvd:
        return None
    lo, hi = 1e-3, upper
    while hi / lo > 1.001:
        mid = math.sqrt(lo * hi)
        if headline(mid) <= target_tvd:
            hi = mid
        else:
            lo = mid
    return float(f"{hi:.3g}")
