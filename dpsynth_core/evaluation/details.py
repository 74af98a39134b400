"""Plot data of an evaluation: what a release report draws, as compact JSON-able numbers.

NOT differentially private, like every metric in this package: histograms, matrices and distance quantiles are exact
statistics of real rows (train sample and holdout). They belong next to the metrics, in the same private schema, and
the report that draws them is as sensitive as the metrics table.

Contents (`plot_details`):
- `columns`: per compared column, shares of real / holdout / synthetic rows on the same plot bins (categorical: the
  `max_categories` most frequent real values, the rest pooled; numeric: `n_bins` equal-width bins between the real
  1st and 99th percentiles, outer values folded into the end bins, or one bin per value for integer columns spanning
  at most `n_bins` values; nulls their own bin), with the column's 1-way TVD
  (bins of the metric, so these average to `marginal_tvd_1way`), worst column first;
- `tvd_2way`: TVD of every pair of columns, synthetic vs train and holdout vs train (the sampling-noise floor);
- `dependence`: the pairwise dependence matrices (Pearson for numeric pairs, Cramér's V otherwise) of real, synthetic
  and holdout;
- `dcr`: quantiles and a histogram of the synthetic rows' distance to their closest train and closest holdout row;
- `metrics`: each metric's detail (confidence intervals, holdout baselines...), which the metrics table does not keep.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .dependence import pair_dependence
from .marginals import marginal_tvds
from .prepared import Prepared

DETAILS_VERSION = 1
DIGITS = 4                      # shares and distances rounded to this many decimals (compact storage)
MAX_MATRIX_COLUMNS = 40         # matrices keep the first 40 compared columns (40 x 40 cells each)
DCR_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
NULL_LABEL = "<null>"


def _r(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else round(x, DIGITS)


def _shares(labels_of_rows: pd.Series, labels: Sequence[str]) -> list[float | None]:
    counts = labels_of_rows.value_counts()
    n = max(len(labels_of_rows), 1)
    return [_r(counts.get(label, 0) / n) for label in labels]


def _categorical_bins(p: Prepared, column: str, max_categories: int) -> tuple[list[str], Any]:
    """Plot labels (most frequent real values first, then `other (k)`, then null) and a row -> label function."""
    counts = p.real[column].value_counts()
    values = set(counts.index)
    for frame in (p.synthetic, p.holdout):
        if frame is not None:
            values |= set(frame[column].dropna())
    ranked = list(counts.index[:max_categories])
    rest = sorted(values - set(ranked), key=str)
    other = f"other ({len(rest)} values)" if rest else None
    keep = set(ranked)

    def label(series: pd.Series) -> pd.Series:
        out = series.astype(object).where(series.isin(keep), other)
        return out.where(series.notna(), NULL_LABEL)

    labels = [str(v) for v in ranked] + ([other] if other else []) + [NULL_LABEL]
    return labels, label


def _numeric_bins(p: Prepared, column: str, n_bins: int) -> tuple[list[str], list[float], Any]:
    real = p.real[column].to_numpy("float64")
    finite = real[~np.isnan(real)]
    lo, hi = (float(np.quantile(finite, 0.01)), float(np.quantile(finite, 0.99))) if len(finite) else (0.0, 1.0)
    if len(finite) and np.all(finite == np.round(finite)) and finite.max() - finite.min() + 1 <= n_bins:
        # few integer values: one bar per integer (labelled by the value) instead of fractional-width bins
        lo, hi = float(finite.min()), float(finite.max())
        edges = np.arange(lo - 0.5, hi + 1.0, 1.0)
        labels = [f"{v:.0f}" for v in np.arange(lo, hi + 1.0)] + [NULL_LABEL]
        return labels, [float(e) for e in edges], _labeller(edges, labels, lo)
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, n_bins + 1)
    labels = [f"[{a:.4g}, {b:.4g})" for a, b in zip(edges[:-1], edges[1:], strict=True)] + [NULL_LABEL]
    return labels, [float(e) for e in edges], _labeller(edges, labels, lo)


def _labeller(edges: np.ndarray, labels: Sequence[str], lo: float):
    """Row -> plot label; values outside the edges fall in the end bins, nulls in the null bin."""
    n_bins = len(edges) - 1

    def label(series: pd.Series) -> pd.Series:
        x = series.to_numpy("float64")
        idx = np.clip(np.searchsorted(edges[1:-1], np.where(np.isnan(x), lo, x), side="right"), 0, n_bins - 1)
        out = np.asarray(labels, dtype=object)[idx]
        out[np.isnan(x)] = NULL_LABEL
        return pd.Series(out)

    return label


def column_histograms(p: Prepared, max_categories: int = 20, n_bins: int = 20) -> list[dict[str, Any]]:
    """Per column: shares of real, holdout and synthetic rows on the same bins; worst 1-way TVD first."""
    names = p.discretizer.columns
    sizes = p.discretizer.sizes
    tvd_synth = marginal_tvds(p.real_codes, p.synthetic_codes, sizes, 1)
    tvd_hold = marginal_tvds(p.real_codes, p.holdout_codes, sizes, 1) if p.holdout is not None else {}
    out = []
    for j, column in enumerate(names):
        kind = p.kinds[column]
        entry: dict[str, Any] = {"column": column, "kind": kind}
        if kind == "categorical":
            labels, label = _categorical_bins(p, column, max_categories)
        else:
            labels, edges, label = _numeric_bins(p, column, n_bins)
            entry["edges"] = [_r(e) for e in edges]
        # drop the null bin when no table has a null
        if not any(t[column].isna().any() for t in (p.real, p.synthetic, p.holdout) if t is not None):
            labels = labels[:-1]
        entry["bins"] = labels
        entry["real"] = _shares(label(p.real[column]), labels)
        entry["synthetic"] = _shares(label(p.synthetic[column]), labels)
        entry["holdout"] = _shares(label(p.holdout[column]), labels) if p.holdout is not None else None
        entry["tvd"] = _r(tvd_synth[(j,)])
        entry["tvd_holdout"] = _r(tvd_hold[(j,)]) if tvd_hold else None
        out.append(entry)
    return sorted(out, key=lambda e: -(e["tvd"] or 0.0))


def _pair_matrix(columns: Sequence[str], value) -> list[list[float | None]]:
    d = len(columns)
    m: list[list[float | None]] = [[None] * d for _ in range(d)]
    for i, j in itertools.combinations(range(d), 2):
        m[i][j] = m[j][i] = _r(value(i, j))
    return m


def tvd_2way_matrix(p: Prepared) -> dict[str, Any]:
    """TVD of each pair's 2-way histogram: synthetic vs train, and holdout vs train."""
    columns = p.discretizer.columns[:MAX_MATRIX_COLUMNS]
    codes = {"synthetic": p.synthetic_codes[:, :len(columns)], "holdout": p.holdout_codes}
    sizes = p.discretizer.sizes[:len(columns)]
    real = p.real_codes[:, :len(columns)]
    out: dict[str, Any] = {"columns": columns}
    for which in ("synthetic", "holdout"):
        if codes[which] is None:
            out[which] = None
            continue
        tvds = marginal_tvds(real, codes[which][:, :len(columns)], sizes, 2)
        out[which] = _pair_matrix(columns, lambda i, j, tvds=tvds: tvds[(i, j)])
    return out


def dependence_matrices(p: Prepared) -> dict[str, Any]:
    """Pairwise dependence of real, synthetic and holdout (Pearson when both columns are numeric, else Cramér's V)."""
    columns = p.columns[:MAX_MATRIX_COLUMNS]
    numeric = [p.kinds[c] in ("numeric", "datetime") for c in columns]
    out: dict[str, Any] = {"columns": columns, "numeric": numeric,
                           "rule": "Pearson correlation when both columns are numeric, else Cramér's V"}
    for which in ("real", "synthetic", "holdout"):
        if getattr(p, which) is None:
            out[which] = None
            continue
        m = _pair_matrix(columns, lambda i, j, which=which: pair_dependence(p, columns[i], columns[j], which))
        for i in range(len(columns)):
            m[i][i] = 1.0
        out[which] = m
    return out


def dcr_summary(d_train: np.ndarray, d_holdout: np.ndarray, n_bins: int = 20) -> dict[str, Any]:
    """Quantiles and a shared-bin histogram of distances to the closest train row and to the closest holdout row."""
    top = float(max(np.quantile(d_train, 0.99), np.quantile(d_holdout, 0.99), 1e-12))
    edges = np.linspace(0.0, top, n_bins + 1)

    def hist(d: np.ndarray) -> list[float | None]:
        counts = np.histogram(np.minimum(d, top), bins=edges)[0]
        return [_r(c / max(len(d), 1)) for c in counts]

    return {"n": int(len(d_train)), "quantiles": list(DCR_QUANTILES),
            "to_train": [_r(np.quantile(d_train, q)) for q in DCR_QUANTILES],
            "to_holdout": [_r(np.quantile(d_holdout, q)) for q in DCR_QUANTILES],
            "exact_match_share_train": _r(float(np.mean(d_train == 0))),
            "exact_match_share_holdout": _r(float(np.mean(d_holdout == 0))),
            "edges": [_r(e) for e in edges], "hist_train": hist(d_train), "hist_holdout": hist(d_holdout)}


def plot_details(p: Prepared, results: Sequence[Any], dcr_distances: tuple[np.ndarray, np.ndarray] | None = None
                 ) -> dict[str, Any]:
    """Everything a release report draws (see module doc), JSON-able and compact."""
    return {
        "version": DETAILS_VERSION,
        "differentially_private": False,
        "rows": {"train": int(len(p.real)), "holdout": None if p.holdout is None else int(len(p.holdout)),
                 "synthetic": int(len(p.synthetic))},
        "columns": column_histograms(p),
        "tvd_2way": tvd_2way_matrix(p) if len(p.columns) > 1 else None,
        "dependence": dependence_matrices(p) if len(p.columns) > 1 else None,
        "dcr": dcr_summary(*dcr_distances) if dcr_distances is not None else None,
        "metrics": {r.metric: dict(r.detail) for r in results},
    }
