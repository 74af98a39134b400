"""Governance settings of one release: release type, approval, expiry, watermark and usage terms.

All of it is public configuration, validated before any data is read (one message style, `validation.Param`):

    dpsynth:
      release_type: vendor_share            # picks the per-release caps of the key's budget policy
      require_approval: true                # the released model (dpsynth_release) waits for an approval row
      expires_after_days: 90                # the release expires 90 days after it was made
      watermark: {key_env: DPSYNTH_WATERMARK_KEY, recipient: acme}   # keyed mark, post-processing only
      terms:                                # usage terms, carried into the comment, dbt meta, record and report
        purpose: QA of the claims dashboard
        recipients: [acme]
        contract: MSA-2025-017
        expires: 2026-06-30

None of these changes what the release guarantees (its epsilon, delta and accountant) and none costs budget: they
decide whether a release may be published, for how long, to whom, and let a found copy be traced.

The release expires at the earlier of `released_at + expires_after_days` and the end of `terms.expires` (UTC).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import ConfigError
from .validation import Interval, Param, validate_params

GOVERNANCE_KEYS = ("release_type", "require_approval", "expires_after_days", "watermark", "terms")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RECIPIENT_KEY_LABEL = "recipient:"
# A watermark's rows are sampled with a seed derived from the stored sampling seed and the key fingerprint, so one key
# always marks the same rows (a reuse serves them again) and two keys never mark the same rows (recipients comparing
# differently keyed copies of one sample could see and strip both marks).
_SEED_BITS = 62


def _release_type_problem(value: str) -> str | None:
    return None if _NAME.match(value) else "must be a lower-case name such as internal_test, vendor_share, public"


def _env_problem(value: str) -> str | None:
    return None if _ENV.match(value) else "must name an environment variable (letters, digits, _)"


def _date(value: Any) -> _dt.date | None:
    if value is None or isinstance(value, _dt.datetime):
        return value.date() if isinstance(value, _dt.datetime) else None
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _date_problem(value: Any) -> str | None:
    return None if _date(value) is not None else "must be a date written YYYY-MM-DD"


TERMS = {
    "purpose": Param(str, none=True, example="QA of the claims dashboard"),
    "recipients": Param(list, none=True, example=["acme"]),
    "contract": Param(str, none=True, example="MSA-2025-017"),
    "expires": Param((str, _dt.date), none=True, check=_date_problem, example="2026-06-30"),
}
WATERMARK = {
    "key_env": Param(str, check=_env_problem, example="DPSYNTH_WATERMARK_KEY"),
    "recipient": Param(str, none=True, example="acme"),
}
GOVERNANCE = {
    "release_type": Param(str, none=True, check=_release_type_problem, example="vendor_share"),
    "require_approval": Param(bool, example=True),
    "expires_after_days": Param(float, Interval(0, 36_600, closed="right"), none=True, example=90),
    "watermark": Param(dict, none=True, example="{key_env: DPSYNTH_WATERMARK_KEY}"),
    "terms": Param(dict, none=True, example="{purpose: ..., recipients: [...], contract: ..., expires: 2026-06-30}"),
}


@dataclass(frozen=True)
class UsageTerms:
    """What a recipient may do with the release: purpose, allowed recipients, contract reference, expiry date."""

    purpose: str | None = None
    recipients: tuple[str, ...] = ()
    contract: str | None = None
    expires: _dt.date | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None, table: str | None = None) -> UsageTerms | None:
        if raw is None:
            return None
        values = validate_params(raw, TERMS, what="terms setting", table=table)
        recipients = tuple(str(r) for r in values.get("recipients") or ())
        return cls(values.get("purpose"), recipients, values.get("contract"), _date(values.get("expires")))

    def to_dict(self) -> dict[str, Any]:
        return {"purpose": self.purpose, "recipients": list(self.recipients), "contract": self.contract,
                "expires": self.expires.isoformat() if self.expires else None}

    def summary(self) -> str:
        """One line for table comments: `purpose=...; recipients=a,b; contract=...; expires=YYYY-MM-DD`."""
        parts = [f"purpose={self.purpose}" if self.purpose else None,
                 f"recipients={','.join(self.recipients)}" if self.recipients else None,
                 f"contract={self.contract}" if self.contract else None,
                 f"expires={self.expires.isoformat()}" if self.expires else None]
        return "; ".join(p for p in parts if p)


@dataclass(frozen=True)
class WatermarkSetting:
    """Where the watermark key comes from: an environment variable (never the warehouse), and optionally a recipient
    whose own key is derived from it (`derive_key(master, 'recipient:<name>')`), so one secret serves many
    recipients and a found copy names its recipient."""

    key_env: str
    recipient: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None, table: str | None = None) -> WatermarkSetting | None:
        if raw is None:
            return None
        values = validate_params(raw, WATERMARK, what="watermark setting", table=table)
        if "key_env" not in values:
            raise ConfigError("the watermark setting names no key_env.", table=table,
                              fix="write `watermark: {key_env: DPSYNTH_WATERMARK_KEY}` and export the key there.")
        return cls(values["key_env"], values.get("recipient"))

    def load_key(self) -> bytes:
        """The key: from the environment variable, derived per recipient when one is named. ConfigError when the
        variable is unset or the key is short (before anything is charged)."""
        from . import watermark as wm

        master = wm.load_key(self.key_env)
        return wm.derive_key(master, _RECIPIENT_KEY_LABEL + self.recipient) if self.recipient else master

    def to_dict(self) -> dict[str, Any]:
        return {"key_env": self.key_env, "recipient": self.recipient}


def watermark_seed(sample_seed: int, key_fingerprint: str) -> int:
    """The sampling seed of a watermarked copy: a hash of the stored sampling seed and the key's public fingerprint."""
    digest = hashlib.sha256(f"dpsynth watermark sample:{int(sample_seed)}:{key_fingerprint}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - _SEED_BITS)


@dataclass(frozen=True)
class Governance:
    """The governance settings of one model (see the module docstring); `Governance()` = none configured."""

    release_type: str | None = None
    require_approval: bool = False
    expires_after_days: float | None = None
    watermark: WatermarkSetting | None = None
    terms: UsageTerms | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None, table: str | None = None) -> Governance:
        """From the keys of GOVERNANCE_KEYS in a model's settings (others are ignored here)."""
        picked = {k: v for k, v in dict(raw or {}).items() if k in GOVERNANCE_KEYS}
        values = validate_params(picked, GOVERNANCE, what="dpsynth setting", table=table)
        return cls(release_type=values.get("release_type"), require_approval=bool(values.get("require_approval")),
                   expires_after_days=values.get("expires_after_days"),
                   watermark=WatermarkSetting.parse(values.get("watermark"), table),
                   terms=UsageTerms.parse(values.get("terms"), table))

    @property
    def configured(self) -> bool:
        return self != Governance()

    def expires_at(self, released_at: _dt.datetime | None) -> _dt.datetime | None:
        """When the release expires (naive UTC): the earlier of `released_at + expires_after_days` and the end of the
        terms' expiry date; None when neither is set."""
        candidates = []
        if self.expires_after_days is not None and released_at is not None:
            candidates.append(released_at + _dt.timedelta(days=self.expires_after_days))
        if self.terms is not None and self.terms.expires is not None:
            candidates.append(_dt.datetime.combine(self.terms.expires + _dt.timedelta(days=1), _dt.time()))
        return min(candidates) if candidates else None

    def to_record(self, released_at: _dt.datetime | None, watermark_stamp: Mapping[str, Any] | None = None
                  ) -> dict[str, Any]:
        """The governance block of a release record / ledger row (no secret: the key's fingerprint only)."""
        expires = self.expires_at(released_at)
        mark = None
        if self.watermark is not None:
            mark = {**self.watermark.to_dict(), **dict(watermark_stamp or {})}
        return {"release_type": self.release_type, "require_approval": self.require_approval,
                "expires_after_days": self.expires_after_days,
                "expires_at": expires.isoformat(sep=" ") if expires else None,
                "terms": self.terms.to_dict() if self.terms else None,
                "terms_text": self.terms.summary() if self.terms else None, "watermark": mark}
