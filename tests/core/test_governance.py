"""Governance settings of a release (issue 13): validated before any read, one message style, the expiry rule, the
governance block (no secret), and the watermark's sampling seed."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from dpsynth_core import watermark as wm
from dpsynth_core.errors import ConfigError
from dpsynth_core.governance import Governance, UsageTerms, WatermarkSetting, watermark_seed

KEY = "governance-unit-test-key-0123456789"
FULL = {"release_type": "vendor_share", "require_approval": True, "expires_after_days": 30,
        "watermark": {"key_env": "WM_KEY", "recipient": "acme"},
        "terms": {"purpose": "QA", "recipients": ["acme", "beta"], "contract": "MSA-1", "expires": "2026-06-30"},
        "epsilon": 1.0}   # other settings are ignored here (SynthesisConfig validates them)


def test_full_settings_parse_and_none_configured_is_the_default():
    gov = Governance.parse(FULL, "t")
    assert (gov.release_type, gov.require_approval, gov.expires_after_days) == ("vendor_share", True, 30.0)
    assert gov.terms == UsageTerms("QA", ("acme", "beta"), "MSA-1", dt.date(2026, 6, 30))
    assert gov.watermark == WatermarkSetting("WM_KEY", "acme") and gov.configured
    assert Governance.parse({"epsilon": 1}) == Governance() and not Governance().configured


@pytest.mark.parametrize("raw, needle", [
    ({"release_type": "Vendor Share"}, "lower-case name"),
    ({"require_approval": "yes"}, "require_approval"),
    ({"expires_after_days": 0}, "expires_after_days"),
    ({"expires_after_days": -3}, "expires_after_days"),
    ({"terms": {"purpose": "QA", "recipient": ["a"]}}, "unknown terms setting"),
    ({"terms": {"expires": "next year"}}, "YYYY-MM-DD"),
    ({"terms": ["QA"]}, "terms"),
    ({"watermark": {"recipient": "acme"}}, "key_env"),
    ({"watermark": {"key_env": "not a var"}}, "environment variable"),
    ({"watermark": {"key_env": "K", "key": "inline-secret"}}, "unknown watermark setting"),
])
def test_bad_settings_are_refused_naming_the_setting_and_the_fix(raw, needle):
    with pytest.raises(ConfigError, match=needle) as info:
        Governance.parse(raw, "patients_syn")
    assert "Fix:" in str(info.value) and "patients_syn" in str(info.value)


def test_the_release_expires_at_the_earlier_of_its_days_and_its_terms():
    made = dt.datetime(2026, 6, 1, 12, 0)
    assert Governance(expires_after_days=10).expires_at(made) == dt.datetime(2026, 6, 11, 12, 0)
    terms = UsageTerms(expires=dt.date(2026, 6, 5))
    assert Governance(terms=terms).expires_at(made) == dt.datetime(2026, 6, 6)         # end of the terms' last day
    assert Governance(expires_after_days=1, terms=terms).expires_at(made) == dt.datetime(2026, 6, 2, 12, 0)
    assert Governance().expires_at(made) is None


def test_the_governance_block_is_json_and_holds_the_key_fingerprint_only(monkeypatch):
    monkeypatch.setenv("WM_KEY", KEY)
    gov = Governance.parse(FULL)
    key = gov.watermark.load_key()
    assert key == wm.derive_key(KEY, "recipient:acme") and key != KEY.encode()   # a per-recipient key
    block = gov.to_record(dt.datetime(2026, 1, 1), {"key_fingerprint": wm.key_fingerprint(key), "scheme": wm.SCHEME})
    text = json.dumps(block)
    assert KEY not in text and key.hex() not in text and block["watermark"]["key_fingerprint"].startswith("wm1:")
    assert block["expires_at"] == "2026-01-31 00:00:00" and block["terms"]["recipients"] == ["acme", "beta"]
    assert block["terms_text"] == "purpose=QA; recipients=acme,beta; contract=MSA-1; expires=2026-06-30"


def test_a_missing_watermark_key_is_a_config_error(monkeypatch):
    monkeypatch.delenv("WM_KEY", raising=False)
    with pytest.raises(ConfigError, match="WM_KEY"):
        WatermarkSetting("WM_KEY").load_key()


def test_one_key_always_samples_the_same_rows_and_two_keys_never_the_same():
    a, b = wm.key_fingerprint(KEY), wm.key_fingerprint(wm.derive_key(KEY, "recipient:b"))
    assert watermark_seed(7, a) == watermark_seed(7, a)
    assert len({watermark_seed(7, a), watermark_seed(7, b), watermark_seed(8, a), 7}) == 4
    assert 0 <= watermark_seed(7, a) < 2 ** 62
