"""A fitted marginal-based model (MST, AIM): a graphical model over the coded domain."""

from __future__ import annotations

import numpy as np

from ..pgm import Domain, GraphicalModel
from ..preprocessing.domains import TableDomain
from .base import FittedSynthesizer


def pgm_domain(domain: TableDomain) -> Domain:
    return Domain(domain.attrs, domain.shape)


class FittedGraphicalModel(FittedSynthesizer):
    def __init__(self, generator: str, domain: TableDomain, model: GraphicalModel, selected: list[tuple[str, ...]]):
        self.generator = generator
        self.domain = domain
        self.model = model
        self.selected = [tuple(c) for c in selected]

    @property
    def estimated_rows(self) -> float:
        return float(self.model.total)

    def sample_codes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if n == 0:
            return np.zeros((0, len(self.domain.attrs)), dtype=np.int64)
        return np.asarray(self.model.synthetic_data(n, rng), dtype=np.int64)

    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        model_meta, arrays = self.model.to_state()
        meta = {"generator": self.generator, "format": 1, "domain": self.domain.to_state(), "model": model_meta,
                "selected": [list(c) for c in self.selected]}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "FittedGraphicalModel":
        return cls(meta["generator"], TableDomain.from_state(meta["domain"]),
                   GraphicalModel.from_state(meta["model"], arrays), [tuple(c) for c in meta["selected"]])
