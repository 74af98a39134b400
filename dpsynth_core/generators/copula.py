"""DP Gaussian copula: DP 1-way marginals + a DP correlation matrix of normal scores. The fast option for wide tables.

Model. Every column j is coded in the TableDomain's binning (codes 0..K_j-1, in code order). A latent vector
Z ~ N(0, R) drives the codes: code_j = F_j^{-1}(Phi(Z_j)), with F_j the column's DP cumulative distribution.

Fit (spends exactly the given rho, split `one_way_fraction` / rest):
1. 1-way marginals: one noisy histogram per column through `PrivateTable.measure` (discrete Gaussian, sensitivity 1,
   rho_1/d each). Clipped at 0 and normalised they give p_j and F_j; their totals give the DP row count.
2. Normal scores (post-processing of step 1 only): code k of column j gets s_jk = E[Z | F_j(k-1) < Phi(Z) <= F_j(k)]
   = (phi(a) - phi(b)) / (F_j(k) - F_j(k-1)), the mean of the standard normal over that code's slice.
3. Correlation (the only step that reads rows, in `_noisy_score_products`): each row's score vector z (d values) is
   scaled down, if needed, to squared norm ||z||^2 <= B; the statistic is the vector of
   off-diagonal sums S_ij = sum_rows z_i z_j (i < j). Adding or removing one row changes S by that row's products, whose
   L2 norm is sqrt(sum_{i<j} z_i^2 z_j^2) = sqrt((||z||^4 - sum_i z_i^4) / 2) <= B sqrt((1 - 1/d) / 2)
   (using sum_i z_i^4 >= ||z||^4 / d). That is the L2 sensitivity Delta; Gaussian noise with std sigma costs
   rho_2 = Delta^2 / (2 sigma^2). B is public: the `norm_quantile` (default 0.99) quantile of a chi-square with d
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

import numpy as np
from scipy.special import ndtr, ndtri
from scipy.stats import chi2

from ..accounting.zcdp import gaussian_rho, sigma_for_rho
from ..errors import ConfigError
from ..measurement.pandas_engine import codes_of
from ..measurement.private_table import PrivateTable
from ..preprocessing.domains import TableDomain
from .base import FittedSynthesizer

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


def off_diagonal_sensitivity(d: int, bound: float) -> float:
    """L2 sensitivity of the off-diagonal products sum_{i<j} z_i z_j of one row with ||z||^2 <= bound (module doc)."""
    return bound * math.sqrt((1.0 - 1.0 / d) / 2.0)


# --------------------------------------------------------------------------------------------------------------------
# The one place raw rows are used
# --------------------------------------------------------------------------------------------------------------------

def _noisy_score_products(private: PrivateTable, domain: TableDomain, score_tables: list[np.ndarray], bound: float,
                          sigma: float, noise: np.random.Generator, step: str) -> np.ndarray:
    """DP release of S_ij = sum_rows z_i z_j for i < j (flattened upper triangle, row-major), Gaussian noise std sigma.

    Raw rows live only inside this function: they are coded, mapped to the public score tables, norm-clipped to
    ||z||^2 <= bound, multiplied out and summed; only the noisy sums leave. Charges Delta^2/(2 sigma^2) first, with
    Delta = `off_diagonal_sensitivity(d, bound)`.
    """
    d = len(domain.columns)
    delta = off_diagonal_sensitivity(d, bound)
    private.budget.spend(step, "gaussian", gaussian_rho(sigma, delta), columns=list(domain.attrs), sigma=sigma,
                         sensitivity=delta, row_norm_bound=bound, statistic="sum of off-diagonal score products")
    rows = private.rows_for_training(list(domain.attrs), step=step)
    z = np.empty((len(rows), d), dtype=float)
    for j, col in enumerate(domain.columns):
        z[:, j] = score_tables[j][codes_of(rows[col.name], col.binning)]
    del rows
    norms = np.einsum("ij,ij->i", z, z)
    scale = np.sqrt(bound / np.maximum(norms, bound))          # 1 for rows already inside the ball
    z *= scale[:, None]
    products = z.T @ z
    iu = np.triu_indices(d, k=1)
    return products[iu] + noise.normal(0.0, sigma, size=len(iu[0]))


# --------------------------------------------------------------------------------------------------------------------
# Generator and fitted model
# --------------------------------------------------------------------------------------------------------------------

class GaussianCopula:
    """DP Gaussian copula generator (`generator: copula`).

    Options: `one_way_fraction` (share of rho for the 1-way marginals, default 0.5; the rest measures the correlation),
    `norm_quantile` (the row-norm bound B is this quantile of chi-square(d), default 0.99; see the module doc).
    """

    name = "copula"

    def __init__(self, one_way_fraction: float = 0.5, norm_quantile: float = 0.99, **unused):
        if unused:
            raise ConfigError(f"unknown copula option(s) {sorted(unused)}.",
                              fix="copula takes only `one_way_fraction` and `norm_quantile`.")
        if not 0 < float(one_way_fraction) < 1:
            raise ConfigError(f"copula one_way_fraction={one_way_fraction!r} must be in (0, 1).",
                              fix="use e.g. options: {one_way_fraction: 0.5}.")
        if not 0 < float(norm_quantile) < 1:
            raise ConfigError(f"copula norm_quantile={norm_quantile!r} must be in (0, 1).",
                              fix="use e.g. options: {norm_quantile: 0.99}.")
        self.one_way_fraction = float(one_way_fraction)
        self.norm_quantile = float(norm_quantile)

    def row_norm_bound(self, d: int) -> float:
        """Public bound B on a row's squared score norm (depends on d and the option only)."""
        return float(chi2.ppf(self.norm_quantile, d))

    def fit(self, private: PrivateTable, domain: TableDomain, rho: float, rng: np.random.Generator | None = None
            ) -> "FittedCopula":
        from ..mechanisms.gaussian import noise_rng

        noise = rng if rng is not None else noise_rng()
        budget = private.budget
        start = budget.spent
        columns = domain.columns
        d = len(columns)
        rho_one_way = rho * self.one_way_fraction if d > 1 else rho
        sigma1 = sigma_for_rho(rho_one_way / d)
        noisy = [private.measure([c.binning], sigma1, step=f"copula:1way:{c.name}") for c in columns]
        probs = [probabilities_from_counts(h) for h in noisy]
        # DP row count: inverse-variance weighted mean of the noisy totals (variance K_j sigma1^2 each)
        weights = np.array([1.0 / c.size for c in columns])
        rows = max(float(np.dot(weights, [h.sum() for h in noisy]) / weights.sum()), 1.0)
        correlation = np.eye(d)
        if d > 1:
            scores = [normal_scores(p) for p in probs]
            bound = self.row_norm_bound(d)
            rho_corr = rho - (budget.spent - start)       # exactly what is left of this generator's rho
            sigma2 = sigma_for_rho(rho_corr, off_diagonal_sensitivity(d, bound))
            sums = _noisy_score_products(private, domain, scores, bound, sigma2, noise, step="copula:correlation")
            correlation = latent_correlation(sums, probs, scores, rows)
        return FittedCopula(domain, probs, correlation, rows)


def latent_correlation(sums: np.ndarray, probs: list[np.ndarray], scores: list[np.ndarray], rows: float
                       ) -> np.ndarray:
    """Post-processing: noisy off-diagonal score sums -> latent Gaussian correlation (module doc, step 4)."""
    d = len(probs)
    mean = np.array([float(np.dot(p, s)) for p, s in zip(probs, scores)])
    var = np.array([float(np.dot(p, s * s)) for p, s in zip(probs, scores)]) - mean ** 2
    var = np.maximum(var, 1e-3)
    iu = np.triu_indices(d, k=1)
    cov = sums / rows - mean[iu[0]] * mean[iu[1]]
    r = np.eye(d)
    r[iu] = np.clip(cov / (var[iu[0]] * var[iu[1]]), -0.999, 0.999)
    r[(iu[1], iu[0])] = r[iu]
    return nearest_correlation(r)


class FittedCopula(FittedSynthesizer):
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
        probs = [flat[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
        return cls(TableDomain.from_state(meta["domain"]), probs, np.asarray(arrays["correlation"]), meta["rows"])
