"""Generator protocol and registry.

A generator's `fit(private, domain, rho, rng)` spends at most `rho` through `private` (a PrivateTable) and returns a
`FittedSynthesizer`; sampling is post-processing and may be seeded freely. Fitted models serialise to a JSON-able
dict plus named numpy arrays (`to_state`/`from_state`), never pickle.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..errors import ConfigError
from ..preprocessing.domains import TableDomain

_REGISTRY: dict[str, str] = {
    # name -> "module:Class" (imported lazily so torch loads only for deep generators)
    "mst": "dpsynth_core.generators.mst:MST",
    "aim": "dpsynth_core.generators.aim:AIM",
    "copula": "dpsynth_core.generators.copula:GaussianCopula",
    "dp-ctgan": "dpsynth_core.generators.deep.ctgan:DPCTGAN",
    "dp-tvae": "dpsynth_core.generators.deep.tvae:DPTVAE",
}
_FITTED: dict[str, str] = {
    "mst": "dpsynth_core.generators.graphical:FittedGraphicalModel",
    "aim": "dpsynth_core.generators.graphical:FittedGraphicalModel",
    "copula": "dpsynth_core.generators.copula:FittedCopula",
    "dp-ctgan": "dpsynth_core.generators.deep.common:FittedDeepSynthesizer",
    "dp-tvae": "dpsynth_core.generators.deep.common:FittedDeepSynthesizer",
}


def register(name: str, generator: str, fitted: str) -> None:
    """Register a generator class and its fitted class by import path ("module:Class")."""
    _REGISTRY[name] = generator
    _FITTED[name] = fitted


def _load(path: str):
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def available_generators() -> list[str]:
    return sorted(_REGISTRY)


def get_generator(name: str, **options: Any):
    if name not in _REGISTRY:
        raise ConfigError(f"unknown generator {name!r}.", fix=f"use one of {available_generators()}.")
    return _load(_REGISTRY[name])(**options)


def load_fitted(meta: dict, arrays: dict[str, np.ndarray]) -> "FittedSynthesizer":
    name = meta.get("generator")
    if name not in _FITTED:
        raise ConfigError(f"saved model names unknown generator {name!r}.", fix="upgrade dbt-dpsynth or re-fit.")
    return _load(_FITTED[name]).from_state(meta, arrays)


class FittedSynthesizer(ABC):
    """A fitted generator. `sample` decodes codes/values through the TableDomain (identifiers get surrogate keys)."""

    generator: str
    domain: TableDomain

    @property
    @abstractmethod
    def estimated_rows(self) -> float:
        """DP estimate of the source's row count (post-processing of noisy measurements)."""

    @abstractmethod
    def sample_codes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, d) integer codes in `domain.attrs` order."""

    def sample(self, n: int, seed: int | None = None) -> pd.DataFrame:
        if n < 0:
            raise ConfigError(f"rows={n} is negative.", fix="ask for rows >= 0.")
        rng = np.random.default_rng(seed)
        return self.domain.decode(self.sample_codes(n, rng), rng)

    @abstractmethod
    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        ...

    @classmethod
    @abstractmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "FittedSynthesizer":
        ...


ProgressCallback = Callable[[str, dict], None]
