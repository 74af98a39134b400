"""DP data transform for the deep generators: rows <-> network vectors, fitted only from DP or public statistics.

Built from the lead's `TableDomain` (public or DP domains) and noisy 1-way histograms over each column's binning:
- categorical / boolean column: one-hot over the released domain's codes (values, `other`, null); the DP histogram
  gives the category frequencies used to draw conditional vectors;
- numeric / datetime column: a DP quantile transform with CTGAN-style modes. The CDF F is piecewise linear between
  public-or-DP knots (the domain's DP fine histogram when it has one, else its model bins with our noisy counts);
  u = F(clip(x, bounds)) in [0, 1] is split into `n_modes` equal-probability modes and encoded as
  [alpha (tanh scalar: position inside the mode), one-hot(mode, plus a null mode when nullable)].
Nothing here reads private values except `transform`, which maps each row independently (values outside the declared
or DP bounds are clipped, so they cannot move any fitted parameter). No `BayesianGaussianMixture.fit` on raw values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dpsynth_core.measurement.binning import CategoricalBinning
from dpsynth_core.measurement.pandas_engine import codes_of, to_epoch_seconds, to_numbers
from dpsynth_core.preprocessing.domains import ColumnDomain, TableDomain

# Mass added to every CDF piece (relative to the total) so F is strictly increasing and invertible.
_CDF_FLOOR = 1e-4


@dataclass(frozen=True)
class CategoricalSpan:
    """One-hot block of a categorical column: `size` codes, DP frequencies (sum to 1) for conditional vectors."""

    column: str
    size: int
    frequencies: tuple[float, ...]

    @property
    def dim(self) -> int:
        return self.size

    def blocks(self) -> list[tuple[int, str]]:
        return [(self.size, "softmax")]


@dataclass(frozen=True)
class NumericSpan:
    """Quantile-mode block of a numeric column: CDF knots (x ascending, u from 0 to 1) and the mode layout."""

    column: str
    x_knots: tuple[float, ...]
    u_knots: tuple[float, ...]
    n_modes: int
    nullable: bool
    atoms: tuple[float, ...] = ()       # the binning's atoms (point masses): jumps of the CDF
    atom_u: tuple[float, ...] = ()      # u in the middle of each atom's jump (where its rows are encoded)

    @property
    def dim(self) -> int:
        return 1 + self.n_modes + int(self.nullable)

    def blocks(self) -> list[tuple[int, str]]:
        return [(1, "tanh"), (self.n_modes + int(self.nullable), "softmax")]


def norm_sub(noisy_counts: np.ndarray, total: float | None) -> np.ndarray:
    """Non-negative counts summing to `total` (a DP estimate): subtract the constant c that makes
    sum(max(h - c, 0)) = total ("Norm-Sub", Wang et al. 2020). Clipping alone leaves every empty cell about 0.4 sigma
    of positive noise, which over many cells is a large spurious mass; subtracting c removes it. Post-processing.
    Without a total, or when the clipped counts already sum to at most it, just clip at 0."""
    h = np.asarray(noisy_counts, dtype=float)
    clipped = np.clip(h, 0, None)
    if total is None or not total > 0 or clipped.sum() <= total:
        return clipped
    low, high = 0.0, float(h.max())
    for _ in range(100):
        c = (low + high) / 2
        if np.clip(h - c, 0, None).sum() > total:
            low = c
        else:
            high = c
    return np.clip(h - high, 0, None)


def _floored(weights: np.ndarray) -> np.ndarray:
    total = weights.sum()
    return weights + (_CDF_FLOOR * total / len(weights) if total > 0 else 1.0)


def dp_cdf_knots(x_edges: np.ndarray, noisy_counts: np.ndarray, total: float | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Knots (x, u) of a piecewise-linear CDF from noisy bin counts.

    Norm-Sub to `total`, tiny floor; post-processing.
    """
    weights = _floored(norm_sub(noisy_counts, total))
    u = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    u[-1] = 1.0
    return np.asarray(x_edges, dtype=float), u


def with_atoms(x: np.ndarray, u: np.ndarray, atoms: tuple[float, ...], shares: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, tuple[float, ...]]:
    """CDF knots of a mixture: the continuous CDF (x, u) scaled to 1 - sum(shares), plus a jump of `shares[k]` at
    each atom (two knots at the same x). Returns (x, u, u at the middle of each jump). Post-processing."""
    cont = 1.0 - float(np.sum(shares))
    points = np.unique(np.concatenate([x, np.asarray(atoms, dtype=float)]))
    base = cont * np.interp(points, x, u)
    share_of = dict(zip(atoms, shares, strict=True))
    xs, us, mids, below = [], [], [], 0.0
    for p, f in zip(points, base, strict=True):
        xs.append(p)
        us.append(f + below)
        if p in share_of:
            s = float(share_of[p])
            mids.append(f + below + s / 2)
            below += s
            xs.append(p)
            us.append(f + below)
    out_u = np.asarray(us)
    out_u[-1] = 1.0
    return np.asarray(xs), out_u, tuple(mids)


def normalised_frequencies(noisy_counts: np.ndarray, total: float | None = None) -> np.ndarray:
    """Category frequencies from noisy counts: Norm-Sub to `total`, floored, summing to 1 (post-processing)."""
    weights = _floored(norm_sub(noisy_counts, total))
    return weights / weights.sum()


class DataTransformer:
    """Maps a frame of the domain's columns to float32 vectors and back. Immutable after construction."""

    def __init__(self, domain: TableDomain, spans: list):
        self.domain = domain
        self.spans = list(spans)
        self.dim = sum(s.dim for s in self.spans)
        self.blocks = [b for s in self.spans for b in s.blocks()]
        self.categorical = [(i, s) for i, s in enumerate(self.spans) if isinstance(s, CategoricalSpan)]
        self.cond_dim = sum(s.size for _, s in self.categorical)
        offsets, start = [], 0
        for span in self.spans:
            offsets.append(start)
            start += span.dim
        self.offsets = offsets

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_histograms(cls, domain: TableDomain, histograms: dict[str, np.ndarray], n_modes: int,
                        rows: float | None = None) -> "DataTransformer":
        """`histograms[name]`: noisy counts over `domain.column(name).binning` codes (DP; size = binning.size).

        `rows`: the DP (or public) row count used to de-bias the clipped noisy counts (see `norm_sub`).
        """
        spans = []
        for col in domain.columns:
            counts = np.asarray(histograms[col.name], dtype=float)
            if counts.shape != (col.size,):
                raise ValueError(f"column {col.name!r}: histogram of shape {counts.shape}, expected ({col.size},)")
            if isinstance(col.binning, CategoricalBinning):
                frequencies = normalised_frequencies(counts, rows)
                spans.append(CategoricalSpan(col.name, col.size, tuple(frequencies.tolist())))
            else:
                spans.append(cls._numeric_span(col, counts, n_modes, rows))
        return cls(domain, spans)

    @staticmethod
    def _numeric_span(col: ColumnDomain, counts: np.ndarray, n_modes: int, rows: float | None) -> NumericSpan:
        binning = col.binning
        bin_codes, atom_codes = binning.cell_codes()
        non_null = None
        if rows is not None:   # DP estimate of the non-null rows: the row count minus the noisy null count
            null_count = max(float(counts[binning.null_code]), 0.0) if binning.null_code is not None else 0.0
            non_null = max(rows - null_count, 1.0)
        atom_counts = np.clip(counts[list(atom_codes)], 0, None) if binning.atoms else np.zeros(0)
        bin_counts = counts[list(bin_codes)]
        continuous = None if non_null is None else max(non_null - float(atom_counts.sum()), 1.0)
        if col.fine_edges is not None:   # the domain's DP fine histogram (already paid for by the preprocessing)
            x, u = dp_cdf_knots(np.asarray(col.fine_edges), np.asarray(col.fine_weights), continuous)
        else:                            # model bins with our own noisy 1-way counts
            x, u = dp_cdf_knots(np.asarray(binning.edges), bin_counts, continuous)
        modes = max(1, min(n_modes, len(x) - 1))
        if not binning.atoms:
            return NumericSpan(col.name, tuple(x.tolist()), tuple(u.tolist()), modes, binning.nullable)
        mass = continuous if continuous is not None else max(float(np.clip(bin_counts, 0, None).sum()), 1.0)
        shares = atom_counts / (mass + float(atom_counts.sum()))
        x, u, mids = with_atoms(x, u, binning.atoms, shares)
        return NumericSpan(col.name, tuple(x.tolist()), tuple(u.tolist()), modes, binning.nullable, binning.atoms,
                           mids)

    # ---------------------------------------------------------------- rows -> vectors
    def transform(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(vectors (n, dim) float32, category codes (n, n_categorical) int64) — each row mapped on its own."""
        n = len(frame)
        out = np.zeros((n, self.dim), dtype=np.float32)
        cat_codes = np.zeros((n, len(self.categorical)), dtype=np.int64)
        k = 0
        for span, start, col in zip(self.spans, self.offsets, self.domain.columns, strict=True):
            series = frame[col.name].reset_index(drop=True)
            if isinstance(span, CategoricalSpan):
                codes = codes_of(series, col.binning)
                out[np.arange(n), start + codes] = 1.0
                cat_codes[:, k] = codes
                k += 1
            else:
                alpha, mode = self._encode_numeric(span, col, series)
                out[:, start] = alpha
                out[np.arange(n), start + 1 + mode] = 1.0
        return out, cat_codes

    @staticmethod
    def _encode_numeric(span: NumericSpan, col: ColumnDomain, series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        values = (to_epoch_seconds(series) if col.binning.datetime
                  else to_numbers(series)).to_numpy(dtype=float)
        is_null = np.isnan(values)
        x_knots, u_knots = np.asarray(span.x_knots), np.asarray(span.u_knots)
        x = np.clip(np.where(is_null, x_knots[0], values), x_knots[0], x_knots[-1])  # public/DP bounds only
        u = np.interp(x, x_knots, u_knots)
        # an atom's rows sit in the middle of its CDF jump
        for atom, mid in zip(span.atoms, span.atom_u, strict=True):
            u = np.where(~is_null & (values == atom), mid, u)
        mode = np.minimum(np.floor(u * span.n_modes), span.n_modes - 1).astype(np.int64)
        alpha = np.clip(2.0 * (u * span.n_modes - mode) - 1.0, -1.0, 1.0)
        if span.nullable:
            mode = np.where(is_null, span.n_modes, mode)
            alpha = np.where(is_null, 0.0, alpha)
        return alpha.astype(np.float32), mode

    # ---------------------------------------------------------------- vectors -> rows
    def decode(self, alphas: dict[str, np.ndarray], choices: dict[str, np.ndarray], rng: np.random.Generator
               ) -> pd.DataFrame:
        """Rows from per-column chosen codes/modes and tanh scalars (the caller samples the softmax blocks).

        `choices[name]`: category code (categorical) or mode index (numeric; n_modes = null); `alphas[name]` in [-1, 1].
        Categorical columns decode through the domain; numeric ones through the inverse DP CDF, typed like the domain.
        """
        codes = np.zeros((len(next(iter(choices.values()))) if choices else 0, len(self.spans)), dtype=np.int64)
        numeric_values: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for j, (span, col) in enumerate(zip(self.spans, self.domain.columns, strict=True)):
            if isinstance(span, CategoricalSpan):
                codes[:, j] = choices[span.column]
                continue
            mode = np.asarray(choices[span.column])
            is_null = mode >= span.n_modes
            position = (np.clip(alphas[span.column], -1.0, 1.0) + 1.0) / 2.0
            u = np.clip((np.minimum(mode, span.n_modes - 1) + position) / span.n_modes, 0.0, 1.0)
            x = np.interp(u, np.asarray(span.u_knots), np.asarray(span.x_knots))
            binning = col.binning
            bin_codes = binning.codes_for(x)
            codes[:, j] = np.where(is_null, binning.null_fallback, bin_codes)
            numeric_values[span.column] = (x, is_null)
        frame = self.domain.decode(codes, rng)
        for name, (x, is_null) in numeric_values.items():
            column = self.domain.column(name)
            atoms = getattr(column.binning, "atoms", ())
            frame[name] = column.typed_values(x, is_null, exact=np.isin(x, atoms) if atoms else None)
        return frame

    # ---------------------------------------------------------------- state (JSON only)
    def to_state(self) -> dict:
        spans = []
        for s in self.spans:
            if isinstance(s, CategoricalSpan):
                spans.append({"type": "categorical", "column": s.column, "size": s.size,
                              "frequencies": list(s.frequencies)})
            else:
                spans.append({"type": "numeric", "column": s.column, "x_knots": list(s.x_knots),
                              "u_knots": list(s.u_knots), "n_modes": s.n_modes, "nullable": s.nullable,
                              "atoms": list(s.atoms), "atom_u": list(s.atom_u)})
        return {"domain": self.domain.to_state(), "spans": spans}

    @classmethod
    def from_state(cls, state: dict) -> "DataTransformer":
        spans = []
        for s in state["spans"]:
            if s["type"] == "categorical":
                spans.append(CategoricalSpan(s["column"], int(s["size"]), tuple(s["frequencies"])))
            else:
                spans.append(NumericSpan(s["column"], tuple(s["x_knots"]), tuple(s["u_knots"]), int(s["n_modes"]),
                                         bool(s["nullable"]), tuple(s.get("atoms", ())), tuple(s.get("atom_u", ()))))
        return cls(TableDomain.from_state(state["domain"]), spans)


