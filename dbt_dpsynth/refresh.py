"""When a model makes a new release instead of reusing its stored one: the `dpsynth.refresh` policy and the var.

    dpsynth: {refresh: on_change}        # default: a new release only when the fingerprint changes
    dpsynth: {refresh: always}           # every build is a new release (and a new charge)
    dpsynth: {refresh: {every: 90d}}     # reuse, but make a new release once the stored one is older than 90 days
    dbt build --vars '{dpsynth_refresh: [patients_synthetic]}'   # this invocation: a new release for these models

A data refresh upstream does not change the fingerprint (it cannot be detected without reading the data), so new
rows reach the synthetic table only through one of these.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Any, Sequence

from dpsynth_core.errors import ConfigError

MODES = ("on_change", "always", "every")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hdw])\s*$")
_UNIT = {"h": _dt.timedelta(hours=1), "d": _dt.timedelta(days=1), "w": _dt.timedelta(weeks=1)}
ALL_MODELS = "*"
_FIX = "write refresh: on_change (default), refresh: always, or refresh: {every: 90d} (units h, d, w)."


@dataclass(frozen=True)
class RefreshPolicy:
    """`mode` is one of MODES; `max_age` is set for 'every'."""

    mode: str = "on_change"
    max_age: _dt.timedelta | None = None

    @classmethod
    def parse(cls, raw: Any, table: str | None = None) -> "RefreshPolicy":
        """The policy from `dpsynth.refresh` (None = on_change). ConfigError names the value and the fix."""
        if raw is None or raw == "on_change":
            return cls()
        if raw == "always":
            return cls("always")
        if isinstance(raw, dict) and set(raw) == {"every"}:
            match = _DURATION.match(str(raw["every"]))
            if match and float(match.group(1)) > 0:
                return cls("every", float(match.group(1)) * _UNIT[match.group(2)])
        raise ConfigError(f"dpsynth.refresh={raw!r} is not a refresh policy.", table=table, fix=_FIX)

    def describe(self) -> str:
        return f"every {self.max_age}" if self.mode == "every" else self.mode


@dataclass(frozen=True)
class Decision:
    """Whether to reuse the stored release, and why (for the log)."""

    reuse: bool
    reason: str


def requested(names: Sequence[str], model_name: str, unique_id: str | None) -> bool:
    """Whether var `dpsynth_refresh` (`names`) asks this model for a new release ('*' asks every model)."""
    return any(n in (ALL_MODELS, model_name, unique_id) for n in names)


def decide(policy: RefreshPolicy, *, asked: bool, stored_at: _dt.datetime | None, now: _dt.datetime) -> Decision:
    """Reuse or release anew.

    Args:
        policy: the model's refresh policy.
        asked: var `dpsynth_refresh` names the model in this invocation.
        stored_at: when the reusable release (same fingerprint, model state stored) was released; None if none.
        now: the current time (UTC, naive, like the ledger's timestamps).
    """
    if asked:
        return Decision(False, "a new release was asked for by var 'dpsynth_refresh'")
    if policy.mode == "always":
        return Decision(False, "refresh: always")
    if stored_at is None:
        return Decision(False, "no stored release with this fingerprint (first release, or the settings changed)")
    if policy.mode == "every" and now - stored_at >= policy.max_age:
        return Decision(False, f"the stored release is older than refresh every {policy.max_age}")
    return Decision(True, "fingerprint unchanged" + (f", younger than {policy.max_age}" if policy.max_age else ""))
