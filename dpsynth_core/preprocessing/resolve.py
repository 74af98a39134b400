"""DP domain resolution: `resolve_domains` builds each column's `ColumnDomain` from the spec and DP measurements.

Declared (public) categories, bounds, bins and `nullable` cost nothing. Anything else is found with DP through
`PrivateTable`, charged to the domain node of the release's budget tree, split over the stages `plan.DomainPlan`
lays out from public information. Nothing here calls min/max/unique/quantile on private values.

- rows: one noisy row count N (for shares).
- kinds (`infer_text_kinds`): noisy counts of text classes decide a text column's kind (`kinds.py`).
- categories: thresholded noisy counts (Gaussian partition selection, `PrivateTable.discover_values`); the threshold
  is the smallest the column's delta allows. Values that do not clear it are pooled into `other` (never null); the
  DP estimate of the pooled share (N minus the released counts and the null count) is reported, with the epsilon that
  would keep a category holding 1% of rows.
- numeric values: the same mechanism on a numeric column's exact values. When the released values cover nearly all
  of the noisy non-null mass (at most `max_code_values` of them), the column is a numeric code column: categorical
  over its released values, decoded exactly (no value that never occurs). Otherwise released values holding at least
  `atom_share` of the rows are atoms (point masses with a code of their own, decoded exactly).
- bounds: a noisy histogram over a public grid (signed powers of two; years for datetimes): the union of the bins
  clearing 4 sigma and the CUSUM-occupied range; the DP estimate of the share of rows clipped is reported.
- precision of float columns: noisy counts of values by the decimals they need (`PrecisionBinning`); a column whose
  values all need at most d decimals (allowing for the noise) decodes rounded to d decimals (d = 0: integral).
- bin edges and within-bin shape: a noisy fine histogram inside the bounds (atoms excluded); model bins are its DP
  quantiles and the sampler draws within a bin from the fine histogram.
- nulls: every measurement above also counts the nulls (a public key of the same partition: free); a column gets a
  null code only when the combined noisy null count clears `NULL_SIGMAS` standard deviations, so a column without
  nulls gets none with probability >= 99.8%. `nullable: false|true` in the spec decides without DP; a declared
  domain without `nullable` gets a small charged null test.

Why Gaussian thresholding and not the optimal (epsilon, delta) partition selection of Desfontaines, Voss, Gipson and
Mandayam (PETS 2022, Google's `PreaggPartitionSelection`): each column's selection here composes with many other
measurements under zCDP, where the Gaussian mechanism's threshold ~ sqrt(ln(1/delta) / rho) composes in quadrature;
the optimal mechanism's threshold ~ ln(1/delta) / epsilon composes linearly in epsilon, so across tens of columns the
Gaussian threshold is the smaller one. The lever that matters is where the rho goes (`plan.STAGE_WEIGHTS`).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from ..accounting.budget import PrivacyBudget
from ..accounting.zcdp import cdp_eps
from ..errors import ConfigError, InputError
from ..measurement.binning import CategoricalBinning, NumericBinning, PrecisionBinning, TextClassBinning
from ..measurement.engine import SourceColumn, TypeFamily
from ..measurement.estimates import dp_row_count
from ..measurement.private_table import PrivateTable, threshold_for
from ..schema import ColumnKind, ColumnSpec, TableSpec
from ..spec_types import coerce_category
from ..validation import Interval, Param, validate_params
from .domains import ColumnDomain, TableDomain
from .grids import (
    MAGNITUDE_EDGES,
    SIGNIFICANT_SIGMAS,
    YEAR_EDGES,
    connected_range,
    fine_grid,
    integer_edges,
    mass_range,
    merge_factor,
    merge_to_signal,
    occupied_range,
    quantile_edges,
    significant_remainder,
    supported_range,
)
from .kinds import decide_text_kind
from .plan import STAGE_WEIGHTS, DomainPlan, column_stages, epsilon_scale, infers_kind

# A column gets a null code (an `other` code) only when its noisy null (out-of-domain) count clears this many sigmas.
NULL_SIGMAS = 3.0
# A discovered column gets an `other` code when the DP estimate of its unreleased rows clears this many sigmas (as
# for nulls: an unneeded `other` code gets noise mass, i.e. invented `__other__` rows). Without one, unreleased rows
# are coded as the first released value, which is then the most frequent one (the smallest relative distortion);
# the bound on that silent share is OTHER_SIGMAS noise sigmas of the estimate.
OTHER_SIGMAS = 3.0
# Value discovery on numeric columns releases only values holding at least this share of the rows (pre-thresholding
# keeps the engine from returning every distinct value of a wide column).
VALUE_FLOOR_SHARE = 0.001
# A numeric column is taken for a code column only when the noise of its unreleased-mass estimate is at most this
# share of the rows (else it is binned: small integer ranges get one bin per integer anyway).
CODE_NOISE_SHARE = 0.05
# ... and when that estimate is not significantly (this many of its noise sigmas) above the uncovered share allowed
# by `code_coverage`: a test at one sigma missed a column of five codes in one release out of six (it was then
# binned, and decoded values that never occur); at 2.5 sigmas a true code column fails with probability <= 0.6%,
# and a column taken for codes leaves at most code_coverage's share + 2.5 sigmas re-spread (reported).
CODE_SIGMAS = 2.5
# CUSUM alarm (in noise sigmas) on the coarse bounds grid.
GRID_ALARM = 6.0
# When no grid bin stands out but the rows off the atoms are significant (this many sigmas), the densest run of at
# most SPREAD_MAX_BINS grid bins is the range (a warning says so when its sum does not clear this many sigmas too).
SPREAD_SIGMAS = 3.0
SPREAD_MAX_BINS = 8
# CUSUM drift (in noise sigmas per merged bin) of the fine histogram's trim inside DP bounds.
TAIL_DRIFT = 1.0
# The fine histogram trims the DP bounds only when its signal supports at least this many merged bins (or all of
# them, when it has fewer).
MIN_TRIM_RESOLUTION = 16
# Shares of rows below this are not worth a warning.
REPORT_SHARE = 0.005


@dataclass(frozen=True)
class PreprocessOptions:
    """Options of DP domain resolution (public settings).

    Attributes:
        max_categories: after thresholding, keep at most this many categories (largest noisy counts).
        n_bins: model bins of continuous/datetime and wide integer columns (at most).
        rows_per_bin: on small tables, fewer model bins: about this many DP-estimated rows a bin (at least 8 bins).
        max_integer_bins: integer ranges up to this size get one bin per integer.
        fine_bins: resolution of the fine histogram used for edges and within-bin sampling.
        infer_text_kinds: decide the kind of text columns without a declared kind with a charged DP decision
            (for a CSV read as all-VARCHAR); off for typed sources, whose types are public.
        text_kind_tolerance: share of a text column's values that may fail to parse as the chosen kind (read as null).
        other_label: None (default) re-spreads the rows of pooled categories over the released values, so every
            output value is one of the source's (downstream `accepted_values` tests keep passing); a label (e.g.
            `DEFAULT_OTHER_LABEL`, "__other__") keeps them as one explicit bucket in text columns instead.
        atom_share: numeric values holding at least this share of rows get a code of their own (decoded exactly).
        max_atoms: at most this many atoms per column (the largest).
        max_code_values: a numeric column whose released values cover nearly all rows and number at most this many
            is modelled as categorical over them.
        code_coverage: "nearly all": the share of the non-null rows the released values must cover (up to
            `CODE_SIGMAS` noise sigmas of the DP estimate of the uncovered rows).
    """

    max_categories: int = 100
    n_bins: int = 32
    rows_per_bin: int = 400
    max_integer_bins: int = 64
    fine_bins: int = 512
    infer_text_kinds: bool = False
    text_kind_tolerance: float = 0.02
    other_label: str | None = None
    atom_share: float = 0.05
    max_atoms: int = 8
    max_code_values: int = 64
    code_coverage: float = 0.99

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None, table: str | None = None) -> "PreprocessOptions":
        """Options from their YAML/dbt form (`dpsynth: {preprocess: {infer_text_kinds: true}}`), checked against
        `PREPROCESS_CONSTRAINTS`."""
        return cls(**validate_params(dict(raw or {}), PREPROCESS_CONSTRAINTS, what="preprocess option", table=table))


PREPROCESS_CONSTRAINTS: dict[str, Param] = {
    "max_categories": Param(int, Interval(1, 100_000), example=100),
    "n_bins": Param(int, Interval(2, 4096), example=32),
    "rows_per_bin": Param(int, Interval(1, None), example=400),
    "max_integer_bins": Param(int, Interval(1, 4096), example=64),
    "fine_bins": Param(int, Interval(8, 65_536), example=512),
    "infer_text_kinds": Param(bool, example=True),
    "text_kind_tolerance": Param(float, Interval(0, 0.5), example=0.02),
    "other_label": Param(str, none=True, example="__other__"),
    "atom_share": Param(float, Interval(0, 1, "neither"), example=0.05),
    "max_atoms": Param(int, Interval(0, 1024), example=8),
    "max_code_values": Param(int, Interval(0, 100_000), example=64),
    "code_coverage": Param(float, Interval(0, 1, "right"), example=0.99),
}


@dataclass
class _NullEvidence:
    """Noisy null counts of one column from independent measurements, combined by inverse-variance weights."""

    counts: list[tuple[float, float]] = field(default_factory=list)   # (noisy count, sigma)

    def add(self, noisy: float, sigma: float) -> None:
        self.counts.append((float(noisy), float(sigma)))

    def estimate(self) -> tuple[float, float] | None:
        if not self.counts:
            return None
        w = np.array([1 / s ** 2 for _, s in self.counts])
        est = float(np.dot(w, [c for c, _ in self.counts]) / w.sum())
        return est, float(1 / math.sqrt(w.sum()))


def resolve_domains(private: PrivateTable, spec: TableSpec, budget: PrivacyBudget, delta_threshold: float,
                    options: PreprocessOptions = PreprocessOptions()) -> TableDomain:
    """Resolve every column's domain, spending at most `budget` (a node of the release's budget tree; and
    `delta_threshold` in total) on DP measurements planned from public information (`plan.DomainPlan`).

    Returns:
        The TableDomain (warnings name what DP could not keep, per column, at the DP estimate).
    Raises:
        ConfigError before reading anything when a column needs DP and the node has no budget.
    """
    return _Resolver(private, spec, budget, delta_threshold, options).run()


@dataclass
class _Pending:
    """A numeric column after value discovery, waiting for its shape stages (precision, bounds, histogram)."""

    col: ColumnSpec
    source: SourceColumn
    atoms: tuple[float, ...]
    evidence: _NullEvidence
    report: dict


class _Resolver:
    """One resolution: the plan, the split of the domain node as stages run, and the warnings.

    The node's rho is handed out stage by stage: a stage of weight w gets w / W of the rho still unspent, W the
    weight of the stages still planned. A stage that turns out not to be needed (the bounds of a numeric code column)
    leaves W, so what it would have cost goes to the stages after it; the first stage gets exactly its planned share
    and no stage more noise than planned. Discovery stages of every column run before the shape stages (bounds,
    histograms), which are the ones that gain most from what discovery did not need.
    """

    def __init__(self, private: PrivateTable, spec: TableSpec, budget: PrivacyBudget, delta_threshold: float,
                 options: PreprocessOptions):
        self.private, self.spec, self.budget, self.options = private, spec, budget, options
        schema = {c.name: c for c in private.schema()}
        self.sources = {c.name: schema.get(c.name) or SourceColumn(c.name, "", TypeFamily.OTHER)
                        for c in spec.columns}
        self.infer = {c.name for c in spec.columns
                      if infers_kind(c, self.sources[c.name].family, options.infer_text_kinds)}
        self.plan = DomainPlan.build([(c, c.name in self.infer) for c in spec.columns], budget.rho_total,
                                     delta_threshold, options.max_integer_bins)
        self.to_run = {name: list(stages) for name, stages in self.plan.stages.items()}
        self.warnings: list[str] = []
        self.rows: float | None = None
        self.rows_sigma = 0.0

    # ---------------------------------------------------------------- the split
    def _pending_weight(self) -> float:
        return sum(STAGE_WEIGHTS[s] for stages in self.to_run.values() for s in stages)

    def _sigma(self, stage: str, column: str) -> float:
        """Noise std for `stage` of `column` (removed from the planned stages): its weight's share of what is left."""
        pending = self._pending_weight()
        if stage in self.to_run.get(column, []):
            self.to_run[column].remove(stage)
        else:                                   # a stage the kind decision added
            pending += STAGE_WEIGHTS[stage]
        share = STAGE_WEIGHTS[stage] / max(pending, STAGE_WEIGHTS[stage])
        return self.private.sigma_for(self.budget.remaining * share)      # includes the privacy unit's k

    def _done(self, column: str) -> None:
        """The column needs nothing more: its stages still planned give their share to the other columns."""
        self.to_run[column] = []

    # ---------------------------------------------------------------- driver
    def run(self) -> TableDomain:
        if self.plan.needs_budget and self.budget.rho_total <= 0:
            needing = self.plan.columns_needing_budget
            raise ConfigError(f"columns {needing} have no public domain and the preprocessing budget is zero.",
                              table=self.spec.name, column=needing[0],
                              fix="declare categories/bounds (and nullable) for them in the column spec, or give "
                                  "preprocessing a share of epsilon (setting domain_share > 0).")
        if "rows" in self.to_run.get("", ()):
            self.rows_sigma = self._sigma("rows", "")
            noisy = self.private.measure([], self.rows_sigma, step="domain:rows", budget=self.budget)
            self.rows = max(float(noisy), 1.0)
        columns: list[tuple[ColumnSpec, str, str]] = []          # (spec with its kind, kind source, value family)
        identifiers: list[tuple[str, str]] = []
        kind_tables: list[tuple[np.ndarray, float]] = []
        for col in self.spec.columns:
            if col.kind == ColumnKind.IDENTIFIER:
                identifiers.append((col.name, self.sources[col.name].family.value))
            elif col.name in self.infer:
                decided, family = self._decide_kind(col, kind_tables)
                columns.append((decided, "dp", family.value))
            else:
                columns.append((col, "spec" if col.kind_declared else "type", ""))
        if kind_tables and self.rows is None:     # every kind histogram counts all rows: one DP row estimate
            counts, sigmas = zip(*kind_tables, strict=True)
            self.rows = dp_row_count(counts, sigmas)
            self.rows_sigma = 1 / math.sqrt(sum(1 / (s ** 2 * np.asarray(c).size) for c, s in kind_tables))
        self._warn_threshold([c for c, _, _ in columns])
        if not columns:
            raise InputError("no column can be modelled (all are identifiers).", table=self.spec.name,
                             fix="declare at least one non-identifier column.")
        found = [self._discover(col, self.sources[col.name]) for col, _, _ in columns]
        domains = []
        for (col, kind_source, value_family), result in zip(columns, found, strict=True):
            domain = self._shape(result) if isinstance(result, _Pending) else result
            self._done(col.name)
            domains.append(replace(domain, kind_source=kind_source, value_type_family=value_family,
                                   report={"kind_source": kind_source, **domain.report}))
        source_types = tuple((c.name, self.sources[c.name].type, self.sources[c.name].family.value)
                             for c in self.spec.columns)
        return TableDomain(self.spec.name, tuple(domains), tuple(identifiers), tuple(c.name for c in self.spec.columns),
                           tuple(self.warnings), source_types)

    def _warn_threshold(self, columns: list[ColumnSpec]) -> None:
        """One early, table-level warning when the planned category discovery cannot keep categories holding 5% of
        the rows (DP estimate), with the epsilon that would keep 1% ones."""
        discovered = [c.name for c in columns if c.kind == ColumnKind.CATEGORICAL and c.categories is None]
        if not discovered or self.rows is None:
            return
        pending = self._pending_weight()
        sigma = self.private.sigma_for(self.budget.remaining * STAGE_WEIGHTS["categories"] / max(pending, 1e-300))
        threshold = threshold_for(sigma, self.plan.delta_each, self.private.max_rows_per_unit)
        share = threshold / self.rows
        if share >= 0.05:
            keep = self._epsilon_to_keep(threshold, 0.01)
            self.warnings.append(
                f"at this epsilon DP discovery releases a category only when about {threshold} rows "
                f"({share:.0%} of the DP row estimate) hold it; rarer categories of {discovered[:5]}"
                f"{' ...' if len(discovered) > 5 else ''} are pooled. Declare their categories in the column spec"
                + (f", or raise epsilon to about {keep:.2g} to keep categories holding 1% of rows." if keep else "."))

    def _discover(self, col: ColumnSpec, source: SourceColumn) -> ColumnDomain | _Pending:
        if col.kind == ColumnKind.BOOLEAN:
            result: ColumnDomain | _Pending = self._boolean(col, source)
        elif col.kind == ColumnKind.CATEGORICAL:
            result = self._categorical(col, source)
        else:
            result = self._numeric(col, source)
        if isinstance(result, ColumnDomain):
            self._done(col.name)
        return result

    # ---------------------------------------------------------------- shared pieces
    def _stages(self, col: ColumnSpec) -> tuple[str, ...]:
        return tuple(self.to_run.get(col.name, ()))

    def _measure(self, binning, stage: str, column: str) -> tuple[np.ndarray, float]:
        sigma = self._sigma(stage, column)
        counts = self.private.measure([binning], sigma, step=f"domain:{stage}:{column}", budget=self.budget)
        return np.asarray(counts, dtype=float), sigma

    def _nullable(self, col: ColumnSpec, evidence: _NullEvidence, report: dict) -> bool:
        if col.nullable is not None:
            report["nulls"] = "declared"
            return col.nullable
        found = evidence.estimate()
        if found is None:
            report["nulls"] = "assumed"
            return True
        est, sd = found
        report["nulls"] = "dp_test"
        return est > NULL_SIGMAS * sd

    def _share(self, count: float) -> float | None:
        return None if self.rows is None else max(count, 0.0) / self.rows

    def _epsilon_to_keep(self, threshold: int, share: float) -> float | None:
        """About the release epsilon at which the discovery threshold falls to `share` of the rows (same plan)."""
        if self.rows is None or share * self.rows <= 1:
            return None
        root = self.budget.root
        factor = epsilon_scale(threshold, share * self.rows)
        return float(cdp_eps(root.rho_total * factor, root.delta_conversion))

    def _rows_besides(self, held: float, cells: int, sigma: float) -> tuple[float, float]:
        """(estimate, sd): the DP row count N minus `held`, a sum of `cells` noisy counts of noise `sigma` each (the
        rows those counts leave unexplained: pooled, clipped, off the atoms). Post-processing of DP outputs."""
        return self.rows - held, math.sqrt(self.rows_sigma ** 2 + cells * sigma ** 2)

    def _pooled(self, col: ColumnSpec, released: dict, null_count: float, sigma: float, threshold: int,
                what: str, report: dict) -> bool:
        """DP estimate of the rows outside the released values (N - released - nulls); True when it is significant.
        Reports the share (and warns) when it is large enough to matter."""
        if self.rows is None:
            return True
        rest, sd = self._rows_besides(sum(released.values()) + null_count, len(released) + 1, sigma)
        significant = rest > OTHER_SIGMAS * sd
        share = self._share(rest)
        # the estimate is reported whether or not it clears the noise (a code column may leave a few percent of its
        # rows re-spread without that being significant); the warning waits for significance
        report.update(threshold_rows=int(threshold), pooled_share=round(share, 4),
                      pooled_share_sd=round(sd / self.rows, 4))
        if significant and share >= REPORT_SHARE:
            keep = self._epsilon_to_keep(threshold, 0.01)
            report["epsilon_to_keep_1pct"] = round(keep, 3) if keep else None
            self.warnings.append(
                f"column {col.name!r}: {what} holding about {share:.1%} of rows (DP estimate) fell below the DP "
                f"discovery threshold ({threshold} rows) and are pooled as {report.get('pooled_as', 'other')}; "
                f"declare its categories in the column spec"
                + (f", or raise epsilon to about {keep:.2g} to keep values holding 1% of rows." if keep else "."))
        return significant

    # ---------------------------------------------------------------- kinds
    def _decide_kind(self, col: ColumnSpec, tables: list) -> tuple[ColumnSpec, TypeFamily]:
        counts, sigma = self._measure(TextClassBinning(col.name), "kind", col.name)
        tables.append((counts, sigma))
        decided = decide_text_kind(counts, sigma, self.options.text_kind_tolerance)
        if decided is None:
            self.warnings.append(f"column {col.name!r}: too few rows for the DP kind decision; treated as text. "
                                 f"Declare its kind in the column spec.")
            self.to_run[col.name] = column_stages(col, self.options.max_integer_bins)
            return col, TypeFamily.STRING
        kind, family = decided
        decided_col = replace(col, kind=kind)
        self.to_run[col.name] = column_stages(decided_col, self.options.max_integer_bins)
        return decided_col, family

    # ---------------------------------------------------------------- boolean and categorical
    def _boolean(self, col: ColumnSpec, source: SourceColumn) -> ColumnDomain:
        report: dict = {}
        evidence = _NullEvidence()
        if "nulls" in self._stages(col):
            counts, sigma = self._measure(CategoricalBinning(col.name, (False, True), False, True), "nulls", col.name)
            evidence.add(counts[-1], sigma)
        nullable = self._nullable(col, evidence, report)
        return ColumnDomain(col.name, col.kind, CategoricalBinning(col.name, (False, True), False, nullable),
                            source.type, source.family.value, report=report)

    def _other_label(self, family: TypeFamily) -> str | None:
        return self.options.other_label if family in (TypeFamily.STRING, TypeFamily.OTHER) else None

    def _categorical(self, col: ColumnSpec, source: SourceColumn) -> ColumnDomain:
        report: dict = {}
        evidence = _NullEvidence()
        label = self._other_label(source.family)
        if col.categories is not None:
            values = tuple(coerce_category(v, source.family) for v in col.categories)
            has_other = False       # a declared domain is complete; stray values are coded as its first value
            if "nulls" in self._stages(col):
                counts, sigma = self._measure(CategoricalBinning(col.name, values, True, True), "nulls", col.name)
                evidence.add(counts[-1], sigma)
                has_other = bool(counts[-2] > NULL_SIGMAS * sigma)
            nullable = self._nullable(col, evidence, report)
            return ColumnDomain(col.name, col.kind, CategoricalBinning(col.name, values, has_other, nullable),
                                source.type, source.family.value, other_label=label, report=report)
        sigma = self._sigma("categories", col.name)
        found = self.private.discover_values(col.name, sigma, self.plan.delta_each,
                                             step=f"domain:categories:{col.name}",
                                             max_values=self.options.max_categories, budget=self.budget)
        evidence.add(found.null_count, sigma)
        report["pooled_as"] = repr(label) if label is not None else "re-spread over the released categories"
        has_other = self._pooled(col, found.values, found.null_count, sigma, found.threshold, "categories", report)
        if not found.values:
            has_other = True
            self.warnings.append(f"column {col.name!r}: no category cleared the DP threshold ({found.threshold} rows); "
                                 f"every row is pooled. Declare its categories, raise epsilon, or mark it as an "
                                 f"identifier.")
        nullable = self._nullable(col, evidence, report)
        values = tuple(sorted(found.values, key=lambda v: (str(type(v)), v)))
        if not has_other and values:         # unreleased rows take code 0: let it be the most frequent value
            mode = max(found.values, key=found.values.get)
            values = (mode,) + tuple(v for v in values if v != mode)
        report["categories"] = len(values)
        return ColumnDomain(col.name, col.kind, CategoricalBinning(col.name, values, has_other, nullable), source.type,
                            source.family.value, discovered=True, other_label=label, report=report)

    # ---------------------------------------------------------------- numeric and datetime
    def _numeric(self, col: ColumnSpec, source: SourceColumn) -> ColumnDomain | _Pending:
        """Discovery pass of a numeric or datetime column: declared bins (done), a numeric code column (done), or
        its atoms and null evidence for the shape pass."""
        stages = self._stages(col)
        report: dict = {}
        evidence = _NullEvidence()
        is_dt = col.kind == ColumnKind.DATETIME
        declared = col.lower is not None
        if isinstance(col.bins, (tuple, int)) or (col.kind == ColumnKind.INTEGER and declared
                                                    and "histogram" not in stages):
            edges = self._declared_edges(col, col.kind == ColumnKind.INTEGER)
            if "nulls" in stages:
                counts, sigma = self._measure(NumericBinning(col.name, edges, True, is_dt), "nulls", col.name)
                evidence.add(counts[-1], sigma)
            nullable = self._nullable(col, evidence, report)
            return ColumnDomain(col.name, col.kind, NumericBinning(col.name, edges, nullable, is_dt), source.type,
                                source.family.value, report=report)
        atoms: tuple[float, ...] = ()
        if "values" in stages and not is_dt:
            codes, atoms = self._values(col, source, evidence, report)
            if codes is not None:
                return codes
        return _Pending(col, source, atoms, evidence, report)

    def _shape(self, pending: _Pending) -> ColumnDomain:
        """Shape pass: precision, bounds (unless declared), the fine histogram, model bins."""
        col, source, atoms, evidence, report = (pending.col, pending.source, pending.atoms, pending.evidence,
                                                pending.report)
        stages = self._stages(col)
        is_dt = col.kind == ColumnKind.DATETIME
        declared = col.lower is not None
        decimals = self._precision(col, evidence) if col.kind == ColumnKind.CONTINUOUS and "precision" in stages \
            else None
        integral = decimals == 0
        as_int = col.kind == ColumnKind.INTEGER or integral
        if declared:
            lo, hi = col.lower, col.upper
            keep = (hi, lo)                        # nothing to keep: declared bounds are never trimmed
        else:
            lo, hi, keep = self._bounds(col, is_dt, as_int, atoms, evidence, report)
            if as_int and atoms:     # the bounds saw the rows besides the atoms; integer bins must hold the atoms too
                lo, hi = min(lo, math.floor(min(atoms))), max(hi, math.ceil(max(atoms)))
        fine_edges = fine_weights = None
        fine = np.asarray(fine_grid(lo, hi, as_int, self.options.fine_bins))
        # on a grid of one bin per integer an atom's rows are its own fine bin: measure them there (so the range
        # trim sees all the mass) and leave them out of the within-bin shape below
        unit_grid = as_int and bool(np.all(np.diff(fine) == 1.0))
        histogram = NumericBinning(col.name, tuple(fine), True, is_dt, atoms=() if unit_grid else atoms)
        all_counts, sigma = self._measure(histogram, "histogram", col.name)
        evidence.add(all_counts[-1], sigma)
        bin_codes, _ = histogram.cell_codes()
        counts = all_counts[list(bin_codes)]
        found = mass_range(counts, sigma, drift=TAIL_DRIFT)
        coarse = len(counts) / merge_factor(counts, sigma) < min(MIN_TRIM_RESOLUTION, len(counts))
        if found is not None and _mostly_elsewhere(counts, sigma, found):
            found = None         # a "range" holding less than the significant mass outside it is a noise spike
        if found is not None and coarse:
            # too little signal to see exactly where the mass ends: trim to the range found, widened by its own width
            # on each side (a thin tail next to it stays; a power-of-two grid bin of 1024 years around 26 does not)
            width = found[1] - found[0] + 1
            found = (max(found[0] - width, 0), min(found[1] + width, len(counts) - 1))
        if found is not None and not declared:   # trim DP bounds to where the mass is (declared bounds stay) ...
            first, last = significant_remainder(counts, sigma, *found)
            # never inside the grid bins the bounds found occupied (a long thin tail is spread too thin for the
            # fine bins, but the coarse bounds bins saw it), and never away from the atoms (their rows are not here)
            first = min(first, max(int(np.searchsorted(fine, keep[0], side="right")) - 1, 0))
            last = max(last, min(int(np.searchsorted(fine, keep[1], side="left")) - 1, len(counts) - 1))
            inside = [a for a in atoms if fine[0] <= a <= fine[-1]]
            if inside:                           # ... and where the atoms are (their rows are not in these counts)
                first = min(first, int(np.searchsorted(fine, min(inside), side="right")) - 1)
                last = max(last, min(int(np.searchsorted(fine, max(inside), side="right")) - 1, len(counts) - 1))
            trimmed = np.concatenate([counts[:first], counts[last + 1:]])
            if trimmed.size and float(trimmed.sum()) > 2 * sigma * math.sqrt(trimmed.size):
                share = self._share(float(trimmed.sum()))
                if share is not None and share >= REPORT_SHARE:
                    report["clipped_share"] = round(report.get("clipped_share", 0.0) + share, 4)
                    self.warnings.append(f"column {col.name!r}: about {share:.1%} of rows (DP estimate) lie in tails "
                                         f"too thin for DP to place and are clipped to [{fine[first]:g}, "
                                         f"{fine[last + 1]:g}]; declare lower/upper for it.")
            fine = fine[first:last + 2]
            counts = counts[first:last + 1]
        if unit_grid and atoms:
            counts = np.where(np.isin((fine[:-1] + fine[1:]) / 2, atoms), 0.0, counts)
        fine, counts, merged_sigma = merge_to_signal(fine, counts, sigma)
        # Bins under 1 sigma are mostly noise; zero them so empty bins do not add spurious mass (clipping at 0
        # alone would add ~0.4 sigma per empty bin).
        weights = np.where(counts > merged_sigma, counts, 0.0)
        lo, hi = float(fine[0]), float(fine[-1])
        if as_int and math.floor(hi) - math.ceil(lo) + 1 <= self.options.max_integer_bins:
            edges = integer_edges(math.ceil(lo), math.floor(hi))
            atoms = ()            # one bin per integer already decodes every value exactly
        else:
            edges = quantile_edges(fine, weights, self._model_bins(), as_int)
            fine_edges, fine_weights = tuple(fine.tolist()), tuple(weights.tolist())
        if atoms:
            report["atoms"] = len(atoms)
        nullable = self._nullable(col, evidence, report)
        binning = NumericBinning(col.name, tuple(float(e) for e in edges), nullable, is_dt, atoms=atoms)
        return ColumnDomain(col.name, col.kind, binning, source.type, source.family.value, fine_edges, fine_weights,
                            discovered=not declared, integral=integral, decimals=decimals, report=report)

    def _model_bins(self) -> int:
        """Model bins of a binned column: `n_bins`, fewer on small tables (about `rows_per_bin` DP-estimated rows a
        bin, at least 8): a generator's noisy marginals over many thin bins are mostly noise."""
        if self.rows is None:
            return self.options.n_bins
        return int(np.clip(round(self.rows / self.options.rows_per_bin), min(8, self.options.n_bins),
                           self.options.n_bins))

    def _declared_edges(self, col: ColumnSpec, as_int: bool) -> tuple[float, ...]:
        lo, hi = col.lower, col.upper
        if isinstance(col.bins, tuple):
            return col.bins
        if isinstance(col.bins, int):
            if as_int and math.floor(hi) - math.ceil(lo) + 1 <= col.bins:
                return integer_edges(math.ceil(lo), math.floor(hi))
            return tuple(np.linspace(lo, hi, col.bins + 1).tolist())
        return integer_edges(math.ceil(lo), math.floor(hi))

    def _values(self, col: ColumnSpec, source: SourceColumn, evidence: _NullEvidence, report: dict
                ) -> tuple[ColumnDomain | None, tuple[float, ...]]:
        """Value discovery on a numeric column: a numeric code column (returned as its domain), or its atoms."""
        sigma = self._sigma("values", col.name)
        floor = math.ceil(VALUE_FLOOR_SHARE * self.rows) if self.rows is not None else 0
        threshold = max(threshold_for(sigma, self.plan.delta_each, self.private.max_rows_per_unit), floor)
        found = self.private.discover_values(col.name, sigma, self.plan.delta_each, step=f"domain:values:{col.name}",
                                             max_values=self.options.max_code_values + 1, threshold=threshold,
                                             numeric=True, budget=self.budget)
        evidence.add(found.null_count, sigma)
        released = found.values
        if self.rows is None or not released:
            return None, ()
        rest, sd = self._rows_besides(sum(released.values()) + found.null_count, len(released) + 1, sigma)
        if len(released) <= self.options.max_code_values and sd <= CODE_NOISE_SHARE * self.rows and \
                rest <= (1 - self.options.code_coverage) * self.rows + CODE_SIGMAS * sd:
            report["pooled_as"] = "re-spread over the released values"
            has_other = self._pooled(col, released, found.null_count, sigma, found.threshold, "values", report)
            nullable = self._nullable(col, evidence, report)
            integer = col.kind == ColumnKind.INTEGER or all(float(v).is_integer() for v in released)
            values = tuple(sorted(int(v) if integer else float(v) for v in released))
            report["codes"] = len(values)
            binning = CategoricalBinning(col.name, values, has_other, nullable, numeric=True)
            return ColumnDomain(col.name, col.kind, binning, source.type, source.family.value, discovered=True,
                                integral=integer and col.kind != ColumnKind.INTEGER, report=report), ()
        heavy = sorted(released.items(), key=lambda vc: -vc[1])
        atoms = sorted(float(v) for v, c in heavy[:self.options.max_atoms] if c >= self.options.atom_share * self.rows)
        return None, tuple(atoms)

    def _precision(self, col: ColumnSpec, evidence: _NullEvidence) -> int | None:
        """DP test of 'this float column's values need at most d decimals': noisy counts of non-null values by the
        decimals they need; the smallest d whose counts hold the values (over 4 sigma) with at most 1% of them, or
        4 sigma, needing more. None: no such d (the values are decoded unrounded)."""
        binning = PrecisionBinning(col.name)
        counts, sigma = self._measure(binning, "precision", col.name)
        evidence.add(counts[-1], sigma)
        values = counts[:-1]
        for d in range(binning.max_decimals + 1):
            held, more = float(values[:d + 1].sum()), float(values[d + 1:].sum())
            if held > SIGNIFICANT_SIGMAS * sigma * math.sqrt(d + 1) and \
                    more < max(SIGNIFICANT_SIGMAS * sigma * math.sqrt(values.size - d - 1), 0.01 * held):
                return d
        return None

    def _spread_range(self, name: str, values: np.ndarray, counts: np.ndarray, binning: NumericBinning,
                      sigma: float, report: dict) -> tuple[int, int] | None:
        """When no grid bin stands out but the DP estimate of the rows off the atoms (N minus the atoms' and the
        nulls' noisy counts) is significant, those rows exist and are spread thin over a few grid bins (a lognormal
        tail beside 90% zeros): the densest run of grid bins (with a warning when it does not clear SPREAD_SIGMAS).
        Without this the column collapsed onto its atoms (a 90%-zero column came back 100% zero in one release out
        of 15)."""
        if self.rows is None:
            return None
        atom_cells = counts[list(binning.cell_codes()[1])]
        rest, sd = self._rows_besides(float(atom_cells.sum()) + float(counts[-1]), atom_cells.size + 1, sigma)
        if rest <= SPREAD_SIGMAS * sd:
            return None
        z, first, last = _densest_window(values, sigma)
        if z <= SPREAD_SIGMAS:   # a best guess: still better than putting every row on the atoms
            report["bounds"] = "too noisy"
            self.warnings.append(f"column {name!r}: about {self._share(rest):.0%} of rows lie off its point masses "
                                 f"(DP estimate) but no value range cleared the DP threshold; the densest run of grid "
                                 f"bins is used. Declare lower/upper for it.")
        return first, last

    def _bounds(self, col: ColumnSpec, is_dt: bool, as_int: bool, atoms: tuple[float, ...], evidence: _NullEvidence,
                report: dict
                ) -> tuple[float, float, tuple[float, float]]:
        """DP bounds (lo, hi) on the public grid, and the inner edges of the outermost occupied grid bins (the range
        the fine histogram may not trim into)."""
        grid = YEAR_EDGES if is_dt else MAGNITUDE_EDGES
        # atoms are decoded exactly wherever they are: their rows stay out of the range search (a 90% zero would
        # otherwise be "the range" while the tail, too thin per grid bin, is clipped into it)
        binning = NumericBinning(col.name, grid, True, is_dt, atoms=atoms)
        counts, sigma = self._measure(binning, "bounds", col.name)
        evidence.add(counts[-1], sigma)
        values = counts[list(binning.cell_codes()[0])]
        # bins standing out on their own, extended over a range spread thin over many bins (CUSUM from each end,
        # with a high alarm: the coarse grid has ~100 bins, mostly empty) as far as it is contiguous
        supported = supported_range(values, sigma)
        found = connected_range(values, sigma, supported, occupied_range(values, sigma, alarm=GRID_ALARM))
        if found is None:
            found = self._spread_range(col.name, values, counts, binning, sigma, report)
        ranges = [found] if found is not None else []
        if not ranges:
            # nothing stands out: the grid bins of the atoms (released values: their rows are not in these counts),
            # and the fullest grid bin when its count is some evidence (over 3 sigma) or there are no atoms; a noise
            # maximum far from the atoms would otherwise become the range (post-processing of the noisy counts)
            top = int(np.argmax(values))
            held = [_grid_bin(grid, a) for a in atoms]
            bins = held + ([top] if values[top] > 3 * sigma or not held else [])
            lo, hi = grid[min(bins)], grid[max(bins) + 1]
            keep = (hi, lo)
            report["bounds"] = "atoms" if top not in bins else "too noisy"
            if top in bins:
                shown = (f"[{_dt_text(lo)}, {_dt_text(hi)}]" if is_dt else f"[{lo:g}, {hi:g}]")
                self.warnings.append(f"column {col.name!r}: no value range cleared the DP threshold ({4 * sigma:.0f} "
                                     f"rows per grid bin); using {shown}, values outside are clipped. Declare "
                                     f"lower/upper for it.")
        else:
            first, last = min(r[0] for r in ranges), max(r[1] for r in ranges)
            lo, hi = grid[first], grid[last + 1]
            if first == 0 or last + 2 == len(grid):        # post-processing of the noisy histogram: public
                edge = "1800-2200" if is_dt else "+-2^40"
                self.warnings.append(f"column {col.name!r}: values reach the edge of the public bounds grid ({edge}); "
                                     f"values beyond it are clipped to it. Declare lower/upper for it.")
            # the fine histogram may trim the bins the CUSUM added (weak evidence: a noise bump can extend it) and
            # inside the outermost bins that stand out on their own, never further in (a tail too thin for the fine
            # bins was seen by the coarse ones)
            keep = (grid[supported[0] + 1], grid[supported[1]]) if supported and supported[1] > supported[0] \
                else (hi, lo)
            # rows clipped: the noisy count outside the range, or (less noisy when the range is a few bins) the DP
            # row count minus the rows inside and the nulls; the less noisy of the two unbiased estimates
            outside = np.concatenate([values[:first], values[last + 1:]])
            estimates = [(float(outside.sum()), sigma * math.sqrt(max(outside.size, 1)))]
            if self.rows is not None:
                inside = np.concatenate([values[first:last + 1], counts[list(binning.cell_codes()[1])]])  # + atoms
                estimates.append(self._rows_besides(float(inside.sum()) + float(counts[-1]), inside.size + 1, sigma))
            clipped, sd = min(estimates, key=lambda e: e[1])
            if outside.size and clipped > 2 * sd:
                share = self._share(clipped)
                if share is not None and share >= REPORT_SHARE:
                    report["clipped_share"] = round(share, 4)
                    shown = (f"[{_dt_text(lo)}, {_dt_text(hi)}]" if is_dt else f"[{lo:g}, {hi:g}]")
                    self.warnings.append(f"column {col.name!r}: the DP bounds {shown} clip about {share:.1%} of rows "
                                         f"(DP estimate) into the end bins; declare lower/upper for it (its documented "
                                         f"range).")
        if as_int:  # grid bins are [a, b): the integers inside are ceil(a) .. ceil(b) - 1
            lo, hi = math.ceil(lo), max(math.ceil(hi) - 1, math.ceil(lo))
        return lo, hi, keep


def _densest_window(values: np.ndarray, sigma: float, max_width: int = SPREAD_MAX_BINS) -> tuple[float, int, int]:
    """(z, first, last): the run of at most `max_width` consecutive bins whose noisy sum is the most noise sds
    above zero (post-processing of the noisy counts)."""
    best = (-math.inf, 0, 0)
    sums = np.concatenate([[0.0], np.cumsum(values)])
    for width in range(1, min(max_width, values.size) + 1):
        z = (sums[width:] - sums[:-width]) / (sigma * math.sqrt(width))
        i = int(np.argmax(z))
        if z[i] > best[0]:
            best = (float(z[i]), i, i + width - 1)
    return best


def _grid_bin(grid: tuple[float, ...], value: float) -> int:
    """Index of the grid bin [grid[i], grid[i + 1]) holding `value`, clipped into the grid."""
    return int(np.clip(np.searchsorted(grid, value, side="right") - 1, 0, len(grid) - 2))


def _mostly_elsewhere(counts: np.ndarray, sigma: float, found: tuple[int, int]) -> bool:
    """Whether the noisy mass outside `found` is both significant (over 3 noise sds of its sum) and larger than the
    mass inside: then `found` is a noise spike beside data spread too thin to stand out (post-processing)."""
    inside = float(counts[found[0]:found[1] + 1].sum())
    outside = float(counts.sum()) - inside
    outside_sd = sigma * math.sqrt(max(len(counts) - (found[1] - found[0] + 1), 1))
    return outside > inside and outside > 3.0 * outside_sd


def _dt_text(seconds: float) -> str:
    return (_dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=float(seconds))).date().isoformat()
