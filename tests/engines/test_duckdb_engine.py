import duckdb
import numpy as np
import pandas as pd
import pytest

from dbt_dpsynth.engines.duckdb import DuckDBEngine
from dpsynth_core.measurement import CategoricalBinning, NumericBinning, PandasEngine


@pytest.fixture()
def engines():
    frame = pd.DataFrame({
        "name": ["o'neil", "ann", None, "bob", "ann", "zed"],
        "x": [1.5, -3.0, 7.0, None, 1e9, 2.0],
        "flag": [True, False, None, True, True, False],
        "day": pd.to_datetime(["2020-01-01", "2021-06-01", None, "2019-12-31", "2020-01-02", "2022-01-01"]),
    })
    con = duckdb.connect()
    con.register("src", frame)
    con.execute("create table t as select * from src")
    return DuckDBEngine(con.table("t"), "t", con), PandasEngine(frame, "t")


def test_duckdb_and_pandas_engines_agree_cell_for_cell(engines):
    duck, pandas_engine = engines
    binnings = [CategoricalBinning("name", ("ann", "o'neil"), True, True),
                NumericBinning("x", (-1.0, 0.0, 2.0, 10.0), True),
                CategoricalBinning("flag", (False, True), False, True),
                NumericBinning("day", (1.5e9, 1.58e9, 1.6e9, 1.7e9), True, datetime=True)]
    for k in range(1, len(binnings) + 1):
        np.testing.assert_array_equal(duck.count_cells(binnings[:k]), pandas_engine.count_cells(binnings[:k]))
    assert duck.count_cells([]) == 6
    assert sorted(duck.count_values("name")) == sorted(pandas_engine.count_values("name"))


def test_partition_splits_rows(engines):
    duck, pandas_engine = engines
    for engine in (duck, pandas_engine):
        train, hold = engine.partition_rows(0.5, b"salt")
        assert train.count_cells([]) + hold.count_cells([]) == 6
