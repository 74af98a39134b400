"""Chunked sampling straight into DuckDB: the same rows as the chunk plan, one chunk in memory at a time."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from dbt_dpsynth.engines.duckdb import write_sample
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.generators.chunked import plan_chunks, sample_chunk
from dpsynth_core.measurement import PandasEngine


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": np.arange(600), "a": rng.choice(["x", "y"], 600), "n": rng.integers(0, 9, 600)})
    spec = {"id": {"kind": "identifier"}, "a": {"categories": ["x", "y"]}, "n": {"kind": "integer", "lower": 0,
                                                                                "upper": 8}}
    return synthesize_table(PandasEngine(frame, "t"), spec, SynthesisConfig(epsilon=2.0, generator="mst",
                                                                            options={"iters": 20})).model


def test_written_rows_equal_the_chunk_plan_and_keys_stay_unique(model):
    con = duckdb.connect()
    rel = write_sample(con, model, 1050, seed=5, table="syn", chunk_rows=400)
    written = rel.order("id").df()
    expected = pd.concat([sample_chunk(model, c) for c in plan_chunks(1050, 400, 5)], ignore_index=True)
    assert len(written) == 1050 and written["id"].is_unique
    np.testing.assert_array_equal(written["a"].to_numpy(), expected["a"].to_numpy())
    np.testing.assert_array_equal(written["n"].fillna(-1).astype(int).to_numpy(),
                                  expected["n"].fillna(-1).astype(int).to_numpy())


def test_casts_and_zero_rows(model):
    con = duckdb.connect()
    rel = write_sample(con, model, 300, seed=1, table="syn", chunk_rows=100,
                       column_types=[("n", "INTEGER"), ("id", "INTEGER")])
    types = dict(zip(rel.columns, map(str, rel.types), strict=True))
    assert types["n"] == "INTEGER" and types["id"] == "INTEGER" and rel.count("*").fetchall()[0][0] == 300
    empty = write_sample(con, model, 0, seed=1, table="empty")
    assert empty.count("*").fetchall()[0][0] == 0 and list(empty.columns) == ["id", "a", "n"]
