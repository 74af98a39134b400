"""Integer-valued Gaussian noise for counts (Canonne, Kamath, Steinke 2020).

Counts get *discrete* Gaussian noise: adding continuous floating-point noise to an integer count leaks through the
low-order bits (Mironov 2012). The sampler is the CKS rejection sampler (discrete Laplace proposal, Bernoulli
acceptance), vectorised with numpy. Its acceptance test uses float64 uniforms, so it is not bit-exact like CKS's
rational-arithmetic version; the released values are integers either way. The discrete Gaussian with parameter sigma
has variance slightly below sigma² and satisfies the same zCDP bound as the continuous one: rho = Δ²/(2σ²).
"""

from __future__ import annotations

import math
import secrets

import numpy as np


def noise_rng(seed: int | None = None) -> np.random.Generator:
    """The generator for DP noise: OS entropy unless a test passes an explicit seed.

    Never derive noise from the user's `seed` config: a published seed would let anyone subtract the noise.
    """
    return np.random.default_rng(secrets.randbits(128) if seed is None else seed)


def _discrete_laplace(rng: np.random.Generator, scale_t: int, size: int) -> np.ndarray:
    """Discrete Laplace with P(x) ∝ exp(-|x|/t): difference of two geometrics with p = 1 - exp(-1/t)."""
    p = 1.0 - math.exp(-1.0 / scale_t)
    return rng.geometric(p, size=size) - rng.geometric(p, size=size)


def discrete_gaussian(shape, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Samples of the discrete Gaussian N_Z(0, sigma²) (int64 array of `shape`)."""
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    size = int(np.prod(shape, dtype=np.int64)) if np.ndim(shape) else int(shape)
    out = np.empty(size, dtype=np.int64)
    t = int(math.floor(sigma)) + 1
    sigma2 = sigma * sigma
    filled = 0
    while filled < size:
        need = size - filled
        batch = max(int(need * 1.6) + 16, 64)
        y = _discrete_laplace(rng, t, batch)
        accept_p = np.exp(-((np.abs(y) - sigma2 / t) ** 2) / (2 * sigma2))
        accepted = y[rng.random(batch) < accept_p][:need]
        out[filled:filled + accepted.size] = accepted
        filled += accepted.size
    return out.reshape(shape)
