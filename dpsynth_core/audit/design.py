"""The audit's neighbouring tables: a small public design D and D' = D + {canary}.

The base table is generated from a fixed design seed (it is the auditor's own data, not private), ~1-2k rows and six
columns whose domains are declared in the spec, so a pass cannot come from a domain that happens to hide the canary.
The canary is the worst case for marginal-based generators: it is the only row holding `island` in `region` (a
declared category that no other row has), so every marginal cell that contains it has count 0 in D and 1 in D'.

`discovered=True` leaves `region`'s categories undeclared: they are found by thresholded DP discovery, which must
not release `island` (held by one row) except with probability delta_threshold.

The canary is inserted as the FIRST row of D': a correct mechanism does not depend on row order, while one that
assigns rows by position (a holdout split driven by a public seed) shifts every row after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..measurement.binning import Binning, CategoricalBinning, NumericBinning

DESIGN_SEED = 20240917   # fixes the auditor's base table; never used for privacy noise
REGIONS = ("north", "south", "east", "west")
CANARY_REGION = "island"
AGE_EDGES = (18.0, 27.0, 36.0, 45.0, 54.0, 63.0, 72.0, 81.0, 90.0)
INCOME_EDGES = (0.0, 10_000.0, 20_000.0, 40_000.0, 80_000.0, 200_000.0)
CANARY = {"sex": "f", "region": CANARY_REGION, "age": 47, "income": 35_000.0, "children": 2, "smoker": True}


@dataclass(frozen=True)
class AuditTable:
    """Neighbouring tables for one audit.

    base: D (the world without the canary); canary: the extra row of D'; spec: the declared column spec;
    rare_column: the column whose canary value no other row has; binnings: a fixed public binning of every column
    (the declared domain plus the canary's value) used to read synthetic outputs the same way in every run.
    """

    name: str
    base: pd.DataFrame
    canary: dict[str, Any]
    spec: dict[str, dict]
    rare_column: str
    binnings: dict[str, Binning] = field(default_factory=dict)

    @property
    def with_canary(self) -> pd.DataFrame:
        """D' with the canary first (see the module doc)."""
        row = pd.DataFrame([self.canary])[list(self.base.columns)].astype(self.base.dtypes.to_dict())
        return pd.concat([row, self.base], ignore_index=True)

    def world(self, canary: bool) -> pd.DataFrame:
        return self.with_canary if canary else self.base


def base_rows(rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """Rows of the public design (correlated columns, none ever holding the canary's region)."""
    sex = rng.choice(["f", "m"], rows)
    region = rng.choice(REGIONS, rows, p=[0.3, 0.3, 0.2, 0.2])
    age = rng.integers(18, 90, rows)
    income = np.clip(rng.lognormal(np.log(12_000 + 600 * (age - 18)), 0.6), 0, 199_999).round(0)
    children = np.clip(rng.poisson(np.where(age > 30, 1.6, 0.4)), 0, 5)
    smoker = rng.random(rows) < np.where(sex == "m", 0.3, 0.15)
    return pd.DataFrame({"sex": sex.astype(object), "region": region.astype(object), "age": age.astype(np.int64),
                         "income": income.astype(float), "children": children.astype(np.int64),
                         "smoker": smoker.astype(bool)})


def declared_spec(discovered: bool = False) -> dict[str, dict]:
    """Every domain declared (categories, bounds and bins), except `region`'s categories when `discovered`."""
    region = {"kind": "categorical", "nullable": False}
    if not discovered:
        region["categories"] = list(REGIONS) + [CANARY_REGION]
    return {
        "sex": {"kind": "categorical", "categories": ["f", "m"], "nullable": False},
        "region": region,
        "age": {"kind": "integer", "lower": AGE_EDGES[0], "upper": AGE_EDGES[-1], "bins": list(AGE_EDGES),
                "nullable": False},
        "income": {"kind": "continuous", "lower": INCOME_EDGES[0], "upper": INCOME_EDGES[-1],
                   "bins": list(INCOME_EDGES), "nullable": False},
        "children": {"kind": "integer", "lower": 0, "upper": 5, "nullable": False},
        "smoker": {"kind": "boolean", "nullable": False},
    }


def reference_binnings() -> dict[str, Binning]:
    """Fixed binnings of the design's columns (the canary's region included) for reading outputs."""
    return {
        "sex": CategoricalBinning("sex", ("f", "m"), True, False),
        "region": CategoricalBinning("region", REGIONS + (CANARY_REGION,), True, False),
        "age": NumericBinning("age", AGE_EDGES, False),
        "income": NumericBinning("income", INCOME_EDGES, False),
        "children": NumericBinning("children", tuple(float(x) - 0.5 for x in range(7)), False),
        "smoker": CategoricalBinning("smoker", (False, True), True, False),
    }


def audit_table(rows: int = 1500, discovered: bool = False, design_seed: int = DESIGN_SEED) -> AuditTable:
    """The neighbouring pair (D, D + {canary}) for the marginal-generator audits."""
    base = base_rows(rows, np.random.default_rng(design_seed))
    name = f"audit_{rows}" + ("_discovered" if discovered else "")
    return AuditTable(name, base, dict(CANARY), declared_spec(discovered), "region", reference_binnings())


# ---------------------------------------------------------------------------------------------- one-run design

TAG_NONE = "none"


@dataclass(frozen=True)
class CanaryPool:
    """Base rows plus m candidate canaries for a one-run audit; each canary carries a unique declared `tag`."""

    base: pd.DataFrame
    canaries: pd.DataFrame
    spec: dict[str, dict]

    @property
    def tags(self) -> list[str]:
        return list(self.canaries["tag"])

    def table(self, included: np.ndarray) -> pd.DataFrame:
        """D: the base rows and the canaries whose coin is True (canaries first, in a fixed order)."""
        chosen = self.canaries.loc[np.asarray(included, bool)]
        return pd.concat([chosen, self.base], ignore_index=True)


def canary_pool(base_rows_count: int, canaries: int, design_seed: int = DESIGN_SEED) -> CanaryPool:
    """Design rows with `tag = none` and `canaries` rows with tags k0000, k0001, ... (all declared)."""
    rng = np.random.default_rng(design_seed + 1)
    base = base_rows(base_rows_count, rng).assign(tag=TAG_NONE)
    pool = base_rows(canaries, rng).assign(tag=[f"k{i:05d}" for i in range(canaries)])
    spec = declared_spec(False)
    spec["tag"] = {"kind": "categorical", "categories": [TAG_NONE] + list(pool["tag"]), "nullable": False}
    return CanaryPool(base.astype({"tag": object}), pool.astype({"tag": object}), spec)
