"""Nearest-neighbour privacy metrics: DCR share, NNDR, distance-based membership inference.

Train is subsampled to the holdout's size (and both to at most `max_rows`) so that "closer to train than to holdout"
is a fair coin for a generator that did not memorise its training rows. Distances: `encoding`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .encoding import encode, nearest, subsample_rows
from .prepared import Prepared
from .stats import auc_with_delong_ci


@dataclass(frozen=True)
class NeighbourSamples:
    """Encoded, size-matched samples: train (members), holdout (non-members), synthetic queries and reference."""

    train: np.ndarray
    holdout: np.ndarray
    synthetic: np.ndarray          # queries for DCR / NNDR (at most max_rows)
    synthetic_reference: np.ndarray  # reference set for the membership attack (at most 4 * max_rows)


def neighbour_samples(prepared: Prepared, max_rows: int = 5000, seed: int = 0) -> NeighbourSamples:
    if prepared.holdout is None:
        raise InputError("nearest-neighbour privacy metrics need a holdout the generator never saw.",
                         fix="pass holdout= (or let the CLI split one off).")
    rng = np.random.default_rng(seed)
    size = min(len(prepared.real), len(prepared.holdout), max_rows)
    train = encode(prepared, "real")[subsample_rows(len(prepared.real), size, rng)]
    holdout = encode(prepared, "holdout")[subsample_rows(len(prepared.holdout), size, rng)]
    synth = encode(prepared, "synthetic")
    return NeighbourSamples(train, holdout, synth[subsample_rows(len(synth), max_rows, rng)],
                            synth[subsample_rows(len(synth), 4 * max_rows, rng)])


def one_sided_bound(p0: float, n: int, z: float) -> float:
    """p0 + z * sqrt(p0 (1 - p0) / n): the largest share compatible with p0 at one-sided level z (2.33 ~ 1%)."""
    return p0 + z * math.sqrt(p0 * (1 - p0) / max(n, 1))


@dataclass(frozen=True)
class DCRShare:
    share: float    # synthetic rows closer to train than to holdout (ties count half)
    n: int
    median_dcr_train: float
    median_dcr_holdout: float
    standard_error: float = 0.0   # of the share under the null (0.5), clustered by nearest reference row

    @property
    def n_effective(self) -> int:
        """The sample size whose binomial standard error sqrt(0.25/n) equals `standard_error`."""
        if not self.standard_error > 0:
            return self.n
        return max(1, int(0.25 / self.standard_error ** 2))


def dcr_neighbours(samples: NeighbourSamples) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(distance to the closest train row, to the closest holdout row, and those rows' indices) of each query."""
    d_train, i_train = nearest(samples.train, samples.synthetic)
    d_hold, i_hold = nearest(samples.holdout, samples.synthetic)
    return d_train[:, 0], d_hold[:, 0], i_train[:, 0], i_hold[:, 0]


def dcr_distances(samples: NeighbourSamples) -> tuple[np.ndarray, np.ndarray]:
    """Distance of each synthetic query to its closest train row and to its closest holdout row."""
    return dcr_neighbours(samples)[:2]


def _clustered_se(residuals: np.ndarray, clusters: np.ndarray) -> float:
    """Cluster-robust standard error of a mean: sqrt(sum over clusters of (sum of residuals)^2) / n."""
    sums = np.bincount(clusters, weights=residuals)
    return float(np.sqrt(np.sum(sums ** 2)) / max(len(residuals), 1))


def dcr_share(samples: NeighbourSamples, neighbours: tuple[np.ndarray, ...] | None = None) -> DCRShare:
    """`neighbours`: `dcr_neighbours(samples)` when the caller already has them.

    The standard error is taken under the null (residuals from 0.5) and clustered by the nearest train row and,
    separately, by the nearest holdout row (the larger of the two, and never below the independent 0.25/n): queries
    that share a nearest reference row are one comparison, not many. With independent queries it is ~sqrt(0.25/n);
    when every query finds the same real row (a degenerate synthetic table) it is 0.5, and the share says nothing.
    """
    d_train, d_hold, i_train, i_hold = neighbours if neighbours is not None and len(neighbours) == 4 \
        else dcr_neighbours(samples)
    closer = np.where(d_train < d_hold, 1.0, np.where(d_train == d_hold, 0.5, 0.0))
    n = len(closer)
    residuals = closer - 0.5
    se = max(_clustered_se(residuals, i_train), _clustered_se(residuals, i_hold), math.sqrt(0.25 / max(n, 1)))
    return DCRShare(float(closer.mean()), n, float(np.median(d_train)), float(np.median(d_hold)), se)


def nndr(reference: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Nearest-neighbour distance ratio d1/d2 of each query to `reference` (0/0 -> 0: an exact duplicate match)."""
    dist = nearest(reference, queries, k=2)[0]
    if dist.shape[1] < 2:
        return np.ones(len(queries))
    d1, d2 = dist[:, 0], dist[:, 1]
    return np.where(d2 > 0, d1 / np.where(d2 > 0, d2, 1.0), 0.0)


@dataclass(frozen=True)
class NNDRCheck:
    share_below: float     # synthetic rows whose NNDR is below the holdout's 5th percentile NNDR
    holdout_p05: float
    synthetic_p05: float
    n: int
    n_holdout: int

    @property
    def n_effective(self) -> int:
        """Sample size for the bound: the synthetic share and the holdout quantile are both estimates."""
        return int(1.0 / (1.0 / self.n + 1.0 / self.n_holdout))


def nndr_check(samples: NeighbourSamples, quantile: float = 0.05) -> NNDRCheck:
    """Fresh rows from the population have share_below ~= `quantile`; memorised rows push it up."""
    hold = nndr(samples.train, samples.holdout)
    synth = nndr(samples.train, samples.synthetic)
    cut = float(np.quantile(hold, quantile))
    return NNDRCheck(float((synth < cut).mean()), cut, float(np.quantile(synth, quantile)), len(synth), len(hold))


def distance_membership_auc(samples: NeighbourSamples) -> tuple[float, float, float]:
    """Attack score = -(distance to the closest synthetic row); AUC of members (train) vs non-members (holdout),
    with a DeLong 95% CI. 0.5 = no better than chance."""
    members = -nearest(samples.synthetic_reference, samples.train)[0][:, 0]
    non_members = -nearest(samples.synthetic_reference, samples.holdout)[0][:, 0]
    return auc_with_delong_ci(members, non_members)
