"""Save and load fitted models as data: a JSON document plus an .npz of numeric arrays. Never pickle.

`load_model` opens the arrays with `allow_pickle=False`, so a tampered file cannot execute code. `model_to_text` /
`model_from_text` pack the same state into one JSON string (arrays as a base64 .npz) for places that take a single
value: a Snowflake UDTF, a Spark closure, a warehouse column.
"""

from __future__ import annotations

import base64
import io
import json
import os

import numpy as np

from .errors import ConfigError
from .generators.base import FittedSynthesizer, load_fitted

TEXT_FORMAT = "dpsynth-state/1"


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


def state_to_text(meta: dict, arrays: dict[str, np.ndarray]) -> str:
    """One JSON string holding a fitted model's state: `meta` as JSON, `arrays` as a base64-encoded .npz.

    Raises:
        ConfigError: an array holds Python objects (it could only travel as pickle).
    """
    for name, array in arrays.items():
        if np.asarray(array).dtype.hasobject:
            raise ConfigError(f"model array {name!r} holds Python objects and cannot be stored without pickle.",
                              fix="store numeric or fixed-width string arrays only.")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    return json.dumps({"format": TEXT_FORMAT, "meta": meta,
                       "arrays": base64.b64encode(buffer.getvalue()).decode("ascii")})


def state_from_text(text: str) -> tuple[dict, dict[str, np.ndarray]]:
    """Inverse of `state_to_text`; arrays are read with `allow_pickle=False`."""
    doc = json.loads(text)
    if not isinstance(doc, dict) or doc.get("format") != TEXT_FORMAT:
        raise ConfigError("the text is not a dbt-dpsynth model state.", fix=f"pass the output of model_to_text "
                                                                            f"(format {TEXT_FORMAT!r}).")
    with np.load(io.BytesIO(base64.b64decode(doc["arrays"])), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return doc["meta"], arrays


def as_state_text(state: FittedSynthesizer | tuple[dict, dict[str, np.ndarray]] | str) -> str:
    """A fitted model, its `(meta, arrays)` state, or a `model_to_text` string (validated), as the text form."""
    if isinstance(state, str):
        state_from_text(state)
        return state
    if isinstance(state, FittedSynthesizer):
        return state_to_text(*state.to_state())
    meta, arrays = state
    return state_to_text(meta, arrays)


def model_to_text(model: FittedSynthesizer) -> str:
    """A fitted model as one JSON string (see `state_to_text`)."""
    return state_to_text(*model.to_state())


def model_from_text(text: str) -> FittedSynthesizer:
    """The fitted model stored by `model_to_text`."""
    return load_fitted(*state_from_text(text))
