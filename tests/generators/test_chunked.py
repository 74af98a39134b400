"""Chunked sampling (what the Snowflake UDTF and Spark mapInPandas run) and the one-string model state."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pandas as pd
import pytest

from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.errors import ConfigError
from dpsynth_core.generators.chunked import output_types, plain_frame, plan_chunks, sample_chunk
from dpsynth_core.measurement import PandasEngine
from dpsynth_core.serialization import TEXT_FORMAT, model_from_text, model_to_text, state_from_text, state_to_text


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    n = 2000
    frame = pd.DataFrame({"case_id": np.arange(n), "a": rng.choice(["x", "y", "z"], n), "c": rng.normal(40, 8, n),
                          "day": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 10**7, n), "s"),
                          "code": [f"k{i}" for i in range(n)]})
    spec = {"a": {"categories": ["x", "y", "z"]}, "c": {"kind": "continuous", "lower": 0, "upper": 80},
            "day": {"kind": "datetime", "lower": "2020-01-01", "upper": "2020-06-01"}, "code": {"kind": "identifier"}}
    return synthesize_table(PandasEngine(frame, "toy"), spec,
                            SynthesisConfig(epsilon=2.0, generator="mst", seed=0, options={"iters": 50})).model


def test_plan_covers_the_rows_in_chunks_with_spawned_seeds():
    chunks = plan_chunks(10_500, 4000, seed=7)
    assert [c.n_rows for c in chunks] == [4000, 4000, 2500]
    assert [c.first_row for c in chunks] == [0, 4000, 8000]
    assert [c.chunk_id for c in chunks] == [0, 1, 2]
    assert len({c.seed for c in chunks}) == 3 and all(0 <= c.seed < 2**63 for c in chunks)
    assert plan_chunks(10_500, 4000, seed=7) == chunks                      # one public seed fixes the table
    assert [c.seed for c in plan_chunks(10_500, 4000, seed=8)] != [c.seed for c in chunks]
    assert plan_chunks(0, 10, seed=1) == []
    assert [c.n_rows for c in plan_chunks(8, 4, seed=1)] == [4, 4]
    with pytest.raises(ConfigError, match="chunk_rows"):
        plan_chunks(10, 0, seed=1)
    with pytest.raises(ConfigError, match="negative"):
        plan_chunks(-1, 10, seed=1)


def test_a_chunk_is_the_models_sample_with_keys_offset(model):
    chunk = plan_chunks(900, 400, seed=3)[2]
    frame = sample_chunk(model, chunk)
    plain = model.sample(chunk.n_rows, seed=chunk.seed)
    pd.testing.assert_frame_equal(frame.drop(columns=["case_id", "code"]), plain.drop(columns=["case_id", "code"]))
    assert frame["case_id"].tolist() == list(range(801, 901))
    assert frame["code"].tolist() == [f"syn-{i:08d}" for i in range(801, 901)]
    whole = pd.concat([sample_chunk(model, c) for c in plan_chunks(900, 400, seed=3)])
    assert whole["case_id"].is_unique and whole["code"].is_unique


def test_output_types_come_from_the_domain(model):
    assert output_types(model.domain) == [("case_id", "bigint"), ("a", "string"), ("c", "double"),
                                          ("day", "timestamp"), ("code", "string")]


def test_plain_frame_has_none_for_nulls_and_iso_text_for_time():
    frame = pd.DataFrame({"i": pd.array([1, None], dtype="Int64"), "f": [0.5, np.nan], "b": pd.array([True, None],
                         dtype="boolean"), "s": ["x", None], "t": pd.to_datetime(["2020-01-02 03:04:05.123456789",
                                                                                   None]),
                          "d": pd.to_datetime(["2020-01-02", None])})
    out = plain_frame(frame, [("i", "bigint"), ("f", "double"), ("b", "boolean"), ("s", "string"),
                              ("t", "timestamp"), ("d", "date")])
    assert list(out.columns) == ["C0", "C1", "C2", "C3", "C4", "C5"]
    assert out.iloc[0].tolist() == [1, 0.5, True, "x", "2020-01-02 03:04:05.123456", "2020-01-02"]
    assert all(v is None for v in out.iloc[1].tolist())


def test_model_text_round_trips_and_is_json(model):
    text = model_to_text(model)
    doc = json.loads(text)
    assert doc["format"] == TEXT_FORMAT and doc["meta"]["generator"] == "mst"
    pd.testing.assert_frame_equal(model_from_text(text).sample(300, seed=4), model.sample(300, seed=4))


def test_model_text_refuses_pickled_arrays(model):
    meta, arrays = model.to_state()
    with pytest.raises(ConfigError, match="pickle"):
        state_to_text(meta, {**arrays, "evil": np.array([{"a": 1}], dtype=object)})
    buffer = io.BytesIO()
    np.savez(buffer, evil=np.array([{"a": 1}], dtype=object))             # a tampered state smuggling a pickle
    tampered = json.dumps({"format": TEXT_FORMAT, "meta": meta, "arrays": base64.b64encode(buffer.getvalue()).decode()})
    with pytest.raises(ValueError, match="allow_pickle"):
        state_from_text(tampered)
    with pytest.raises(ConfigError, match="not a dbt-dpsynth model state"):
        state_from_text(json.dumps({"meta": meta}))
