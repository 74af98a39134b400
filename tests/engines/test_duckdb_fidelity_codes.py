"""The DuckDB engine computes the value-fidelity code layouts exactly like the pandas reference engine: text classes,
numeric categorical codes on text and typed columns, atoms; `count_values` with pre-thresholding and numeric
grouping; and no value can fail a query (so none can reach an error message)."""

import duckdb
import numpy as np
import pandas as pd
import pytest

try:                                                       # the module is being renamed to engines/duckdb.py
    from dbt_dpsynth.engines.duckdb import DuckDBEngine
except ImportError:  # pragma: no cover - until the rename lands
    from dbt_dpsynth.engines.duckdb_engine import DuckDBEngine
from dpsynth_core.measurement import CategoricalBinning, NumericBinning, PandasEngine
from dpsynth_core.measurement.binning import TextClassBinning

TEXT = [" 12 ", "12.0", "-3", "007", "1.5e3", ".5", "2020-01-31", "2020-01-31T10:00:00Z", "2020-01-31 12:00:00+02:00",
        "Yes", "F", "zz", "1_000", "inf", "SSN-123-45-6789", None, "0", "0", "40", "40.0"]


@pytest.fixture()
def engines():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"t": pd.Series(TEXT, dtype=object),
                          "x": np.concatenate([[0.0] * 8, rng.normal(50, 20, 10), [np.nan, 99999.0]]),
                          "k": pd.array([12, 24, 36, 12, None, 60, 12, 24, 36, 48] * 2, dtype="Int64")})
    con = duckdb.connect()
    con.register("src", frame)
    con.execute("create table src_t as select * from src")
    return DuckDBEngine(con.table("src_t"), "src_t", con), PandasEngine(frame, "src_t")


def test_text_classes_numeric_codes_and_atoms_agree_cell_for_cell(engines):
    duck, pandas_engine = engines
    binnings = [TextClassBinning("t"),
                CategoricalBinning("t", (-3, 0, 12, 40, 1500.0), has_other=True, nullable=True, numeric=True),
                NumericBinning("t", (-10.0, 0.0, 20.0, 100.0), nullable=True),
                NumericBinning("t", (1.5e9, 1.58e9, 1.6e9), nullable=True, datetime=True),
                NumericBinning("x", (0.0, 25.0, 50.0, 75.0, 100.0), nullable=True, atoms=(0.0, 99999.0)),
                CategoricalBinning("k", (12, 24, 36, 48), has_other=True, nullable=True, numeric=True)]
    for b in binnings:
        np.testing.assert_array_equal(duck.count_cells([b]), pandas_engine.count_cells([b]), err_msg=str(b))
    np.testing.assert_array_equal(duck.count_cells(binnings[:2]), pandas_engine.count_cells(binnings[:2]))
    assert duck.count_cells([binnings[0]]).tolist() == [7, 2, 1, 2, 2, 5, 1]


def test_count_values_pre_thresholds_and_groups_numbers(engines):
    duck, pandas_engine = engines
    for kwargs in ({}, {"numeric": True}, {"numeric": True, "min_count": 2}, {"min_count": 3}):
        for column in ("t", "x", "k"):
            assert sorted(duck.count_values(column, **kwargs), key=str) == \
                sorted(pandas_engine.count_values(column, **kwargs), key=str), (column, kwargs)
    assert sorted(duck.count_values("t", numeric=True, min_count=2)) == [(0.0, 2), (12.0, 2), (40.0, 2)]


def test_no_value_can_fail_a_query():
    """A VARCHAR column read as a number or a date never raises (a strict cast would quote the value)."""
    con = duckdb.connect()
    rel = con.sql("select * from (values ('SSN-123-45-6789'), ('CANARY_SECRET_42'), ('7')) v(s)")
    duck = DuckDBEngine(rel, "v", con)
    counts = duck.count_cells([NumericBinning("s", (0.0, 5.0, 10.0)), NumericBinning("s", (0.0, 1e10), datetime=True)])
    assert counts.sum() == 3 and counts[2, 1] == 2 and counts[1, 1] == 1     # the texts are null for both readings
