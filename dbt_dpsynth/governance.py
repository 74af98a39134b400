"""Governance of one dbt release, around the synthesis: watermark key, marked rows, expiry, the governance block.

`ReleaseGovernance(settings.governance)` is used by `dbt_dpsynth.synthesize` at three points:

1. `prepare()` before anything is charged: loads the watermark key from its environment variable (a missing or short
   key is a ConfigError while nothing is charged yet);
2. `sample_seed(stored_seed)`: the seed the rows are sampled with. With a watermark it is derived from the stored seed
   and the key's fingerprint (`dpsynth_core.governance.watermark_seed`): the same key always marks the same rows, so
   a reuse serves the same watermarked table, and a different key (another recipient, a rotated key) marks a fresh
   sample of the same fitted model, never the same rows (free: sampling is post-processing);
3. `finish(rows, fitted, seed, released_at)`: embeds the watermark (post-processing: no privacy cost) and returns the
   governance block (release type, approval requirement, expiry, usage terms, watermark stamp with the key's
   fingerprint only) for the release record and the ledger row.

`expires_at(released_at)` tells the reuse step whether a stored release has expired (then a new release is made).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pandas as pd

from dpsynth_core import watermark as wm
from dpsynth_core.governance import Governance, watermark_seed


class ReleaseGovernance:
    """The governance settings of one model, with the watermark key once `prepare` loaded it."""

    def __init__(self, governance: Governance):
        self.governance = governance
        self._key: bytes | None = None

    def prepare(self) -> ReleaseGovernance:
        """Load the watermark key (if one is configured). Raises ConfigError when it is missing or too short."""
        if self.governance.watermark is not None:
            self._key = self.governance.watermark.load_key()
        return self

    @property
    def key_fingerprint(self) -> str | None:
        return wm.key_fingerprint(self._key) if self._key is not None else None

    def sample_seed(self, stored_seed: int) -> int:
        """The seed to sample the fitted model with (see the module docstring)."""
        fingerprint = self.key_fingerprint
        return int(stored_seed) if fingerprint is None else watermark_seed(stored_seed, fingerprint)

    def finish(self, rows: pd.DataFrame, fitted, seed: int, released_at: _dt.datetime | None
               ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """(rows, watermarked when a key is configured; the governance block for the record and the ledger row)."""
        stamp = None
        if self._key is not None:
            columns, bounds = wm.columns_from_domain(fitted.domain)
            rows, mark = wm.embed(rows, self._key, columns=columns, bounds=bounds, rng=int(seed))
            stamp = mark.to_dict()
        return rows, self.governance.to_record(released_at, stamp)

    def expires_at(self, released_at: _dt.datetime | None) -> _dt.datetime | None:
        return self.governance.expires_at(released_at)
