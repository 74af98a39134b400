"""Which DP measurements each column needs before modelling, and how the domain budget is split over them.

Everything here is computed from public information only (the spec, the public schema, the options), before any row
is read, so the split is fixed and `forecast` can mirror it. The domain node's rho is split in proportion to
`STAGE_WEIGHTS` over the planned stages (not evenly: a column whose domain is declared needs nothing, or only a small
null test; category discovery needs the most, because its release threshold grows with its noise). A stage that turns
out not to be needed (e.g. bounds of a column whose values all fit a few codes) spends nothing, and what the node does
not spend goes back to the generator. The threshold delta is split evenly over the thresholded stages.

Stages (step names in the release record are `domain:<stage>:<column>`):
- `rows`        one noisy row count of the table (for shares: atoms, codes, pooled and clipped shares); not needed
                when there are `kind` stages (each is a histogram of all rows: their totals estimate the count);
- `kind`        DP kind decision of a text column (`infer_text_kinds`): noisy counts of values per text class;
- `categories`  thresholded discovery of a categorical column's values, with a noisy null count;
- `values`      thresholded discovery of a numeric column's frequent exact values (numeric codes, point masses);
- `bounds`      noisy histogram over the public grid (signed powers of two; years) for the range;
- `precision`   noisy counts of float values by the decimals they need (0 = integers; then values are rounded);
- `histogram`   noisy fine histogram inside the bounds (bin edges, within-bin shape);
- `nulls`       a declared-domain column's noisy null (and out-of-domain) count, when `nullable` is not declared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from ..accounting.zcdp import sigma_for_rho
from ..measurement.engine import TypeFamily
from ..schema import ColumnKind, ColumnSpec

STAGE_WEIGHTS: dict[str, float] = {
    "rows": 2.0,          # the row count turns every other count into a share
    "kind": 1.5,          # the kind decides the whole representation of a text column
    "categories": 3.0,
    "values": 2.0,
    "bounds": 1.0,        # only needs the grid bins holding 4 sigma
    "precision": 0.5,
    "histogram": 2.0,     # shape, tails and model bins: what the 1-way fidelity of a numeric column rests on
    "nulls": 0.5,
}
THRESHOLDED_STAGES = ("categories", "values")
# Stages planned for a text column whose kind is decided with DP: the costlier of the categorical and numeric plans.
_INFERRED_TEXT_STAGES = ("kind", "values", "bounds", "precision", "histogram")


def column_stages(col: ColumnSpec, max_integer_bins: int = 64, infer_kind: bool = False) -> list[str]:
    """DP stages a column needs, from its spec alone (`infer_kind`: a text column whose kind DP will decide)."""
    if infer_kind:
        return list(_INFERRED_TEXT_STAGES)
    null_test = ["nulls"] if col.nullable is None else []
    if col.kind == ColumnKind.IDENTIFIER:
        return []
    if col.kind == ColumnKind.BOOLEAN:
        return null_test
    if col.kind == ColumnKind.CATEGORICAL:
        return null_test if col.categories is not None else ["categories"]
    declared = col.lower is not None
    if isinstance(col.bins, (tuple, int)):
        return null_test                  # declared bins: equal-width or explicit edges, uniform within bins
    if col.kind == ColumnKind.INTEGER and declared and col.upper - col.lower + 1 <= max_integer_bins:
        return null_test                  # small declared integer range: one bin per integer, nothing to learn
    if col.kind == ColumnKind.DATETIME:
        return ([] if declared else ["bounds"]) + ["histogram"]
    stages = ["values"] + ([] if declared else ["bounds"])
    if col.kind == ColumnKind.CONTINUOUS:
        stages.append("precision")        # float columns often hold integers (a CSV int column with nulls), or tenths
    return stages + ["histogram"]


def infers_kind(col: ColumnSpec, family: TypeFamily, infer_text_kinds: bool) -> bool:
    """A text column without a declared kind (or declared domain) whose kind a DP decision picks."""
    return (infer_text_kinds and family == TypeFamily.STRING and not col.kind_declared
            and col.kind == ColumnKind.CATEGORICAL and col.categories is None)


@dataclass(frozen=True)
class DomainPlan:
    """The split of the domain node: per-column stages, rho per unit of stage weight, delta per thresholded stage.

    Attributes:
        stages: {column: planned stages} (table-level `rows` under the key "").
        unit_rho: rho of a stage of weight 1 (zCDP rho, unitless).
        delta_each: delta_threshold of each thresholded stage.
    """

    stages: dict[str, tuple[str, ...]]
    unit_rho: float
    delta_each: float

    @classmethod
    def build(cls, columns: Iterable[tuple[ColumnSpec, bool]], rho: float, delta_threshold: float,
              max_integer_bins: int = 64) -> "DomainPlan":
        """`columns`: (spec, whether DP decides its kind) for every column of the relation."""
        stages = {c.name: tuple(column_stages(c, max_integer_bins, infer)) for c, infer in columns}
        if rho <= 0:      # no budget: declared domains keep a null code untested (only real discovery is refused)
            stages = {name: tuple(s for s in st if s != "nulls") for name, st in stages.items()}
        # the row count comes for free from the kind stages' totals when there are any
        kinds = any("kind" in st for st in stages.values())
        if not kinds and any(s in THRESHOLDED_STAGES for st in stages.values() for s in st):
            stages = {"": ("rows",), **stages}
        weight = sum(STAGE_WEIGHTS[s] for st in stages.values() for s in st)
        n_thresholded = sum(1 for st in stages.values() if any(s in THRESHOLDED_STAGES for s in st))
        return cls(stages, rho / weight if weight else 0.0, delta_threshold / n_thresholded if n_thresholded else 0.0)

    @property
    def needs_budget(self) -> bool:
        return any(self.stages.values())

    @property
    def columns_needing_budget(self) -> list[str]:
        return [c for c, s in self.stages.items() if s and c]

    def rho(self, stage: str) -> float:
        return STAGE_WEIGHTS[stage] * self.unit_rho

    def sigma(self, stage: str) -> float:
        """Noise std of a stage's counts (discrete Gaussian, sensitivity 1)."""
        return sigma_for_rho(self.rho(stage))

    def sigmas(self) -> dict[str, float]:
        planned = {s for st in self.stages.values() for s in st}
        return {s: self.sigma(s) for s in STAGE_WEIGHTS if s in planned}


# Default share of the zCDP rho for domain discovery when the config does not set one: the generator's default, raised
# with the stage weight the spec leaves to DP (public): DOMAIN_SHARE_PER_WEIGHT per unit of weight, at most
# MAX_NEED_SHARE. Measured (docs/value_fidelity.md): with nothing declared, 0.1 of rho leaves discovery thresholds of
# 10-15% of the rows on 2k-5k-row tables at epsilon 1; 0.3 halves the mean 1-way TVD and lowers the 2-way TVD too.
DOMAIN_SHARE_PER_WEIGHT = 0.005
MAX_NEED_SHARE = 0.3


def domain_share_for(columns: Iterable[tuple[ColumnSpec, bool]], default: float,
                     max_integer_bins: int = 64) -> float:
    """The domain share a release uses when its config does not declare one: max(the generator's default,
    min(MAX_NEED_SHARE, default + DOMAIN_SHARE_PER_WEIGHT * the planned stage weight)). Public: the spec only."""
    plan = DomainPlan.build(columns, 1.0, 1.0, max_integer_bins)
    weight = sum(STAGE_WEIGHTS[s] for st in plan.stages.values() for s in st)
    if weight == 0:
        return default
    return max(default, min(MAX_NEED_SHARE, default + DOMAIN_SHARE_PER_WEIGHT * weight))


def epsilon_scale(threshold_now: float, threshold_wanted: float) -> float:
    """Factor on the release's rho that moves a discovery threshold (~ its noise std) from `threshold_now` to
    `threshold_wanted` rows, the rest of the plan unchanged: rho' = rho * factor."""
    return (max(threshold_now - 1, 1e-9) / max(threshold_wanted - 1, 1e-9)) ** 2 if threshold_wanted > 1 else math.inf
