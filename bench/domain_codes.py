"""The public domain of one of our releases, shared with the peers that model coded tables (mbi MST/AIM, and
SmartNoise in `--spec user` mode).

The one place the bench reaches past `synthesize_table`: the fitted model's `TableDomain` (its JSON state, written by
ours_runner.py next to the synthetic CSV), the reference engine's `codes_of` (the documented code layout of
`dpsynth_core/measurement/binning.py`) to code the train rows, and `TableDomain.decode` to turn a peer's codes back
into values with our decoder. The domain is an output of our DP release (declared or DP-discovered), so handing it
to a peer costs no privacy; the peer then spends its whole epsilon on measurements, while ours also paid for
discovering that domain (the comparison favours the peer slightly).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from dpsynth_core.measurement.pandas_engine import codes_of
from dpsynth_core.preprocessing.domains import TableDomain


def domain_state(release) -> dict:
    """JSON state of the domain a release was modelled on."""
    return release.model.domain.to_state()


def load_domain(path: str | Path) -> TableDomain:
    return TableDomain.from_state(json.loads(Path(path).read_text()))


def encode(domain: TableDomain, frame: pd.DataFrame) -> np.ndarray:
    """(n, d) int64 codes of `frame`'s modelled columns in `domain.attrs` order (values outside a released domain go
    to its `other` code, nulls to its null code, exactly as our generators see them)."""
    if not domain.columns:
        return np.zeros((len(frame), 0), dtype=np.int64)
    return np.column_stack([codes_of(frame[c.name], c.binning) for c in domain.columns]).astype(np.int64)


def decode(domain: TableDomain, codes: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Codes in `domain.attrs` order -> a synthetic table, with our decoder (within-bin sampling, surrogate keys)."""
    codes = np.asarray(codes, dtype=np.int64)
    if codes.ndim != 2 or codes.shape[1] != len(domain.attrs):
        raise ValueError(f"codes of shape {codes.shape} do not fit a domain of {len(domain.attrs)} attributes")
    sizes = np.asarray(domain.shape)
    if len(codes) and ((codes < 0) | (codes >= sizes)).any():
        raise ValueError("codes outside the domain")
    return domain.decode(codes, np.random.default_rng(seed))
