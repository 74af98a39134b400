"""Generators: fit on a PrivateTable within a rho budget, then sample as post-processing."""

from .base import FittedSynthesizer, available_generators, get_generator, load_fitted, register

__all__ = ["FittedSynthesizer", "available_generators", "get_generator", "load_fitted", "register"]
