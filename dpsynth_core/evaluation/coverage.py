"""Coverage checks (utility): rare-category preservation, novel categories, per-column range and null rate."""

from __future__ import annotations

from dataclasses import dataclass

from .prepared import Prepared

RARE_SHARE = 0.01


@dataclass(frozen=True)
class RareCategories:
    """`recall`: share of rare real categories (share < `RARE_SHARE` among a column's rows, nulls included in the
    denominator) that appear at least once in synthetic; `novel_rate`: share of synthetic categorical cells whose value
    never appears in real. NaN recall when real has no rare category."""

    n_rare: int
    n_rare_present: int
    recall: float
    novel_rate: float
    missing: tuple[tuple[str, str], ...]


def rare_categories(prepared: Prepared, rare_share: float = RARE_SHARE) -> RareCategories:
    n_rare = n_present = 0
    novel_cells = total_cells = 0
    missing = []
    for column in prepared.columns:
        if prepared.kinds[column] != "categorical":
            continue
        real, synth = prepared.real[column], prepared.synthetic[column]
        shares = real.value_counts(dropna=True) / max(len(real), 1)
        rare = shares.index[shares < rare_share]
        present = set(synth.dropna())
        n_rare += len(rare)
        hits = [v for v in rare if v in present]
        n_present += len(hits)
        missing.extend((column, str(v)) for v in rare if v not in present)
        non_null = synth.dropna()
        novel_cells += int((~non_null.isin(set(real.dropna()))).sum())
        total_cells += len(non_null)
    return RareCategories(
        n_rare=n_rare, n_rare_present=n_present,
        recall=n_present / n_rare if n_rare else float("nan"),
        novel_rate=novel_cells / total_cells if total_cells else 0.0,
        missing=tuple(missing[:20]),
    )


@dataclass(frozen=True)
class ColumnCheck:
    column: str
    out_of_range_rate: float   # share of non-null synthetic values outside [min, max] of real (numeric columns)
    null_rate_real: float
    null_rate_synthetic: float

    @property
    def null_rate_diff(self) -> float:
        return abs(self.null_rate_real - self.null_rate_synthetic)


def column_checks(prepared: Prepared) -> list[ColumnCheck]:
    out = []
    for column in prepared.columns:
        real, synth = prepared.real[column], prepared.synthetic[column]
        rate = 0.0
        if prepared.kinds[column] != "categorical":
            r = real.dropna().to_numpy("float64")
            s = synth.dropna().to_numpy("float64")
            if len(s):
                rate = float(((s < r.min()) | (s > r.max())).mean()) if len(r) else 1.0
        out.append(ColumnCheck(column, rate, float(real.isna().mean()), float(synth.isna().mean())))
    return out
