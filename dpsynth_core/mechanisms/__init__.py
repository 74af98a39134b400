"""DP mechanisms: short files composed from the accounting primitives."""

from .exponential import exponential_mechanism
from .gaussian import discrete_gaussian, noise_rng

__all__ = ["discrete_gaussian", "exponential_mechanism", "noise_rng"]
