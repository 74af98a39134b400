"""`Prepared`: the three tables in canonical form plus their bin codes, computed once and shared by every metric."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from .columns import canonicalize, modelled, resolve_kinds
from .discretize import Discretizer


@dataclass(frozen=True)
class Prepared:
    """Canonical real train sample, synthetic table and (optional) holdout, with codes from one `Discretizer`.

    `kinds` covers the shared columns, identifiers included; `columns` are the compared (non-identifier) ones.
    """

    kinds: dict[str, str]
    real: pd.DataFrame
    synthetic: pd.DataFrame
    holdout: pd.DataFrame | None
    discretizer: Discretizer
    real_codes: np.ndarray
    synthetic_codes: np.ndarray
    holdout_codes: np.ndarray | None

    @property
    def columns(self) -> list[str]:
        return modelled(self.kinds)

    def column_kind(self, column: str) -> str:
        return self.kinds[column]


def prepare(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame | None = None,
            kinds: Mapping[str, str] | None = None, n_bins: int = 10, table: str = "synthetic") -> Prepared:
    """Canonicalise the tables and code them with bins fixed on `real` (see `discretize`)."""
    others = [synthetic] + ([holdout] if holdout is not None else [])
    resolved = resolve_kinds(real, others, kinds, table=table)
    if not modelled(resolved):
        raise InputError("every shared column is an identifier; nothing to compare.", table=table,
                         fix="pass kinds= marking the non-identifier columns.")
    if len(real) == 0 or len(synthetic) == 0:
        raise InputError("the real and the synthetic tables must both have rows.", table=table,
                         fix="check the relations being evaluated.")
    real_c = canonicalize(real, resolved, "real")
    synth_c = canonicalize(synthetic, resolved, table)
    hold_c = canonicalize(holdout, resolved, "holdout") if holdout is not None else None
    disc = Discretizer.fit(real_c, resolved, [synth_c] + ([hold_c] if hold_c is not None else []), n_bins=n_bins)
    return Prepared(
        kinds=resolved, real=real_c, synthetic=synth_c, holdout=hold_c, discretizer=disc,
        real_codes=disc.transform(real_c), synthetic_codes=disc.transform(synth_c),
        holdout_codes=disc.transform(hold_c) if hold_c is not None else None,
    )
