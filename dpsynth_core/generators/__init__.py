"""Generators: fit on a PrivateTable within their node of the release budget tree, then sample (post-processing)."""

from .base import (
                   GENERATORS,
                   FittedSynthesizer,
                   Generator,
                   GeneratorContext,
                   GeneratorOptions,
                   available_generators,
                   generator_class,
                   get_generator,
                   load_fitted,
                   register,
)

__all__ = ["GENERATORS", "FittedSynthesizer", "Generator", "GeneratorContext", "GeneratorOptions",
           "available_generators", "generator_class", "get_generator", "load_fitted", "register"]
