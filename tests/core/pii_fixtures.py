"""A generated table with planted identifiers next to ordinary columns (for the PII scan tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dpsynth_core.pii_scan import _luhn

_FIRST = ["Mary", "James", "Linda", "Robert", "Sarah", "David", "Emma", "Oliver"]
_LAST = ["Smith", "Jones", "Garcia", "Brown", "Taylor", "Miller", "Davis", "Wilson"]


def _iban(rng) -> str:
    bban = "".join(str(d) for d in rng.integers(0, 10, 18))   # a DE-style 18-digit BBAN
    rearranged = bban + "DE00"
    check = 98 - int("".join(str(int(c, 36)) for c in rearranged)) % 97
    return f"DE{check:02d}{bban}"


def _card(rng) -> str:
    body = "4" + "".join(str(d) for d in rng.integers(0, 10, 14))
    check = next(d for d in range(10) if _luhn(body + str(d)))
    digits = body + str(check)
    return " ".join(digits[i:i + 4] for i in range(0, 16, 4))


def people_table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    first = rng.choice(_FIRST, n)
    last = rng.choice(_LAST, n)
    return pd.DataFrame({
        "patient_id": [f"P{100000 + i}" for i in range(n)],
        "full_name": [f"{f} {surname}" for f, surname in zip(first, last, strict=True)],
        "contact": [f"{f.lower()}.{surname.lower()}{i}@example.org"
                    for i, (f, surname) in enumerate(zip(first, last, strict=True))],
        "tel": [f"+1 ({rng.integers(200, 999)}) {rng.integers(200, 999)}-{rng.integers(1000, 9999)}" for _ in range(n)],
        "ref_a": [f"{rng.integers(100, 665)}-{rng.integers(10, 99)}-{rng.integers(1000, 9999)}" for _ in range(n)],
        "ref_b": [_iban(rng) for _ in range(n)],
        "ref_c": [".".join(str(x) for x in rng.integers(1, 255, 4)) for _ in range(n)],
        "ref_d": [_card(rng) for _ in range(n)],
        "remarks_text": [f"Called back on day {rng.integers(1, 28)}; spoke with {f} {surname} about the claim."
                         for f, surname in zip(first, last, strict=True)],
        "date_of_birth": pd.to_datetime("1940-01-01") + pd.to_timedelta(rng.integers(0, 25000, n), unit="D"),
        "age": rng.integers(18, 90, n),
        "sex": rng.choice(["f", "m"], n),
        "amount": np.round(rng.gamma(2.0, 50.0, n), 2),
        "region": rng.choice(["north", "south", "east", "west"], n),
        "visits": rng.integers(0, 12, n),
    })
