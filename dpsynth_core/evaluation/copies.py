"""Exact copies (privacy; lower is better): share of synthetic rows identical to some real train row on every compared
column. The baseline is the share of holdout rows identical to a train row: how often a fresh draw from the same
population collides with train by chance (large for all-categorical tables, ~0 with continuous columns)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .prepared import Prepared


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def copy_rate(candidates: pd.DataFrame, train: pd.DataFrame) -> float:
    """Share of `candidates` rows that equal a `train` row (canonical frames with the same columns)."""
    if len(candidates) == 0:
        return 0.0
    return float(np.isin(row_hashes(candidates), row_hashes(train)).mean())


@dataclass(frozen=True)
class ExactCopies:
    rate: float
    baseline: float | None   # holdout rows identical to a train row; None without holdout
    n_synthetic: int


def exact_copies(prepared: Prepared) -> ExactCopies:
    baseline = copy_rate(prepared.holdout, prepared.real) if prepared.holdout is not None else None
    return ExactCopies(copy_rate(prepared.synthetic, prepared.real), baseline, len(prepared.synthetic))
