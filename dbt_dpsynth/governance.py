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

`refuse_unservable` stops a reuse of a stored release that expired (by the model's current expiry settings) or was
withdrawn (`dpsynth_withdraw`): serving it again would put it back in a table. The refusal charges nothing; a new
release is made only when asked for (`--vars '{dpsynth_refresh: [model]}'`, `refresh: always`).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pandas as pd

from dpsynth_core import watermark as wm
from dpsynth_core.errors import ConfigError
from dpsynth_core.governance import Governance, watermark_seed

from .ledger import LEDGER_TABLE, WITHDRAWN_STATUS, _now


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
        """(rows, watermarked when a key is configured; the governance block for the record and the ledger row, {}
        when the model configures no governance)."""
        stamp = None
        if self._key is not None:
            columns, bounds = wm.columns_from_domain(fitted.domain)
            rows, mark = wm.embed(rows, self._key, columns=columns, bounds=bounds, rng=int(seed))
            stamp = mark.to_dict()
        if not self.governance.configured:
            return rows, {}
        return rows, self.governance.to_record(released_at, stamp)

    def expires_at(self, released_at: _dt.datetime | None) -> _dt.datetime | None:
        return self.governance.expires_at(released_at)


def refuse_unservable(book, stored, governance: Governance, model_name: str, now: _dt.datetime | None = None) -> None:
    """Raise ConfigError (before anything is charged) when the stored release `stored` (a `ReusableRelease`) must not
    be served again: withdrawn, or expired under the model's expiry settings (`expires_after_days`, `terms.expires`).

    Args:
        book: the invocation's Ledger.
        stored: the release reuse would serve.
        governance: the model's governance settings (the expiry is re-evaluated with them: a later expiry re-allows it).
        model_name: for the message.
        now: the decision time (default: now, UTC).
    """
    again = f"--vars '{{dpsynth_refresh: [{model_name}]}}'"
    withdrawn = book.store.select(book.location, LEDGER_TABLE, ["finished_at", "error"],
                                  {"release_id": stored.release_id, "status": WITHDRAWN_STATUS},
                                  order_by=["finished_at"], limit=1)
    if withdrawn:
        at, note = withdrawn[0]
        raise ConfigError(f"the stored release {stored.release_id} of this model was withdrawn at {at:%Y-%m-%d %H:%M} "
                          f"UTC ({note}); it is not served again. Nothing was charged.", table=model_name,
                          fix=f"make a new release only if it is allowed ({again}: a new charge), or disable the "
                              "model.")
    expires = governance.expires_at(stored.released_at)
    if expires is not None and expires <= (now or _now()):
        raise ConfigError(f"the stored release {stored.release_id} of this model expired at {expires:%Y-%m-%d %H:%M} "
                          "UTC (expires_after_days / terms.expires); it is not served again. Nothing was charged.",
                          table=model_name,
                          fix=f"ask for a new release ({again}, or refresh: always; a new charge), set a later expiry, "
                              "or disable the model (and drop the table: dbt run-operation dpsynth_drop_expired).")
