"""The Snowpark engine in Snowpark's local testing mode: counts equal the DuckDB engine's, the holdout partition is a
keyed hash of each row, and the in-warehouse UDTF sampler draws what in-process sampling draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from warehouse_cases import (
    BINNINGS,
    COUNT_VALUES_CASES,
    FIDELITY_BINNINGS,
    MODEL_SPEC,
    UNIT,
    binning_cases,
    bounded_counts,
    duckdb_engine,
    expected_bounded_counts,
    fidelity_cases,
    fitted_mst,
    normalised_counts,
    row_strings,
    source_frame,
)

from dbt_dpsynth.engines.snowpark import SnowparkDialect, SnowparkEngine, sample_in_snowflake
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.generators.chunked import plan_chunks, sample_chunk
from dpsynth_core.measurement import NumericBinning, PandasEngine
from dpsynth_core.measurement.engine import TypeFamily
from dpsynth_core.serialization import model_to_text

pytest.importorskip("snowflake.snowpark")


def snowpark_frame(session, frame: pd.DataFrame):
    """A local-testing DataFrame of `frame` (the emulator wants None, not NaN/NaT/pd.NA, in object columns)."""
    return session.create_dataframe(frame)


@pytest.fixture(scope="module")
def engines(snowpark_session):
    frame = source_frame()
    return SnowparkEngine(snowpark_frame(snowpark_session, frame), "t"), duckdb_engine(frame)


def test_schema_maps_snowflake_types_to_families(engines):
    snow, _ = engines
    assert [(c.name, c.type, c.family) for c in snow.schema()] == [
        ("name", "VARCHAR(16777216)", TypeFamily.STRING), ("x", "FLOAT", TypeFamily.FLOAT),
        ("flag", "BOOLEAN", TypeFamily.BOOLEAN), ("day", "TIMESTAMP_NTZ", TypeFamily.TIMESTAMP),
        ("d", "DATE", TypeFamily.DATE), ("k", "NUMBER(38,0)", TypeFamily.INTEGER),
        ("t", "VARCHAR(16777216)", TypeFamily.STRING), ("p", "FLOAT", TypeFamily.FLOAT)]


@pytest.mark.parametrize("type_name,family", [
    ("NUMBER(38,0)", TypeFamily.INTEGER), ("NUMBER", TypeFamily.INTEGER), ("NUMBER(10)", TypeFamily.INTEGER),
    ("NUMBER(10, 2)", TypeFamily.DECIMAL), ("DECIMAL(12,4)", TypeFamily.DECIMAL), ("INT", TypeFamily.INTEGER),
    ("FLOAT", TypeFamily.FLOAT), ("DOUBLE PRECISION", TypeFamily.FLOAT), ("VARCHAR(16777216)", TypeFamily.STRING),
    ("STRING", TypeFamily.STRING), ("TEXT", TypeFamily.STRING), ("BOOLEAN", TypeFamily.BOOLEAN),
    ("DATE", TypeFamily.DATE), ("DATETIME", TypeFamily.TIMESTAMP), ("TIMESTAMP", TypeFamily.TIMESTAMP),
    ("TIMESTAMP_NTZ(9)", TypeFamily.TIMESTAMP), ("TIMESTAMP_LTZ", TypeFamily.TIMESTAMP_TZ),
    ("TIMESTAMP_TZ(3)", TypeFamily.TIMESTAMP_TZ), ("TIME", TypeFamily.TIME), ("VARIANT", TypeFamily.NESTED),
    ("OBJECT", TypeFamily.NESTED), ("ARRAY", TypeFamily.NESTED), ("BINARY", TypeFamily.BINARY),
    ("GEOGRAPHY", TypeFamily.OTHER),
])
def test_dialect_type_families(type_name, family):
    assert SnowparkDialect().family(type_name) == family


def test_dialect_quotes_identifiers_and_escapes_literals():
    d = SnowparkDialect()
    assert d.quote('we"ird') == '"we""ird"'
    assert d.literal("o'ne\\il") == "'o''ne\\\\il'"
    assert d.literal(float("nan")) == "'NaN'::FLOAT"
    assert d.create_table_sql("db.s.t", [("a", "bigint"), ("b", "timestamp")]) == \
        'CREATE TABLE IF NOT EXISTS db.s.t ("a" NUMBER(38,0), "b" TIMESTAMP_NTZ)'


@pytest.mark.parametrize("case,binnings", binning_cases(), ids=[c for c, _ in binning_cases()])
def test_counts_equal_duckdb(engines, case, binnings):
    snow, duck = engines
    np.testing.assert_array_equal(snow.count_cells(binnings), duck.count_cells(binnings))


@pytest.mark.parametrize("case,binnings", fidelity_cases(), ids=[c for c, _ in fidelity_cases()])
def test_value_fidelity_codes_equal_duckdb(engines, case, binnings):
    """Text classes, numbers and timestamps read from text (pattern-gated), numeric codes, atoms, precision."""
    snow, duck = engines
    np.testing.assert_array_equal(snow.count_cells(binnings), duck.count_cells(binnings))


@pytest.mark.parametrize("column,kwargs", COUNT_VALUES_CASES, ids=[f"{c}-{k}" for c, k in COUNT_VALUES_CASES])
def test_count_values_pre_thresholds_and_groups_numbers_like_duckdb(engines, column, kwargs):
    snow, duck = engines
    got, expected = normalised_counts(snow.count_values(column, **kwargs)), \
        normalised_counts(duck.count_values(column, **kwargs))
    assert got and got == expected and all(n >= kwargs.get("min_count", 1) for n in got.values())
    if kwargs.get("numeric"):
        assert all(isinstance(v, float) for v in got)


def test_no_value_can_fail_a_query_or_reach_an_error(snowpark_session):
    """Text that no reading parses is null for every numeric reading; nothing raises (a strict cast would fail with
    an error quoting the value)."""
    frame = pd.DataFrame({"s": ["SSN-123-45-6789", "CANARY_SECRET_42", "7", "2020-13-45", None]})
    snow = SnowparkEngine(snowpark_frame(snowpark_session, frame), "v")
    binnings = [NumericBinning("s", (0.0, 5.0, 10.0)), NumericBinning("s", (0.0, 1e10), datetime=True),
                FIDELITY_BINNINGS["t_precision"].__class__("s"),
                FIDELITY_BINNINGS["k_number_codes"].__class__("s", (7.0,), True, True, numeric=True)]
    counts = snow.count_cells(binnings)
    assert counts.sum() == 5 and counts[1, 1, 0, 0] == 1 and counts[-1, -1, -1, -1] == 4
    assert normalised_counts(snow.count_values("s", numeric=True)) == {7.0: 1}


def test_row_count_and_value_counts_equal_duckdb(engines):
    snow, duck = engines
    assert int(snow.count_cells([])) == int(duck.count_cells([])) == len(source_frame())
    for column in ("name", "flag", "k", "d", "x"):
        assert normalised_counts(snow.count_values(column)) == normalised_counts(duck.count_values(column)), column


def test_nan_and_infinity_are_coded_like_the_reference_engine(snowpark_session):
    """Snowflake keeps NaN apart from NULL (NaN = NaN, and NaN sorts above every number); the reference codes NaN
    as null and clips infinities."""
    from snowflake.snowpark.types import DoubleType, StructField, StructType

    x = [float("nan"), float("inf"), -float("inf"), None, 0.5, 3.25, -7.0, 2.0]
    frame = snowpark_session.create_dataframe([[v] for v in x], schema=StructType([StructField("X", DoubleType())]))
    snow, ref = SnowparkEngine(frame, "t"), PandasEngine(pd.DataFrame({"X": pd.Series(x, dtype=float)}), "t")
    for binning in (NumericBinning("X", (-1.0, 0.0, 2.0, 10.0), True), NumericBinning("X", (-1.0, 1.0), False),
                    NumericBinning("X", (0.0, 0.5, 1.0), True, fractional=True)):
        np.testing.assert_array_equal(snow.count_cells([binning]), ref.count_cells([binning]))


def test_fetch_rows_returns_the_named_columns(engines):
    snow, _ = engines
    rows = snow.fetch_rows(["k", "name"])
    assert list(rows.columns) == ["k", "name"] and len(rows) == len(source_frame())
    assert sorted(rows["name"].dropna().unique()) == sorted(source_frame()["name"].dropna().unique())


def test_partition_moves_only_the_removed_row(snowpark_session):
    frame = source_frame(200, seed=1)[["name", "day", "k"]]
    salt = b"a secret salt"
    full_rest, full_part = SnowparkEngine(snowpark_frame(snowpark_session, frame), "t").partition_rows(0.3, salt)
    assert int(full_rest.count_cells([])) + int(full_part.count_cells([])) == 200
    assert 30 < int(full_part.count_cells([])) < 90
    columns = list(frame.columns)
    for dropped in (0, 137):
        smaller = frame.drop(index=dropped).reset_index(drop=True)
        rest, part = SnowparkEngine(snowpark_frame(snowpark_session, smaller), "t").partition_rows(0.3, salt)
        removed = set(row_strings(frame.iloc[[dropped]]))
        for before, after in ((full_rest, rest), (full_part, part)):
            diff = set(row_strings(before.fetch_rows(columns))) ^ set(row_strings(after.fetch_rows(columns)))
            assert diff <= removed
    _, other_salt = SnowparkEngine(snowpark_frame(snowpark_session, frame), "t").partition_rows(0.3, b"another salt")
    assert row_strings(other_salt.fetch_rows(columns)) != row_strings(full_part.fetch_rows(columns))


def test_partition_splits_copies_of_a_row_like_distinct_rows(snowpark_session):
    frame = pd.DataFrame({"name": ["x"] * 400, "k": [1] * 400})
    rest, part = SnowparkEngine(snowpark_frame(snowpark_session, frame), "t").partition_rows(0.25, b"salt")
    assert 60 < int(part.count_cells([])) < 140 and int(rest.count_cells([])) + int(part.count_cells([])) == 400


def test_bounded_counts_equal_duckdb(engines, max_rows=3):
    """At most k rows per unit (null keys one unit): the counts that do not depend on which rows the hash kept equal
    DuckDB's and the source's, and another salt keeps other rows.

    (Local testing mode computes the ORDER BY window and the filter on it, but it can then misalign the values of
    nullable numeric columns among the kept rows, depending on the data order: so this test reads only the key
    column's values. The Spark and DuckDB tests check that the kept rows are source rows.)"""
    snow, duck = engines
    salt = b"a secret salt"
    counts = bounded_counts(snow, max_rows, salt)
    assert counts == bounded_counts(duck, max_rows, salt)
    expected = expected_bounded_counts(source_frame(), max_rows)
    assert counts["rows"] == expected["rows"] and counts["per_unit"] == expected["per_unit"]
    keys = [snow.bound_rows_per_unit(UNIT, max_rows, s).fetch_rows([UNIT, "x"]) for s in (salt, b"another salt")]
    assert row_strings(keys[0]) != row_strings(keys[1])


def test_partition_by_unit_keeps_each_unit_on_one_side(engines):
    snow, _ = engines
    rest, part = snow.partition_rows(0.5, b"salt", UNIT)
    sides = [set(normalised_counts(e.count_values(UNIT))) | ({None} if e.count_cells([BINNINGS["name"]])[-1] else set())
             for e in (rest, part)]
    assert not sides[0] & sides[1] and sides[0] | sides[1] == set(source_frame()[UNIT].map(
        lambda v: v if isinstance(v, str) else None))
    assert int(rest.count_cells([])) + int(part.count_cells([])) == len(source_frame())


def test_synthesize_table_runs_on_the_snowpark_engine(snowpark_session):
    frame = source_frame(300, seed=2)[["name", "x", "k"]]
    engine = SnowparkEngine(snowpark_frame(snowpark_session, frame), "t")
    spec = {"name": {"kind": "categorical"}, "x": {"kind": "continuous", "lower": -10, "upper": 10, "bins": 8},
            "k": {"kind": "integer", "lower": 0, "upper": 9}}
    release = synthesize_table(engine, spec, SynthesisConfig(epsilon=2.0, generator="mst", seed=0, holdout=0.2,
                                                             options={"iters": 50}))
    assert release.record.epsilon_spent == pytest.approx(2.0, rel=1e-6)
    assert list(release.data.columns) == ["name", "x", "k"]
    assert release.evaluation is not None and len(release.evaluation.holdout) + len(release.evaluation.train) == 300


# ---- in-warehouse sampling ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model():
    return fitted_mst()


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["when"] = pd.to_datetime(out["when"]).dt.floor("us")          # warehouses keep microseconds
    out["c"] = out["c"].astype(float).round(9)
    for col in ("row_id", "n"):
        out[col] = out[col].astype("Int64")
    out["flag"] = out["flag"].astype("boolean")
    return out.sort_values("row_id").reset_index(drop=True)


def test_udtf_draws_exactly_the_in_process_chunks(snowpark_session, model):
    drawn = sample_in_snowflake(snowpark_session, model, 2000, chunk_rows=800, seed=5)
    got = drawn.to_pandas()
    assert list(got.columns) == list(MODEL_SPEC) or set(got.columns) == set(MODEL_SPEC)
    expected = pd.concat([sample_chunk(model, c) for c in plan_chunks(2000, 800, 5)], ignore_index=True)
    pd.testing.assert_frame_equal(_comparable(got[expected.columns]), _comparable(expected), check_dtype=False)
    assert sorted(got["row_id"]) == list(range(1, 2001))            # surrogate keys unique across chunks


def test_udtf_sample_has_the_in_process_distribution(snowpark_session, model):
    from scipy.stats import chi2_contingency

    drawn = sample_in_snowflake(snowpark_session, model_to_text(model), 4000, chunk_rows=1000, seed=11).to_pandas()
    local = model.sample(4000, seed=12)
    for columns in (["a"], ["a", "b"], ["n"], ["flag"]):
        keys, local_keys = row_strings(drawn[columns]), row_strings(local[columns])
        cells = sorted(set(keys) | set(local_keys))
        table = np.array([[keys.count(c) for c in cells], [local_keys.count(c) for c in cells]])
        assert chi2_contingency(table)[1] > 1e-3, columns
    # and it is not just any distribution: the planted a-b dependence survives
    assert (drawn["a"] == drawn["b"]).mean() > 0.7


def test_udtf_output_saves_as_a_table(snowpark_session, model):
    drawn = sample_in_snowflake(snowpark_session, model, 300, chunk_rows=128, seed=1)
    drawn.write.save_as_table("SYNTHETIC_SAMPLE", mode="overwrite", comment="dbt-dpsynth test")
    saved = snowpark_session.table("SYNTHETIC_SAMPLE")
    assert saved.count() == 300
    types = {f.name.strip('"'): type(f.datatype).__name__ for f in saved.schema.fields}
    assert types == {"row_id": "LongType", "a": "StringType", "b": "StringType", "c": "DoubleType",
                     "n": "LongType", "when": "TimestampType", "flag": "BooleanType"}


def test_accepts_only_snowpark_dataframes(snowpark_session):
    assert SnowparkEngine.accepts(snowpark_session.create_dataframe(pd.DataFrame({"a": [1]})))
    assert not SnowparkEngine.accepts(pd.DataFrame({"a": [1]}))
    assert not SnowparkEngine.accepts(BINNINGS["x"])


def test_marginal_generators_run_without_torch_opacus_duckdb_or_dbt():
    """The stored-procedure package set: Snowpark, numpy, pandas, scipy. torch, opacus, duckdb, dbt and scikit-learn
    are blocked from importing; MST is fitted through the Snowpark engine and sampled by the UDTF."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import sys
        for name in ("torch", "opacus", "duckdb", "dbt", "sklearn"):
            sys.modules[name] = None            # any import of these now fails
        import pandas as pd
        from snowflake.snowpark import Session
        from dbt_dpsynth.engines.snowpark import SnowparkEngine, sample_in_snowflake
        from dpsynth_core.api import synthesize_table
        from dpsynth_core.config import SynthesisConfig
        session = Session.builder.config("local_testing", True).create()
        frame = pd.DataFrame({"a": ["x", "y", "z", "x"] * 50, "k": [1, 2, 3, 4] * 50})
        engine = SnowparkEngine(session.create_dataframe(frame), "t")
        spec = {"a": {"categories": ["x", "y", "z"]}, "k": {"kind": "integer", "lower": 1, "upper": 4}}
        release = synthesize_table(engine, spec, SynthesisConfig(epsilon=1.0, generator="mst", seed=0,
                                                                 options={"iters": 20}))
        assert sample_in_snowflake(session, release.model, 100, chunk_rows=40, seed=1).count() == 100
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
