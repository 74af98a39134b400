"""Fitted models kept for reuse: the table `dpsynth_models` in the ledger's schema (a fitted model is post-processing of
DP measurements, so it carries no more than the release; its settings and fingerprint are public).

One row per released ledger row: the release's fingerprint (`dbt_dpsynth.fingerprint`), the sampling seed and row
count it was sampled with, and the fitted model as text (`dpsynth_core.serialization.model_to_text`: JSON plus the
arrays as a base64 .npz, read back with `allow_pickle=False`; never pickle) with its SHA-256.

Consistency with the ledger:
- the row is inserted in the same transaction that turns the ledger row 'released' (`Ledger.finish_released`), so a
  failed write leaves neither (the ledger row then becomes 'failed', still charged);
- a stored model is reusable only joined to a 'released' ledger row with its release_id (`find_reusable`): a model
  row without one (a ledger row deleted, or written by hand) is never served;
- the text is checked against its SHA-256 and the fingerprint before it is loaded.

Sampling is post-processing of the DP model, so re-sampling it with the stored seed serves the same rows again
without any new privacy cost.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import dataclass

from dpsynth_core.errors import ConfigError
from dpsynth_core.generators.base import FittedSynthesizer
from dpsynth_core.serialization import model_from_text

from .stores import store_for
from .tables import LEDGER, MODELS

RELEASED = "released"


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredModel:
    """What a release keeps for reuse (one `dpsynth_models` row)."""

    release_id: str
    model: str | None
    target_relation: str | None
    fingerprint: str
    fingerprint_json: str
    generator: str
    library_version: str
    sample_seed: int
    rows: int
    state_text: str

    @property
    def state_sha256(self) -> str:
        return sha256(self.state_text)


@dataclass(frozen=True)
class ReusableRelease:
    """A released row whose model is stored: enough to re-sample it (the state itself is read by `load`)."""

    release_id: str
    released_at: _dt.datetime | None
    generator: str
    sample_seed: int
    rows: int
    fingerprint: str


def insert(con, location, stored: StoredModel) -> None:
    """Insert one model row (called inside the ledger's transaction; see module docstring)."""
    values = {"release_id": stored.release_id, "model": stored.model, "target_relation": stored.target_relation,
              "fingerprint": stored.fingerprint, "fingerprint_json": stored.fingerprint_json,
              "generator": stored.generator, "library_version": stored.library_version,
              "sample_seed": int(stored.sample_seed), "rows": int(stored.rows),
              "state_sha256": stored.state_sha256, "state_text": stored.state_text, "created_at": _now()}
    store_for(con).insert(location, MODELS, [values])


def find_reusable(con, location, *, model: str | None, target_relation: str | None,
                  fingerprint: str) -> ReusableRelease | None:
    """The newest released row of `model` into `target_relation` with this fingerprint and a stored model.

    Two filtered reads joined here (the store has no joins): the model rows with this fingerprint (few: one per
    release of this model), then their 'released' ledger rows."""
    store = store_for(con)
    models = store.select(location, MODELS.table, ["release_id", "generator", "sample_seed", "rows", "fingerprint"],
                          {"model": model, "target_relation": target_relation, "fingerprint": fingerprint})
    if not models:
        return None
    by_id = {str(m[0]): m for m in models}
    released = store.select(location, LEDGER.table, ["release_id", "finished_at"],
                            {"release_id": tuple(by_id), "status": RELEASED}, order_by=["finished_at"],
                            descending=True, limit=1)
    if not released:
        return None
    rid, at = released[0]
    _, generator, seed, n, digest = by_id[str(rid)]
    return ReusableRelease(str(rid), at, str(generator), int(seed), int(n), str(digest))


def load(con, location, release: ReusableRelease) -> FittedSynthesizer:
    """The stored fitted model of `release`, checked against its SHA-256 (ConfigError when it does not match)."""
    rows = store_for(con).select(location, MODELS.table, ["state_text", "state_sha256"],
                                 {"release_id": release.release_id, "fingerprint": release.fingerprint})
    if len(rows) != 1 or rows[0][0] is None or sha256(rows[0][0]) != rows[0][1]:
        raise ConfigError(f"the stored model of release {release.release_id} in {location.models} is missing or does "
                          "not match its SHA-256; it is not served.",
                          fix="ask for a new release with --vars '{dpsynth_refresh: [<model>]}' (a new charge).")
    fitted = model_from_text(rows[0][0])
    if getattr(fitted, "generator", release.generator) != release.generator:
        raise ConfigError(f"the stored model of release {release.release_id} names generator "
                          f"{fitted.generator!r}, the release {release.generator!r}; it is not served.",
                          fix="ask for a new release with --vars '{dpsynth_refresh: [<model>]}'.")
    return fitted
