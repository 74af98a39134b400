"""Public grids and post-processing of noisy histograms for DP domain discovery (no data is read here).

- `MAGNITUDE_EDGES`: signed powers of two from 2^-10 to 2^40 around a small bin holding zero (numeric bounds);
- `YEAR_EDGES`: 1 January of every year 1800..2200 in UTC epoch seconds (datetime bounds);
- significance, CUSUM onset and merging rules that turn noisy counts into a range or bin edges.
"""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np

_POW2 = [2.0 ** k for k in range(-10, 41)]
MAGNITUDE_EDGES: tuple[float, ...] = tuple([-e for e in reversed(_POW2)] + _POW2)
YEAR_EDGES: tuple[float, ...] = tuple(
    float((_dt.datetime(y, 1, 1, tzinfo=_dt.timezone.utc) - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc))
          .total_seconds()) for y in range(1800, 2201))
SIGNIFICANT_SIGMAS = 4.0
ZERO_BIN = 2.0 ** -10       # the grid bin [-ZERO_BIN, ZERO_BIN) holds zero


def significant_range(counts: np.ndarray, sigma: float) -> tuple[int, int] | None:
    """Indices of the first and last bins whose noisy count clears 4 sigma (None if none does)."""
    hits = np.flatnonzero(counts > SIGNIFICANT_SIGMAS * sigma)
    if hits.size == 0:
        return None
    return int(hits[0]), int(hits[-1])


def supported_range(counts: np.ndarray, sigma: float, alone: float = 5.0, neighbour: float = 2.0
                    ) -> tuple[int, int] | None:
    """Like `significant_range`, but a bin over 4 sigma counts only if it is over `alone` sigma or a neighbouring bin
    is over `neighbour` sigma. Over a grid of ~100 empty bins, some bin exceeds 4 sigma by noise alone in ~0.3% of
    runs (and would stretch the bounds to 2^38); over 5 sigma, in ~3e-5 of them."""
    c = np.asarray(counts, dtype=float)
    hits = c > SIGNIFICANT_SIGMAS * sigma
    left = np.concatenate([[False], c[:-1] > neighbour * sigma])
    right = np.concatenate([c[1:] > neighbour * sigma, [False]])
    kept = np.flatnonzero(hits & ((c > alone * sigma) | left | right))
    if kept.size == 0:
        return None
    return int(kept[0]), int(kept[-1])


def connected_range(counts: np.ndarray, sigma: float, supported: tuple[int, int] | None,
                    cusum: tuple[int, int] | None) -> tuple[int, int] | None:
    """The occupied range from bins that stand out (`supported_range`) and a CUSUM range (`occupied_range`): the
    supported bins extended outwards, within the CUSUM range, over contiguous bins above 1 sigma (a CUSUM run can
    start several bins early on one noise bump); without supported bins, the CUSUM range without edge bins at or
    under 2 sigma."""
    c = np.asarray(counts, dtype=float)
    if cusum is None:
        return supported
    if supported is None:
        lo, hi = cusum
        while lo < hi and c[lo] <= 2 * sigma:
            lo += 1
        while hi > lo and c[hi] <= 2 * sigma:
            hi -= 1
        return lo, hi
    lo, hi = supported
    while lo > cusum[0] and c[lo - 1] > sigma:
        lo -= 1
    while hi < cusum[1] and c[hi + 1] > sigma:
        hi += 1
    return lo, hi


def significant_remainder(counts: np.ndarray, sigma: float, first: int, last: int) -> tuple[int, int]:
    """Widen a trim (first, last) of noisy counts so that what it cuts off on either side is not significant: the
    cut-off sum beyond index j has noise sigma * sqrt(bins); while it exceeds twice that, the range reaches j.
    (A thin tail, each bin under the noise, still adds up.)"""
    c = np.asarray(counts, dtype=float)
    n = len(c)
    above = np.cumsum(c[::-1])[::-1]            # above[j] = sum of c[j:]
    below = np.cumsum(c)                        # below[j] = sum of c[:j + 1]
    for j in range(n - 1, last, -1):
        if above[j] > 2 * sigma * math.sqrt(n - j):
            last = j
            break
    for j in range(0, first):
        if below[j] > 2 * sigma * math.sqrt(j + 1):
            first = j
            break
    return first, last


def onset(counts: np.ndarray, sigma: float, drift: float = 1.0, alarm: float = 5.0) -> int | None:
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
            while start < k and counts[start] <= 2 * sigma:
                start += 1
            return start
    return None


def occupied_range(counts: np.ndarray, sigma: float, drift: float = 1.0, alarm: float = 5.0
                   ) -> tuple[int, int] | None:
    """First/last bins of the occupied range, by CUSUM from each end (see `onset`)."""
    lo = onset(counts, sigma, drift, alarm)
    hi = onset(counts[::-1], sigma, drift, alarm)
    if lo is None or hi is None:
        return None
    hi = len(counts) - 1 - hi
    return (lo, hi) if lo <= hi else None


def integer_edges(lo: int, hi: int) -> tuple[float, ...]:
    return tuple(float(v) - 0.5 for v in range(lo, hi + 2))


def fine_grid(lo: float, hi: float, as_integer: bool, n: int) -> tuple[float, ...]:
    if as_integer:
        ilo, ihi = math.ceil(lo), math.floor(hi)
        if ihi - ilo + 1 <= n:
            return integer_edges(ilo, ihi)
        lo, hi = ilo - 0.5, ihi + 0.5
    if lo >= -ZERO_BIN and hi / max(lo, 1e-300) > 1000:   # (a range starting at the bin that holds zero counts)
        # spans orders of magnitude (heavy tail): geometric grid so the bulk is not squeezed into one fine bin
        start = max(lo, hi * 1e-6)
        inner = np.geomspace(start, hi, n)
        return tuple(np.unique(np.concatenate([[lo], inner])).tolist())
    return tuple(np.linspace(lo, hi, n + 1).tolist())


def mass_range(counts: np.ndarray, sigma: float, drift: float = 1.0) -> tuple[int, int] | None:
    """Fine-bin index range holding the data: the union of spread-out mass (CUSUM on bins merged to a signal-bearing
    resolution, `drift` sigmas per bin) and single spikes (fine bins over 4 sigma, e.g. a discrete value such as a
    severity level). Inside DP bounds (known to hold data) a smaller drift finds thinner tails."""
    n = len(counts)
    m = merge_factor(counts, sigma)
    starts = np.arange(0, n, m)
    ranges = []
    merged = np.add.reduceat(counts, starts)
    merged_sigma = sigma * math.sqrt(m)
    spread = occupied_range(merged, merged_sigma, drift)
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
    spikes = significant_range(counts, sigma)
    if spikes is not None:
        ranges.append(spikes)
    if not ranges:
        return None
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def merge_factor(counts: np.ndarray, sigma: float) -> int:
    n_fine = len(counts)
    total = max(float(counts.sum()), 1.0)   # unbiased: clipping first would add ~0.4 sigma per empty bin
    target = int(np.clip(total / (8 * sigma), min(8, n_fine), n_fine))
    return max(1, math.ceil(n_fine / target))


def merge_to_signal(edges: np.ndarray, counts: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Merge runs of adjacent noisy bins (post-processing) until a bin expects ~8 sigma of mass.

    The fine grid is measured at a fixed resolution; with few rows or much noise most fine bins would be pure noise and
    per-bin significance tests would cut off a long, thin tail. Merging m bins keeps their summed signal and grows the
    noise only to sigma * sqrt(m). The number of bins kept is the noisy total / (8 sigma), between 8 and the fine count.
    Returns (edges, counts, noise std of a merged bin).
    """
    n_fine = len(counts)
    m = merge_factor(counts, sigma)
    if m == 1:
        return edges, counts, sigma
    starts = np.arange(0, n_fine, m)
    return np.append(edges[starts], edges[-1]), np.add.reduceat(counts, starts), sigma * math.sqrt(m)


def quantile_edges(fine_edges: np.ndarray, weights: np.ndarray, n_bins: int, integer: bool) -> tuple[float, ...]:
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
