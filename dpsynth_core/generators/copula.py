"""DP Gaussian copula: DP 1-way marginals + a DP correlation matrix of normal scores. The fast option for wide tables.

Model. Every column j is coded in the TableDomain's binning (codes 0..K_j-1, in code order). A latent vector
Z ~ N(0, R) drives the codes: code_j = F_j^{-1}(Phi(Z_j)), with F_j the column's DP cumulative distribution.

Fit (spends exactly the given rho, split `one_way_fraction` / rest):
1. 1-way marginals: one noisy histogram per column through `PrivateTable.measure` (discrete Gaussian, sensitivity 1,
   rho_1/d each). Clipped at 0 and normalised they give p_j and F_j; their totals give the DP row count.
2. Normal scores (post-processing of step 1 only): code k of column j gets s_jk = E[Z | F_j(k-1) < Phi(Z) <= F_j(k)]
   = (phi(a) - phi(b)) / (F_j(k) - F_j(k-1)), the mean of the standard normal over that code's slice.
3. Correlation (the only step that reads rows, `PrivateTable.noisy_score_products` in the measurement layer): each
   row's score vector z (d values) is scaled down, if needed, to squared norm ||z||^2 <= B; the statistic is the
   vector of off-diagonal sums S_ij = sum_rows z_i z_j (i < j). Adding or removing one row changes S by that row's
   products, whose L2 norm is sqrt(sum_{i<j} z_i^2 z_j^2) = sqrt((||z||^4 - sum_i z_i^4) / 2) <= B sqrt((1 - 1/d) / 2)
   (using sum_i z_i^4 >= ||z||^4 / d). That is the L2 sensitivity Delta (k·Delta for a privacy unit of at most k
   rows, by the triangle inequality; the measurement layer applies k); Gaussian noise with std sigma costs
   rho_2 = (k Delta)^2 / (2 sigma^2). B is public: the `norm_quantile` (default 0.99) quantile of a chi-square with d
   degrees of freedom, i.e. the norm a row of d independent standard-normal scores stays under with that probability
   (3.3 d for d = 4, 2.1 d for d = 14, 1.25 d for d = 200). Row-norm clipping replaces per-coordinate clipping to
   [-c, c] (sensitivity c^2 sqrt(d(d-1)/2)): typical rows have ||z||^2 close to d, so for the same rho the noise std is
   several times smaller than with c = 3 (about 7x at d = 200), and only rows far out in the tail are shrunk (that
   shrinkage biases strong correlations slightly towards 0).
4. Post-processing: Cov_ij = S_ij / n_dp - m_i m_j with m_i, Var_i the mean and variance of the scores under the DP
   marginal; the latent correlation is R_ij ~= Cov_ij / (Var_i Var_j) (first Hermite term: discretising a Gaussian to
   conditional means shrinks its covariance by Var_i Var_j), clipped to [-1, 1] and projected to the nearest
   positive-definite correlation matrix (eigenvalue clipping + rescaling, a few alternating rounds).

The correlation noise is continuous (numpy float64 normals) on a real-valued statistic: this does not have the
integer-count protection of the discrete Gaussian (floating-point attacks in the style of Mironov 2012 are not ruled
out). Counts (step 1) use the discrete Gaussian.

Sample: G ~ N(0, I), Z = G L^T (R = L L^T), U = Phi(Z), code_j = first k with F_j(k) >= U_j, then `domain.decode`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import ndtr, ndtri
from scipy.stats import chi2

from ..accounting.budget import PrivacyBudget
from ..accounting.zcdp import sigma_for_rho
from ..errors import ConfigError
from ..measurement.estimates import dp_row_count
from ..measurement.private_table import PrivateTable, off_diagonal_sensitivity
from ..preprocessing.domains import TableDomain
from ..validation import Interval, Param
from .base import FittedSynthesizer, Generator, GeneratorOptions, NoisePlan

FORMAT = 1


# --------------------------------------------------------------------------------------------------------------------
# Post-processing helpers (no private data)
# --------------------------------------------------------------------------------------------------------------------

def probabilities_from_counts(noisy: np.ndarray) -> np.ndarray:
    """Noisy counts -> a distribution (negative counts clipped to 0; uniform if nothing is left)."""
    p = np.clip(np.asarray(noisy, dtype=float), 0.0, None)
    total = p.sum()
    return p / total if total > 0 else np.full(len(p), 1.0 / len(p))


def normal_scores(p: np.ndarray) -> np.ndarray:
    """s_k = E[Z | Z in the k-th slice of N(0,1) cut at Phi^{-1}(F(k))] (0 for empty codes)."""
    cdf = np.concatenate([[0.0], np.cumsum(p)])
    cdf[-1] = 1.0
    cdf = np.clip(cdf, 0.0, 1.0)
    cuts = ndtri(cdf)                                   # -inf .. +inf
    dens = np.exp(-0.5 * np.square(np.where(np.isfinite(cuts), cuts, 0.0))) / math.sqrt(2 * math.pi)
    dens = np.where(np.isfinite(cuts), dens, 0.0)       # phi(+-inf) = 0
    mass = np.diff(cdf)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(mass > 0, (dens[:-1] - dens[1:]) / np.where(mass > 0, mass, 1.0), 0.0)
    return scores


def nearest_correlation(matrix: np.ndarray, floor: float = 1e-6, rounds: int = 20) -> np.ndarray:
    """A positive-definite correlation matrix near `matrix` (symmetrised; alternating eigenvalue clipping at `floor`
    and unit-diagonal rescaling, a simple variant of Higham 2002)."""
    a = (np.asarray(matrix, dtype=float) + np.asarray(matrix, dtype=float).T) / 2
    np.fill_diagonal(a, 1.0)
    for _ in range(rounds):
        w, v = np.linalg.eigh(a)
        if w.min() >= floor:
            break
        a = (v * np.clip(w, floor, None)) @ v.T
        d = np.sqrt(np.diag(a))
        a = a / np.outer(d, d)
        a = (a + a.T) / 2
    w, v = np.linalg.eigh(a)
    if w.min() < floor:   # last resort: shrink towards the identity until positive definite
        shrink = (floor - w.min()) / (1.0 - w.min() + floor)
        a = (1 - shrink) * a + shrink * np.eye(len(a))
    np.fill_diagonal(a, 1.0)
    return a


# --------------------------------------------------------------------------------------------------------------------
# Generator and fitted model
# --------------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CopulaOptions(GeneratorOptions):
    """one_way_fraction: share of rho for the 1-way marginals (the rest measures the correlation);
    norm_quantile: the row-norm bound B is this quantile of chi-square(d)."""

    one_way_fraction: float = 0.5
    norm_quantile: float = 0.99

    constraints: ClassVar[dict[str, Param]] = {
        "one_way_fraction": Param(float, Interval(0, 1, "neither"), example=0.5),
        "norm_quantile": Param(float, Interval(0, 1, "neither"), example=0.99),
    }


class GaussianCopula(Generator):
    """DP Gaussian copula generator (`generator: copula`); see the module doc for the privacy argument."""

    name = "copula"
    Options = CopulaOptions

    def row_norm_bound(self, d: int) -> float:
        """Public bound B on a row's squared score norm (depends on d and the option only)."""
        return float(chi2.ppf(self.options.norm_quantile, d))

    def noise_plan(self, d: int, rho: float) -> NoisePlan:
        """1-way marginals get `one_way_fraction` of rho (all of it for one column), the correlation the rest."""
        fraction = self.options.one_way_fraction if d > 1 else 1.0
        split = [("1-way marginals", rho * fraction)] + ([("correlation of normal scores", rho * (1 - fraction))]
                                                          if d > 1 else [])
        return NoisePlan(tuple(split), sigma_for_rho(rho * fraction / max(d, 1)))

    def correlation_sigma(self, d: int, rho_correlation: float, max_rows_per_unit: int = 1) -> float:
        """Noise std of each off-diagonal score-product sum (sensitivity from the public row-norm bound, times the
        privacy unit's k)."""
        return sigma_for_rho(rho_correlation, max_rows_per_unit * off_diagonal_sensitivity(d, self.row_norm_bound(d)))

    def fit(self, private: PrivateTable, domain: TableDomain, budget: PrivacyBudget) -> "FittedCopula":
        columns = domain.columns
        d = len(columns)
        one_way = budget.child("1way", share=self.options.one_way_fraction) if d > 1 else budget.rest("1way")
        sigma1 = private.sigma_for(one_way.rho_total / d)
        noisy = [private.measure([c.binning], sigma1, step=f"copula:1way:{c.name}", budget=one_way)
                 for c in columns]
        probs = [probabilities_from_counts(h) for h in noisy]
        rows = dp_row_count(noisy, [sigma1] * d)
        correlation = np.eye(d)
        if d > 1:
            scores = [normal_scores(p) for p in probs]
            bound = self.row_norm_bound(d)
            corr = budget.rest("correlation")          # exactly what is left of this generator's rho
            sigma2 = self.correlation_sigma(d, corr.rho_total, private.max_rows_per_unit)
            sums = private.noisy_score_products([c.binning for c in columns], scores, bound, sigma2,
                                                step="copula:correlation", budget=corr)
            correlation = latent_correlation(sums, probs, scores, rows)
        return FittedCopula(domain, probs, correlation, rows)


def latent_correlation(sums: np.ndarray, probs: list[np.ndarray], scores: list[np.ndarray], rows: float
                       ) -> np.ndarray:
    """Post-processing: noisy off-diagonal score sums -> latent Gaussian correlation (module doc, step 4)."""
    d = len(probs)
    mean = np.array([float(np.dot(p, s)) for p, s in zip(probs, scores, strict=True)])
    var = np.array([float(np.dot(p, s * s)) for p, s in zip(probs, scores, strict=True)]) - mean ** 2
    var = np.maximum(var, 1e-3)
    iu = np.triu_indices(d, k=1)
    cov = sums / rows - mean[iu[0]] * mean[iu[1]]
    r = np.eye(d)
    r[iu] = np.clip(cov / (var[iu[0]] * var[iu[1]]), -0.999, 0.999)
    r[(iu[1], iu[0])] = r[iu]
    return nearest_correlation(r)


class FittedCopula(FittedSynthesizer):
    """A fitted copula: DP 1-way distributions and the latent correlation matrix."""

    generator = "copula"

    def __init__(self, domain: TableDomain, probabilities: list[np.ndarray], correlation: np.ndarray, rows: float):
        self.domain = domain
        self.probabilities = [np.asarray(p, dtype=float) for p in probabilities]
        self.correlation = np.asarray(correlation, dtype=float)
        self.rows = float(rows)
        w, v = np.linalg.eigh(self.correlation)
        self._factor = v * np.sqrt(np.clip(w, 0.0, None))   # R = F F^T (works for any PSD R)

    @property
    def estimated_rows(self) -> float:
        return self.rows

    def sample_codes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        d = len(self.probabilities)
        latent = rng.standard_normal((n, d)) @ self._factor.T
        uniform = ndtr(latent)
        codes = np.empty((n, d), dtype=np.int64)
        for j, p in enumerate(self.probabilities):
            cdf = np.cumsum(p)
            cdf[-1] = 1.0
            codes[:, j] = np.minimum(np.searchsorted(cdf, uniform[:, j], side="left"), len(p) - 1)
        return codes

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        sizes = [len(p) for p in self.probabilities]
        meta = {"generator": self.generator, "format": FORMAT, "domain": self.domain.to_state(), "rows": self.rows,
                "sizes": sizes}
        arrays = {"probabilities": np.concatenate(self.probabilities) if sizes else np.zeros(0),
                  "correlation": self.correlation}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "FittedCopula":
        if meta.get("format") != FORMAT:
            raise ConfigError(f"saved copula model has format {meta.get('format')!r}; this version reads {FORMAT}.",
                              fix="re-fit the model with this version of dbt-dpsynth.")
        offsets = np.cumsum([0] + list(meta["sizes"]))
        flat = np.asarray(arrays["probabilities"], dtype=float)
        probs = [flat[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
        return cls(TableDomain.from_state(meta["domain"]), probs, np.asarray(arrays["correlation"]), meta["rows"])


GaussianCopula.Fitted = FittedCopula
