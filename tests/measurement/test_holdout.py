"""The holdout split is a keyed-hash partition with a secret salt: one row never moves the others (issue #8, hole 1)."""

from collections import Counter

import duckdb
import numpy as np
import pandas as pd
import pytest

from dbt_dpsynth.engines.duckdb import DuckDBEngine
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.measurement.holdout import split_holdout
from dpsynth_core.measurement.pandas_engine import PandasEngine


def _rows(frame: pd.DataFrame) -> Counter:
    return Counter(frame.itertuples(index=False, name=None))


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"k": np.arange(3000), "a": rng.integers(0, 5, 3000), "b": rng.choice(list("xyz"), 3000)})
    frame.loc[2000:, "k"] = 7                      # a thousand rows share 15 patterns: many exact copies
    return frame


@pytest.mark.parametrize("engine_kind", ["pandas", "duckdb"])
def test_removing_one_row_changes_the_training_part_by_at_most_that_row(table, engine_kind):
    def engine_of(frame):
        if engine_kind == "pandas":
            return PandasEngine(frame, "t")
        con = duckdb.connect()
        con.register("src", frame)
        return DuckDBEngine(con.sql("select * from src"), "t", con)

    salt = b"the same secret salt"
    for dropped in (0, 1, 1500, 2999):
        train_d, _ = engine_of(table).partition_rows(0.2, salt)
        train_n, _ = engine_of(table.drop(index=dropped).reset_index(drop=True)).partition_rows(0.2, salt)
        a, b = _rows(train_d.fetch_rows(list(table.columns))), _rows(train_n.fetch_rows(list(table.columns)))
        diff = (a - b) + (b - a)                   # multiset symmetric difference
        assert sum(diff.values()) <= 1 and set(diff) <= {tuple(table.iloc[dropped])}


def test_the_split_ignores_the_public_seed_and_uses_fresh_salt(table):
    """Two releases with the same seed do not get the same split (the seed is public; the salt is not)."""
    engine = PandasEngine(table, "t")
    parts = [_rows(split_holdout(engine, 0.2)[1].fetch_rows(["k"])) for _ in range(2)]
    assert parts[0] != parts[1]
    release = synthesize_table(engine, {}, SynthesisConfig(epsilon=1.0, generator="mst", holdout=0.2, seed=7,
                                                           options={"iters": 20}))
    again = synthesize_table(engine, {}, SynthesisConfig(epsilon=1.0, generator="mst", holdout=0.2, seed=7,
                                                         options={"iters": 20}))
    assert _rows(release.evaluation.holdout) != _rows(again.evaluation.holdout)
    assert 400 < len(release.evaluation.holdout) < 800


@pytest.mark.parametrize("engine_kind", ["pandas", "duckdb"])
def test_copies_of_a_row_are_split_like_distinct_rows(engine_kind):
    """Identical rows do not all land on one side (the holdout must look like a fresh sample, duplicates included)."""
    frame = pd.DataFrame({"a": ["x"] * 2000, "b": [1] * 2000})
    if engine_kind == "pandas":
        engine = PandasEngine(frame, "t")
    else:
        con = duckdb.connect()
        con.register("src", frame)
        engine = DuckDBEngine(con.sql("select * from src"), "t", con)
    train, holdout = engine.partition_rows(0.25, b"salt")
    assert 400 < int(holdout.count_cells([])) < 600
    assert int(train.count_cells([])) + int(holdout.count_cells([])) == 2000


def test_the_pandas_hash_is_keyed_for_numeric_columns_too():
    """pandas applies its hash key to text only: numbers are hashed as text, so the salt decides every row's side."""
    from dpsynth_core.measurement.pandas_engine import keyed_row_hash

    frame = pd.DataFrame({"k": np.arange(500), "x": np.linspace(0.0, 1.0, 500)})
    assert (keyed_row_hash(frame, b"one salt") != keyed_row_hash(frame, b"another salt")).mean() > 0.99
    parts = [set(PandasEngine(frame).partition_rows(0.3, salt)[1].fetch_rows(["k"])["k"]) for salt in (b"a", b"b")]
    assert parts[0] != parts[1]
