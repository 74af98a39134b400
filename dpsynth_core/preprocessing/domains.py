"""Column domains: how each column is coded for the generators and decoded back into values.

`resolve_domains` builds them from the spec. Declared (public) categories and bounds cost nothing. Anything else is
found with DP through `PrivateTable`, charged to the release budget:
- categories: thresholded noisy counts (`PrivateTable.discover_categories`);
- numeric bounds: a noisy histogram over a fixed public grid (signed powers of two; years for datetimes), keeping the
  outermost bins whose noisy count clears 4 sigma;
- integrality of float columns: one noisy count of values with a fractional part (then values are rounded);
- bin edges and within-bin shape: a noisy fine histogram inside the bounds; model bins are its DP quantiles and the
  sampler draws within a bin from the fine histogram (so continuous values are not bin midpoints).
Nothing here calls min/max/unique/quantile on private values.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..accounting.budget import PrivacyBudget
from ..accounting.zcdp import sigma_for_rho
from ..errors import ConfigError, InputError
from ..measurement.binning import Binning, CategoricalBinning, NumericBinning
from ..measurement.engine import SourceColumn, TypeFamily
from ..measurement.private_table import PrivateTable
from ..schema import ColumnKind, ColumnSpec, TableSpec
from ..spec_types import coerce_category

# Public grid for bounds discovery: signed powers of two from 2^-10 to 2^40 around a small bin holding zero.
_POW2 = [2.0 ** k for k in range(-10, 41)]
MAGNITUDE_EDGES: tuple[float, ...] = tuple([-e for e in reversed(_POW2)] + _POW2)
# Public grid for datetimes: 1 January of every year 1800..2200 (UTC epoch seconds).
YEAR_EDGES: tuple[float, ...] = tuple(
    float((_dt.datetime(y, 1, 1, tzinfo=_dt.timezone.utc) - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc))
          .total_seconds()) for y in range(1800, 2201))
_SIGNIFICANT_SIGMAS = 4.0


@dataclass(frozen=True)
class PreprocessOptions:
    max_categories: int = 100        # after thresholding, keep at most this many (largest noisy counts)
    n_bins: int = 32                 # model bins for continuous/datetime and wide integer columns
    max_integer_bins: int = 64       # integer ranges up to this size get one bin per integer
    fine_bins: int = 512             # resolution of the fine histogram used for edges and within-bin sampling


@dataclass(frozen=True)
class ColumnDomain:
    """One modelled column: its binning (engine-facing) and how to decode codes back into values."""

    name: str
    kind: ColumnKind
    binning: Binning
    source_type: str = ""                            # public type name and family (from the engine's dialect)
    source_family: str = TypeFamily.OTHER.value
    fine_edges: tuple[float, ...] | None = None     # public-or-DP fine grid inside the model bins
    fine_weights: tuple[float, ...] | None = None   # DP (noisy, clipped at 0) counts of the fine grid
    discovered: bool = False                        # True when the domain came from a DP mechanism
    integral: bool = False                          # a float column that holds integers (declared or DP-measured)

    @property
    def rounds(self) -> bool:
        return self.kind == ColumnKind.INTEGER or self.integral

    @property
    def size(self) -> int:
        return self.binning.size

    @property
    def labels(self) -> list[str]:
        b = self.binning
        if isinstance(b, CategoricalBinning):
            out = [str(v) for v in b.values]
        else:
            out = [f"[{lo:g},{hi:g})" for lo, hi in zip(b.edges, b.edges[1:])]
        if getattr(b, "other_code", None) is not None:
            out.append("<other>")
        if b.null_code is not None:
            out.append("<null>")
        return out

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        codes = np.asarray(codes, dtype=np.int64)
        b = self.binning
        if isinstance(b, CategoricalBinning):
            values = np.empty(len(codes), dtype=object)
            in_domain = codes < len(b.values)
            values[in_domain] = np.asarray(b.values, dtype=object)[codes[in_domain]]
            values[~in_domain] = None  # `other` (never-released values) and null both decode to null
            if not b.nullable and (~in_domain).any() and in_domain.any():
                # a non-nullable column: give `other` rows a released value, drawn like the batch's in-domain rows
                values[~in_domain] = rng.choice(values[in_domain], size=int((~in_domain).sum()))
            series = pd.Series(values, name=self.name, dtype=object)
            if self.kind == ColumnKind.BOOLEAN:
                return series.astype("boolean")
            return series
        is_null = codes >= b.n_bins
        bins = np.where(is_null, 0, codes)
        return self.typed_values(self._within_bin(bins, rng), is_null)

    def typed_values(self, x: np.ndarray, is_null: np.ndarray) -> pd.Series:
        """Numeric values (in the binning's unit) -> the column's output type: clipped into the domain's bounds,
        rounded for integer and integral columns, datetimes from epoch seconds, nulls where `is_null`."""
        b = self.binning
        lo, hi = b.edges[0], b.edges[-1]
        if self.rounds:
            x = np.clip(np.round(x), math.ceil(lo), math.floor(hi))
        else:
            x = np.clip(x, lo, hi)
        if self.kind == ColumnKind.INTEGER:
            series = pd.Series(x, name=self.name).astype("Int64")
            series[is_null] = pd.NA
            return series
        if self.kind == ColumnKind.DATETIME:
            ts = pd.to_datetime(pd.Series(np.where(is_null, np.nan, x)), unit="s", utc=True).dt.tz_localize(None)
            if self.source_family == TypeFamily.DATE.value:
                ts = ts.dt.normalize()
            return ts.rename(self.name)
        return pd.Series(np.where(is_null, np.nan, x), name=self.name, dtype=float)

    def _within_bin(self, bins: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw a value inside each model bin: from the DP fine histogram when there is one, else uniformly."""
        edges = np.asarray(self.binning.edges, dtype=float)
        lo, hi = edges[bins], edges[bins + 1]
        if self.fine_edges is None:
            if self.rounds:  # uniform over the integers inside the bin
                a = np.ceil(lo)
                c = np.maximum(np.floor(hi - 1e-9), a)
                return a + np.floor(rng.random(len(bins)) * (c - a + 1))
            return lo + rng.random(len(bins)) * (hi - lo)
        fe = np.asarray(self.fine_edges, dtype=float)
        fw = np.asarray(self.fine_weights, dtype=float)
        fine_mid = (fe[:-1] + fe[1:]) / 2
        fine_bin_of = np.searchsorted(edges[1:-1], fine_mid, side="right")  # which model bin each fine bin is in
        out = np.empty(len(bins))
        for model_bin in np.unique(bins):
            rows = np.flatnonzero(bins == model_bin)
            members = np.flatnonzero(fine_bin_of == model_bin)
            weights = fw[members] if members.size else np.array([])
            if members.size == 0 or weights.sum() <= 0:
                out[rows] = edges[model_bin] + rng.random(rows.size) * (edges[model_bin + 1] - edges[model_bin])
                continue
            pick = members[rng.choice(members.size, size=rows.size, p=weights / weights.sum())]
            out[rows] = fe[pick] + rng.random(rows.size) * (fe[pick + 1] - fe[pick])
        return out

    def to_state(self) -> dict[str, Any]:
        b = self.binning
        state: dict[str, Any] = {"name": self.name, "kind": self.kind.value, "source_type": self.source_type,
                                 "source_family": self.source_family, "discovered": self.discovered,
                                 "integral": self.integral}
        if isinstance(b, CategoricalBinning):
            state["binning"] = {"type": "categorical", "values": list(b.values), "has_other": b.has_other,
                                "nullable": b.nullable}
        else:
            state["binning"] = {"type": "numeric", "edges": list(b.edges), "nullable": b.nullable,
                                "datetime": b.datetime}
        if self.fine_edges is not None:
            state["fine_edges"], state["fine_weights"] = list(self.fine_edges), list(self.fine_weights)
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "ColumnDomain":
        raw = state["binning"]
        if raw["type"] == "categorical":
            binning: Binning = CategoricalBinning(state["name"], tuple(raw["values"]), raw["has_other"],
                                                  raw["nullable"])
        else:
            binning = NumericBinning(state["name"], tuple(raw["edges"]), raw["nullable"], raw["datetime"])
        fine_e = state.get("fine_edges")
        return cls(state["name"], ColumnKind(state["kind"]), binning, state.get("source_type", ""),
                   state.get("source_family", TypeFamily.OTHER.value),
                   tuple(fine_e) if fine_e is not None else None,
                   tuple(state["fine_weights"]) if fine_e is not None else None, state.get("discovered", False),
                   state.get("integral", False))


@dataclass(frozen=True)
class TableDomain:
    """Modelled columns (in relation order) plus identifier columns (never learned, filled with surrogate keys)."""

    relation: str
    columns: tuple[ColumnDomain, ...]
    identifiers: tuple[tuple[str, str], ...] = ()   # (name, source type family)
    column_order: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def attrs(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(c.size for c in self.columns)

    def column(self, name: str) -> ColumnDomain:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def decode(self, codes: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        """Codes (n, d) in `attrs` order -> a DataFrame in the relation's column order with surrogate identifiers."""
        n = codes.shape[0]
        data = {c.name: c.decode(codes[:, j], rng).reset_index(drop=True) for j, c in enumerate(self.columns)}
        for name, family in self.identifiers:  # fresh surrogate keys: nothing from the source identifiers survives
            data[name] = surrogate_keys(TypeFamily(family), 1, n)
        order = self.column_order or tuple(data)
        return pd.DataFrame({name: data[name] for name in order})

    def to_state(self) -> dict[str, Any]:
        return {"relation": self.relation, "columns": [c.to_state() for c in self.columns],
                "identifiers": [list(i) for i in self.identifiers], "column_order": list(self.column_order),
                "warnings": list(self.warnings)}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "TableDomain":
        return cls(state["relation"], tuple(ColumnDomain.from_state(c) for c in state["columns"]),
                   tuple(tuple(i) for i in state["identifiers"]), tuple(state["column_order"]),
                   tuple(state.get("warnings", ())))


def surrogate_keys(family: TypeFamily, first: int, n: int) -> pd.Series:
    """Surrogate keys first, first+1, ..., first+n-1 for an identifier column: integers for an integer family, else
    text "syn-00000001"... (chunked samplers pass each chunk's first row so keys stay unique across chunks)."""
    if family.is_integer:
        return pd.Series(np.arange(first, first + n), dtype="Int64")
    return pd.Series([f"syn-{i:08d}" for i in range(first, first + n)], dtype=object)


# --------------------------------------------------------------------------------------------------------------------
# Resolution
# --------------------------------------------------------------------------------------------------------------------

def _stages(spec: ColumnSpec) -> list[str]:
    """DP measurements a column needs before modelling (planned up front so the preprocessing budget is split fairly)."""
    if spec.kind == ColumnKind.CATEGORICAL and spec.categories is None:
        return ["discover_categories"]
    if not spec.kind.is_numeric:
        return []
    stages = [] if spec.lower is not None else ["discover_bounds"]
    if isinstance(spec.bins, tuple) or isinstance(spec.bins, int):
        return stages                      # declared bins: equal-width or explicit edges, uniform within bins
    if spec.kind == ColumnKind.INTEGER and spec.lower is not None:
        if spec.upper - spec.lower + 1 <= 64:
            return stages                  # small declared integer range: one bin per integer, nothing to learn
    if spec.kind == ColumnKind.CONTINUOUS:
        stages = ["integrality"] + stages   # float columns often hold integers (a CSV int column with nulls)
    return stages + ["fine_histogram"]


def _significant_range(counts: np.ndarray, sigma: float) -> tuple[int, int] | None:
    """Indices of the first and last bins whose noisy count clears 4 sigma (None if none does)."""
    hits = np.flatnonzero(counts > _SIGNIFICANT_SIGMAS * sigma)
    if hits.size == 0:
        return None
    return int(hits[0]), int(hits[-1])


def _onset(counts: np.ndarray, sigma: float, drift: float = 1.0, alarm: float = 5.0) -> int | None:
    """First bin where real mass starts: a one-sided CUSUM on noisy counts (post-processing).

    S_k = max(0, S_{k-1} + c_k - drift*sigma) raises an alarm when S_k > alarm*sigma; the onset is where the run that
    raised it began. Empty bins pull S back to 0, so a long empty stretch does not inflate the threshold (unlike a
    plain cumulative sum), while a long thin tail (many bins each above drift*sigma) still accumulates.
    """
    s = 0.0
    start = 0
    for k, c in enumerate(counts):
        if s == 0.0:
            start = k
        s = max(0.0, s + float(c) - drift * sigma)
        if s > alarm * sigma:
            # a run can start on a noise bump just before the data: begin at its first bin over 2 sigma
            while start < k and counts[start] <= 2 * drift * sigma:
                start += 1
            return start
    return None


def _occupied_range(counts: np.ndarray, sigma: float) -> tuple[int, int] | None:
    """First/last bins of the occupied range, by CUSUM from each end (see `_onset`)."""
    lo = _onset(counts, sigma)
    hi = _onset(counts[::-1], sigma)
    if lo is None or hi is None:
        return None
    hi = len(counts) - 1 - hi
    return (lo, hi) if lo <= hi else None


def _integer_edges(lo: int, hi: int) -> tuple[float, ...]:
    return tuple(float(v) - 0.5 for v in range(lo, hi + 2))


def _fine_grid(lo: float, hi: float, as_integer: bool, n: int) -> tuple[float, ...]:
    if as_integer:
        ilo, ihi = math.ceil(lo), math.floor(hi)
        if ihi - ilo + 1 <= n:
            return _integer_edges(ilo, ihi)
        lo, hi = ilo - 0.5, ihi + 0.5
    if lo >= 0 and hi / max(lo, 1e-300) > 1000:
        # spans orders of magnitude (heavy tail): geometric grid so the bulk is not squeezed into one fine bin
        start = max(lo, hi * 1e-6)
        inner = np.geomspace(start, hi, n)
        return tuple(np.unique(np.concatenate([[lo], inner])).tolist())
    return tuple(np.linspace(lo, hi, n + 1).tolist())


def _mass_range(counts: np.ndarray, sigma: float) -> tuple[int, int] | None:
    """Fine-bin index range holding the data: the union of spread-out mass (CUSUM on bins merged to a signal-bearing
    resolution) and single spikes (fine bins over 4 sigma, e.g. a discrete value such as a severity level)."""
    n = len(counts)
    m = _merge_factor(counts, sigma)
    starts = np.arange(0, n, m)
    ranges = []
    merged = np.add.reduceat(counts, starts)
    merged_sigma = sigma * math.sqrt(m)
    spread = _occupied_range(merged, merged_sigma)
    if spread is not None:
        b0, b1 = spread
        while b0 < b1 and merged[b0] <= 2 * merged_sigma:   # drop edge blocks that hold nothing significant
            b0 += 1
        while b1 > b0 and merged[b1] <= 2 * merged_sigma:
            b1 -= 1
        lo, hi = b0 * m, min((b1 + 1) * m, n) - 1
        # refine inside the outer merged blocks: start/stop at the first/last fine bin over 3 sigma in them, if any
        # (a block can be much wider than the data in it, e.g. 32 years around 6 years of accident dates)
        tail_start = max(hi - m + 1, lo)
        first = np.flatnonzero(counts[lo:min(lo + m, hi + 1)] > 3 * sigma)
        last = np.flatnonzero(counts[tail_start:hi + 1] > 3 * sigma)
        if first.size:
            lo = lo + int(first[0])
        if last.size:
            hi = max(tail_start + int(last[-1]), lo)
        ranges.append((lo, hi))
    spikes = _significant_range(counts, sigma)
    if spikes is not None:
        ranges.append(spikes)
    if not ranges:
        return None
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def _merge_factor(counts: np.ndarray, sigma: float) -> int:
    n_fine = len(counts)
    total = max(float(counts.sum()), 1.0)   # unbiased: clipping first would add ~0.4 sigma per empty bin
    target = int(np.clip(total / (8 * sigma), min(8, n_fine), n_fine))
    return max(1, math.ceil(n_fine / target))


def _merge_to_signal(edges: np.ndarray, counts: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Merge runs of adjacent noisy bins (post-processing) until a bin expects ~8 sigma of mass.

    The fine grid is measured at a fixed resolution; with few rows or much noise most fine bins would be pure noise and
    per-bin significance tests would cut off a long, thin tail. Merging m bins keeps their summed signal and grows the
    noise only to sigma * sqrt(m). The number of bins kept is the noisy total / (8 sigma), between 8 and the fine count.
    Returns (edges, counts, noise std of a merged bin).
    """
    n_fine = len(counts)
    m = _merge_factor(counts, sigma)
    if m == 1:
        return edges, counts, sigma
    starts = np.arange(0, n_fine, m)
    return np.append(edges[starts], edges[-1]), np.add.reduceat(counts, starts), sigma * math.sqrt(m)


def _quantile_edges(fine_edges: np.ndarray, weights: np.ndarray, n_bins: int, integer: bool) -> tuple[float, ...]:
    """Model bin edges at the DP quantiles of the (noisy) fine histogram, interpolated linearly inside fine bins.

    Post-processing only. Integer columns get edges on half-integers so each bin holds whole integers.
    """
    lo, hi = float(fine_edges[0]), float(fine_edges[-1])
    total = weights.sum()
    if total <= 0:
        inner = np.linspace(lo, hi, n_bins + 1)[1:-1]
    else:
        cdf = np.concatenate([[0.0], np.cumsum(weights) / total])
        inner = np.interp(np.linspace(0, 1, n_bins + 1)[1:-1], cdf, fine_edges)
    if integer:
        inner = np.floor(inner) + 0.5
    edges = np.unique(np.concatenate([[lo], inner, [hi]]))
    return tuple(float(e) for e in edges if lo <= e <= hi)


def resolve_domains(private: PrivateTable, spec: TableSpec, budget: PrivacyBudget, delta_threshold: float,
                    options: PreprocessOptions = PreprocessOptions()) -> TableDomain:
    """Resolve every column's domain, spending at most `budget` (a node of the release's budget tree; and
    `delta_threshold` in total) on DP discovery. The measurements each column needs are planned from the spec (public)
    first, and the node's rho is split evenly over them."""
    types = {c.name: c for c in private.schema()}
    plan = {c.name: _stages(c) for c in spec.columns if c.kind != ColumnKind.IDENTIFIER}
    n_measurements = sum(len(s) for s in plan.values())
    n_thresholded = sum(s.count("discover_categories") for s in plan.values())
    rho = budget.rho_total
    if n_measurements and rho <= 0:
        needing = [c for c, s in plan.items() if s]
        raise ConfigError(f"columns {needing} have no public domain and the preprocessing budget is zero.",
                          table=spec.name, column=needing[0],
                          fix="declare categories/bounds for them in the column spec, or give preprocessing a share "
                              "of epsilon (setting domain_share > 0).")
    sigma = sigma_for_rho(rho / n_measurements) if n_measurements else None
    delta_each = delta_threshold / n_thresholded if n_thresholded else 0.0
    domains: list[ColumnDomain] = []
    identifiers: list[tuple[str, str]] = []
    warnings: list[str] = []
    for col in spec.columns:
        source = types.get(col.name) or SourceColumn(col.name, "", TypeFamily.OTHER)
        if col.kind == ColumnKind.IDENTIFIER:
            identifiers.append((col.name, source.family.value))
            continue
        if col.kind == ColumnKind.BOOLEAN:
            domains.append(ColumnDomain(col.name, col.kind, CategoricalBinning(col.name, (False, True), False,
                                                                               col.nullable),
                                        source.type, source.family.value))
        elif col.kind == ColumnKind.CATEGORICAL:
            domains.append(_categorical(private, budget, col, source, sigma, delta_each, options, warnings))
        else:
            domains.append(_numeric(private, budget, col, source, sigma, options, warnings))
    if not domains:
        raise InputError("no column can be modelled (all are identifiers).", table=spec.name,
                         fix="declare at least one non-identifier column.")
    return TableDomain(spec.name, tuple(domains), tuple(identifiers), tuple(c.name for c in spec.columns),
                       tuple(warnings))


def _categorical(private, budget, col, source, sigma, delta_each, options, warnings) -> ColumnDomain:
    if col.categories is not None:
        values = tuple(coerce_category(v, source.family) for v in col.categories)
        return ColumnDomain(col.name, col.kind, CategoricalBinning(col.name, values, True, col.nullable),
                            source.type, source.family.value)
    noisy = private.discover_categories(col.name, sigma, delta_each, step=f"domain:{col.name}",
                                        max_categories=options.max_categories, budget=budget)
    if not noisy:
        warnings.append(f"column {col.name!r}: no category cleared the DP threshold; it will be all null. Declare "
                        f"its categories, raise epsilon, or mark it as an identifier.")
    values = tuple(sorted(noisy, key=lambda v: (str(type(v)), v)))
    return ColumnDomain(col.name, col.kind, CategoricalBinning(col.name, values, True, col.nullable), source.type,
                        source.family.value, discovered=True)


def _measure_integrality(private, budget, col, sigma) -> bool:
    """DP test of 'this float column holds integers': one noisy count of integral vs fractional non-null values."""
    counts = private.measure([NumericBinning(col.name, (0.0, 1e-9, 1.0), True, fractional=True)], sigma,
                             step=f"integrality:{col.name}", budget=budget)
    integral, fractional = float(counts[0]), float(counts[1])
    return integral > _SIGNIFICANT_SIGMAS * sigma and fractional < max(_SIGNIFICANT_SIGMAS * sigma, 0.01 * integral)


def _numeric(private, budget, col, source, sigma, options, warnings) -> ColumnDomain:
    is_dt = col.kind == ColumnKind.DATETIME
    stages = _stages(col)
    integral = "integrality" in stages and _measure_integrality(private, budget, col, sigma)
    as_int = col.kind == ColumnKind.INTEGER or integral
    if col.lower is not None:
        lo, hi = col.lower, col.upper
    else:
        grid = YEAR_EDGES if is_dt else MAGNITUDE_EDGES
        counts = private.measure([NumericBinning(col.name, grid, True, is_dt)], sigma, step=f"bounds:{col.name}",
                                 budget=budget)
        found = _significant_range(counts[:-1], sigma)
        if found is None:
            warnings.append(f"column {col.name!r}: no value range cleared the DP threshold; using the widest grid "
                            f"bin. Declare lower/upper for it.")
            lo, hi = grid[0], grid[-1]
        else:
            lo, hi = grid[found[0]], grid[found[1] + 1]
            if found[0] == 0 or found[1] + 2 == len(grid):   # post-processing of the noisy histogram: public
                edge = "1800-2200" if is_dt else "+-2^40"
                warnings.append(f"column {col.name!r}: values reach the edge of the public bounds grid ({edge}); "
                                f"values beyond it are clipped to it. Declare lower/upper for it.")
        if as_int:  # grid bins are [a, b): the integers inside are ceil(a) .. ceil(b) - 1
            lo, hi = math.ceil(lo), max(math.ceil(hi) - 1, math.ceil(lo))
    fine_edges = fine_weights = None
    if isinstance(col.bins, tuple):
        edges = col.bins
    elif isinstance(col.bins, int):
        if as_int and math.floor(hi) - math.ceil(lo) + 1 <= col.bins:
            edges = _integer_edges(math.ceil(lo), math.floor(hi))
        else:
            edges = tuple(np.linspace(lo, hi, col.bins + 1).tolist())
    elif as_int and math.floor(hi) - math.ceil(lo) + 1 <= options.max_integer_bins \
            and "fine_histogram" not in stages:
        edges = _integer_edges(math.ceil(lo), math.floor(hi))
    else:
        fine = np.asarray(_fine_grid(lo, hi, as_int, options.fine_bins))
        counts = private.measure([NumericBinning(col.name, tuple(fine), True, is_dt)], sigma,
                                 step=f"histogram:{col.name}", budget=budget)[:-1].astype(float)
        found = _mass_range(counts, sigma)
        if found is not None and col.lower is None:   # trim DP bounds to where the mass is (declared bounds stay)
            fine = fine[found[0]:found[1] + 2]
            counts = counts[found[0]:found[1] + 1]
        fine, counts, merged_sigma = _merge_to_signal(fine, counts, sigma)
        # Bins under 1 sigma are mostly noise; zero them so empty bins do not add spurious mass (clipping at 0
        # alone would add ~0.4 sigma per empty bin).
        weights = np.where(counts > merged_sigma, counts, 0.0)
        lo, hi = float(fine[0]), float(fine[-1])
        if as_int and math.floor(hi) - math.ceil(lo) + 1 <= options.max_integer_bins:
            edges = _integer_edges(math.ceil(lo), math.floor(hi))
        else:
            edges = _quantile_edges(fine, weights, options.n_bins, as_int)
            fine_edges, fine_weights = tuple(fine.tolist()), tuple(weights.tolist())
    return ColumnDomain(col.name, col.kind, NumericBinning(col.name, tuple(float(e) for e in edges), col.nullable,
                                                           is_dt), source.type, source.family.value,
                        fine_edges, fine_weights,
                        discovered=col.lower is None, integral=integral)
