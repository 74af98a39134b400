"""Shared fixtures for the graphical-model tests: a small random joint table and its marginals."""

from __future__ import annotations

import numpy as np
import pytest

from dpsynth_core.pgm import Domain, Factor


@pytest.fixture
def domain() -> Domain:
    return Domain(("a", "b", "c", "d", "e"), (3, 4, 2, 5, 3))


@pytest.fixture
def joint(domain: Domain) -> Factor:
    """A skewed joint distribution of 1000 records with every cell positive."""
    rng = np.random.default_rng(7)
    values = rng.random(domain.shape) ** 3 + 1e-3
    return Factor(domain, values / values.sum() * 1000.0)
