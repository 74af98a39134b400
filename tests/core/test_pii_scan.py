"""PII scan: finds planted emails/phones/ids/names in a generated table, is silent on ordinary columns (nassCDS and the
other shared tables), validates checksums, and never prints a raw value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pii_fixtures import people_table

from dpsynth_core.pii_scan import (
    DIRECT,
    DROP,
    GENERALISE,
    IDENTIFIER,
    NOTICE,
    PATTERNS,
    QUASI,
    normalise_name,
    scan_column,
    scan_frame,
)

ROOT = Path(__file__).resolve().parents[2]
SHARED = next((p for p in (ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data") if p.is_dir()),
              ROOT.parent / "shared" / "data")     # a checkout beside shared/, or a worktree one level deeper

EXPECTED = {
    "patient_id": (DIRECT, IDENTIFIER, None),
    "full_name": (DIRECT, DROP, "person_name"),
    "contact": (DIRECT, DROP, "email"),
    "tel": (DIRECT, DROP, "phone"),
    "ref_a": (DIRECT, DROP, "us_ssn"),
    "ref_b": (DIRECT, DROP, "iban"),
    "ref_c": (DIRECT, DROP, "ip_address"),
    "ref_d": (DIRECT, DROP, "credit_card"),
    "remarks_text": (DIRECT, DROP, "person_name"),
    "date_of_birth": (QUASI, GENERALISE, None),
}


def test_finds_every_planted_identifier_by_value_even_under_neutral_names():
    report = scan_frame(people_table(), table="people")
    found = {f.column: f for f in report.flagged}
    assert set(found) == set(EXPECTED)
    for column, (role, suggestion, pattern) in EXPECTED.items():
        f = found[column]
        assert (f.role, f.suggestion) == (role, suggestion), column
        if pattern:
            assert f.matches[pattern] == 600 and pattern == max(f.matches, key=f.matches.get), column
    assert report.suggested_spec() == {"patient_id": {"kind": "identifier"}}


def test_says_nothing_about_the_ordinary_columns_of_nasscds(nass):
    report = scan_frame(nass, table="nassCDS")
    assert [(f.column, f.suggestion) for f in report.flagged] == [("caseid", IDENTIFIER)]   # the case key, by name
    assert all(not f.matches for f in report.findings)


@pytest.mark.parametrize("name", ["acs12", "yrbss", "HealthInsurance", "NMES1988", "CreditCard", "Treatment"])
def test_says_nothing_about_the_other_shared_tables(name):
    path = SHARED / f"{name}.csv"
    if not path.exists():
        pytest.skip("shared data not available")
    assert scan_frame(pd.read_csv(path), table=name).flagged == ()


def test_checksums_reject_lookalikes():
    iban, card = PATTERNS["iban"], PATTERNS["credit_card"]
    assert iban.matches("GB82 WEST 1234 5698 7654 32") and not iban.matches("GB83WEST12345698765432")
    assert card.matches("4111 1111 1111 1111") and not card.matches("4111 1111 1111 1112")
    assert PATTERNS["us_ssn"].matches("123-45-6789") and not PATTERNS["us_ssn"].matches("000-45-6789")
    assert not PATTERNS["us_ssn"].matches("923-45-6789") and not PATTERNS["us_ssn"].matches("123-00-6789")
    assert PATTERNS["ip_address"].matches("10.0.0.255") and not PATTERNS["ip_address"].matches("10.0.0.256")
    assert PATTERNS["ip_address"].matches("2001:db8::1") and not PATTERNS["ip_address"].matches("2:3:1")
    assert PATTERNS["phone"].matches("+44 20 7946 0958") and not PATTERNS["phone"].matches("2021-03-04 10:00")
    assert not PATTERNS["phone"].matches("25-39") and not PATTERNS["phone"].matches("192.168.100.200")
    assert PATTERNS["person_name"].matches("Smith, Mary") and PATTERNS["person_name"].matches("met John Smith")
    assert not PATTERNS["person_name"].matches("New York") and not PATTERNS["person_name"].matches("driver")


@pytest.mark.parametrize("name, normal, suggestion", [
    ("PatientID", "_patient_id_", IDENTIFIER), ("caseid", "_caseid_", IDENTIFIER), ("uuid", "_uuid_", IDENTIFIER),
    ("EmailAddress", "_email_address_", DROP), ("home_phone", "_home_phone_", DROP), ("SSN", "_ssn_", DROP),
    ("last_name", "_last_name_", DROP), ("dateOfBirth", "_date_of_birth_", GENERALISE), ("zip", "_zip_", GENERALISE),
    ("product_name", "_product_name_", None), ("id_type", "_id_type_", None), ("ageOFocc", "_age_o_focc_", None),
    ("birth_year", "_birth_year_", None), ("sex", "_sex_", None), ("paid", "_paid_", None),
])
def test_name_rules(name, normal, suggestion):
    assert normalise_name(name) == normal
    assert scan_column(name, pd.Series(["x", "y"] * 30)).suggestion == suggestion


def test_unique_integer_and_free_text_columns_and_quiet_continuous_ones():
    n = 200
    assert scan_column("k", pd.Series(range(n))).suggestion == IDENTIFIER
    notes = pd.Series([f"visit {i} went fine and the follow up is booked for next month" for i in range(n)])
    assert scan_column("x", notes).suggestion == DROP
    assert scan_column("x", pd.Series([0.1 * i + 0.01 for i in range(n)])).flagged is False   # floats are unique
    assert scan_column("x", pd.Series(pd.date_range("2020-01-01", periods=n, freq="h"))).flagged is False
    assert scan_column("blob", pd.Series([b"\x00\x01"] * n)).suggestion == DROP


def test_report_never_prints_raw_values_and_carries_the_notice():
    frame = people_table()
    text = scan_frame(frame, table="people").to_text()
    assert NOTICE in text
    for column in ("contact", "tel", "ref_a", "ref_b", "full_name"):
        assert not any(str(v) in text for v in frame[column].head(50))
