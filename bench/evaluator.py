"""The one evaluator every result goes through (bins fixed on the real train table, applied unchanged to the
synthetic table and the holdout).

Marginal TVD binning (`AtomBinner`): every numeric value holding at least `ATOM_SHARE` (10%) of the real train
rows gets a bin of its own (point masses such as 0 in zero-inflated counts, amounts and hours); the remaining values
go to `N_BINS` quantile bins of the real non-atom values (duplicate edges merged; values outside the real range fall
in the first/last bin); nulls are their own bin; a synthetic value that is not a number at all gets its own bin too
(it can only count as an error). Categorical columns are compared value by value (`category_key`: booleans as
True/False, numbers as floats so 1, 1.0 and "1" agree, other text as written, so "yes" and "True" differ). On the
binned labels:

- mean TVD of all 1-, 2- and 3-way marginals (a seeded sample of at most `max_sets` column sets per order on wide
  tables), and the 1-way TVD of every column (`column_tvds`);
- TSTR: HistGradientBoosting trained on the synthetic table, AUC on the holdout, against the same model trained on the
  real train table (`auc_real`), on `dpsynth_core.evaluation.prepare` of the raw tables.

Not DP (exact statistics of real rows): benchmark output only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from dpsynth_core.evaluation import prepare
from dpsynth_core.evaluation.marginals import marginal_tvds, mean_marginal_tvd
from dpsynth_core.evaluation.tstr import train_synthetic_test_real

ATOM_SHARE = 0.10
N_BINS = 10
NOT_A_NUMBER = "<not a number>"


@dataclass(frozen=True)
class ColumnBins:
    """One numeric column: its atoms (each its own bin) and the quantile edges of the other values."""

    column: str
    atoms: tuple[float, ...]
    edges: tuple[float, ...]

    def labels(self, series: pd.Series) -> pd.Series:
        raw = series.reset_index(drop=True)
        x = pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        out = np.full(len(x), None, dtype=object)
        null = raw.isna().to_numpy()
        out[~null & np.isnan(x)] = NOT_A_NUMBER
        rest = ~np.isnan(x)
        for atom in self.atoms:
            hit = rest & (x == atom)
            out[hit] = f"={atom:.10g}"
            rest &= ~hit
        if rest.any():
            inner = np.asarray(self.edges[1:-1], dtype="float64")
            bins = np.searchsorted(inner, x[rest], side="right")
            out[rest] = np.array([f"q{b:02d}" for b in bins], dtype=object)
        return pd.Series(out, name=series.name, dtype=object)


@dataclass(frozen=True)
class AtomBinner:
    bins: dict[str, ColumnBins]

    @classmethod
    def fit(cls, real: pd.DataFrame, kinds: Mapping[str, str], atom_share: float = ATOM_SHARE,
            n_bins: int = N_BINS) -> "AtomBinner":
        out = {}
        for column, kind in kinds.items():
            if kind != "numeric":
                continue
            x = pd.to_numeric(real[column], errors="coerce").dropna().to_numpy(dtype="float64")
            values, counts = np.unique(x, return_counts=True)
            atoms = tuple(float(v) for v in values[counts >= atom_share * len(real)])
            rest = x[~np.isin(x, atoms)]
            edges = tuple(float(e) for e in np.unique(np.quantile(rest, np.linspace(0, 1, n_bins + 1)))) \
                if len(rest) else ()
            out[column] = ColumnBins(column, atoms, edges)
        return cls(out)

    def transform(self, frame: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
        """`frame` with every numeric column replaced by its bin labels and every categorical value by its
        `category_key` (object; None for nulls)."""
        out = frame.reset_index(drop=True).copy()
        for column, b in self.bins.items():
            if column in out.columns:
                out[column] = b.labels(out[column])
        return normalize_categories(out, {c: k for c, k in kinds.items() if c not in self.bins})


def normalize_categories(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """`frame` with its categorical columns spelled by `category_key` (numeric columns untouched)."""
    out = frame.reset_index(drop=True).copy()
    for column, kind in kinds.items():
        if kind == "categorical" and column in out.columns:
            out[column] = pd.Series([None if _is_null(v) else category_key(v) for v in out[column]], name=column,
                                    dtype=object)
    return out


def category_key(value) -> str:
    """One spelling per categorical value, whatever the reader made of it: booleans as True/False (a bool column
    with nulls reads back from CSV as objects, not as a bool dtype), numbers as floats (1, 1.0 and "1" agree),
    other text as written ("yes" and "True" do not agree)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return repr(float(value))
    text = str(value)
    try:
        return repr(float(text)) if text.strip().lower() not in ("nan", "inf", "-inf", "infinity") else text
    except ValueError:
        return text


def _is_null(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def binned(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None, kinds: Mapping[str, str]):
    """`dpsynth_core.evaluation.Prepared` of the three tables after atom binning (every column categorical)."""
    binner = AtomBinner.fit(real, kinds)
    label_kinds = {c: ("identifier" if k == "identifier" else "categorical") for c, k in kinds.items()}
    return prepare(binner.transform(real, kinds), binner.transform(synthetic, kinds),
                   binner.transform(holdout, kinds) if holdout is not None else None, kinds=label_kinds)


def evaluate(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None, kinds: dict[str, str],
             target: str | None, max_sets: int | None = None, orders=(1, 2, 3)) -> dict:
    labels = binned(real, synthetic, holdout, kinds)
    out = {f"tvd{k}": _clean(mean_marginal_tvd(labels, k, max_sets=max_sets)[0]) for k in orders}
    if target is not None and holdout is not None:
        raw = prepare(normalize_categories(real, kinds), normalize_categories(synthetic, kinds),
                      normalize_categories(holdout, kinds), kinds=kinds, n_bins=N_BINS)
        tstr = train_synthetic_test_real(raw, target, seed=0)
        out.update(auc=_clean(tstr.auc_synthetic), auc_real=_clean(tstr.auc_real))
    return out


def column_tvds(real: pd.DataFrame, other: pd.DataFrame, kinds: dict[str, str]) -> dict[str, float]:
    """1-way TVD of every compared column between `real` and `other` (atom binning fitted on `real`)."""
    labels = binned(real, other, None, kinds)
    names = labels.discretizer.columns
    tvds = marginal_tvds(labels.real_codes, labels.synthetic_codes, labels.discretizer.sizes, 1)
    return {names[cols[0]]: round(float(v), 4) for cols, v in tvds.items()}


def _clean(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)
