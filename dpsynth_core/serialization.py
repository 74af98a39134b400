"""Save and load fitted models as data: a JSON document plus an .npz of numeric arrays. Never pickle.

`load_model` opens the arrays with `allow_pickle=False`, so a tampered file cannot execute code.
"""

from __future__ import annotations

import json
import os

import numpy as np

from .generators.base import FittedSynthesizer, load_fitted


def save_model(model: FittedSynthesizer, path: str) -> tuple[str, str]:
    """Write `<path>.json` and `<path>.npz`; returns both paths."""
    meta, arrays = model.to_state()
    json_path, npz_path = path + ".json", path + ".npz"
    with open(json_path, "w") as fh:
        json.dump(meta, fh)
    np.savez_compressed(npz_path, **arrays)
    return json_path, npz_path


def load_model(path: str) -> FittedSynthesizer:
    with open(path + ".json") as fh:
        meta = json.load(fh)
    arrays = {}
    if os.path.exists(path + ".npz"):
        with np.load(path + ".npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    return load_fitted(meta, arrays)
