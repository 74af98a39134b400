"""The Spark engine on a local SparkSession: counts equal the DuckDB engine's, NaN is null as in the reference
engine, the holdout partition is a keyed hash of each row, and `mapInPandas` sampling draws what in-process sampling
draws. Marked `spark` (one session start, ~10 s): deselect with `-m 'not spark'`."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from warehouse_cases import (
    BINNINGS,
    COUNT_VALUES_CASES,
    FIDELITY_BINNINGS,
    FIDELITY_JOINTS,
    UNIT,
    binning_cases,
    bounded_counts,
    duckdb_engine,
    expected_bounded_counts,
    fitted_mst,
    is_sub_multiset,
    normalised_counts,
    row_strings,
    source_frame,
)

from dbt_dpsynth.engines.spark import SparkDialect, SparkEngine, sample_in_spark
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.generators.chunked import plan_chunks, sample_chunk
from dpsynth_core.measurement import NumericBinning, PandasEngine
from dpsynth_core.measurement.engine import TypeFamily
from dpsynth_core.serialization import model_to_text

pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark


def spark_frame(spark, frame: pd.DataFrame):
    """`frame` as a Spark DataFrame with explicit types (object columns would otherwise be guessed)."""
    schema = ", ".join(f"`{c}` {t}" for c, t in {"name": "string", "x": "double", "flag": "boolean",
                                                 "day": "timestamp", "d": "date", "k": "bigint", "t": "string",
                                                 "p": "double"}.items()
                       if c in frame.columns)
    rows = [tuple(None if (not isinstance(v, str) and pd.isna(v)) else
                  (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for v in row)
            for row in frame.itertuples(index=False, name=None)]
    return spark.createDataFrame(rows, schema)


@pytest.fixture(scope="module")
def engines(spark):
    frame = source_frame()
    return SparkEngine(spark_frame(spark, frame), "t"), duckdb_engine(frame)


def test_schema_maps_spark_types_to_families(engines):
    sp, _ = engines
    assert [(c.name, c.type, c.family) for c in sp.schema()] == [
        ("name", "STRING", TypeFamily.STRING), ("x", "DOUBLE", TypeFamily.FLOAT),
        ("flag", "BOOLEAN", TypeFamily.BOOLEAN), ("day", "TIMESTAMP", TypeFamily.TIMESTAMP_TZ),
        ("d", "DATE", TypeFamily.DATE), ("k", "BIGINT", TypeFamily.INTEGER), ("t", "STRING", TypeFamily.STRING),
        ("p", "DOUBLE", TypeFamily.FLOAT)]


@pytest.mark.parametrize("type_name,family", [
    ("INT", TypeFamily.INTEGER), ("BIGINT", TypeFamily.INTEGER), ("TINYINT", TypeFamily.INTEGER),
    ("DECIMAL(10,0)", TypeFamily.INTEGER), ("DECIMAL(10,2)", TypeFamily.DECIMAL), ("FLOAT", TypeFamily.FLOAT),
    ("DOUBLE", TypeFamily.FLOAT), ("STRING", TypeFamily.STRING), ("VARCHAR(10)", TypeFamily.STRING),
    ("TIMESTAMP_NTZ", TypeFamily.TIMESTAMP), ("TIMESTAMP", TypeFamily.TIMESTAMP_TZ), ("DATE", TypeFamily.DATE),
    ("ARRAY<INT>", TypeFamily.NESTED), ("MAP<STRING,INT>", TypeFamily.NESTED), ("STRUCT<A:INT>", TypeFamily.NESTED),
    ("BINARY", TypeFamily.BINARY), ("INTERVAL DAY TO SECOND", TypeFamily.OTHER), ("VOID", TypeFamily.OTHER),
])
def test_dialect_type_families(type_name, family):
    assert SparkDialect().family(type_name) == family


def test_dialect_quotes_identifiers_and_escapes_literals(spark):
    d = SparkDialect()
    assert d.quote("we`ird") == "`we``ird`"
    text = "o'ne\\il"
    assert spark.sql(f"select {d.literal(text)} as v").collect()[0].v == text   # Spark parses it back
    assert np.isnan(spark.sql(f"select {d.literal(float('nan'))} as v").collect()[0].v)


# every binning, and a few pairs: each Spark query costs about a second here (all pairs run on Snowpark and DuckDB)
@pytest.mark.parametrize("case,binnings", binning_cases(all_pairs=False), ids=[c for c, _ in binning_cases(False)])
def test_counts_equal_duckdb(engines, case, binnings):
    sp, duck = engines
    np.testing.assert_array_equal(sp.count_cells(binnings), duck.count_cells(binnings))


# the value-fidelity binnings in two joint tables: every binning's counts (and their interactions) in two queries
@pytest.mark.parametrize("joint", FIDELITY_JOINTS, ids=["*".join(j) for j in FIDELITY_JOINTS])
def test_value_fidelity_codes_equal_duckdb(engines, joint):
    sp, duck = engines
    binnings = [FIDELITY_BINNINGS[name] for name in joint]
    np.testing.assert_array_equal(sp.count_cells(binnings), duck.count_cells(binnings))


SPARK_COUNT_VALUES = [COUNT_VALUES_CASES[i] for i in (2, 3, 5, 6)]


@pytest.mark.parametrize("column,kwargs", SPARK_COUNT_VALUES, ids=[f"{c}-{k}" for c, k in SPARK_COUNT_VALUES])
def test_count_values_pre_thresholds_and_groups_numbers_like_duckdb(engines, column, kwargs):
    sp, duck = engines
    got, expected = normalised_counts(sp.count_values(column, **kwargs)), \
        normalised_counts(duck.count_values(column, **kwargs))
    assert got and got == expected and all(n >= kwargs.get("min_count", 1) for n in got.values())


def test_no_value_can_fail_a_query_in_ansi_mode(spark):
    """ANSI mode (Spark 4's default) fails a cast of text that does not parse, quoting it: the engine never casts
    text that the text classes did not admit, and reads an impossible date as null."""
    assert spark.conf.get("spark.sql.ansi.enabled") == "true"
    sp = SparkEngine(spark.createDataFrame([("SSN-123-45-6789",), ("CANARY_SECRET_42",), ("7",), ("2020-02-30",),
                                            (None,)], "s string"), "v")
    binnings = [NumericBinning("s", (0.0, 5.0, 10.0)), NumericBinning("s", (0.0, 1e10), datetime=True),
                FIDELITY_BINNINGS["t_precision"].__class__("s"),
                FIDELITY_BINNINGS["k_number_codes"].__class__("s", (7.0,), True, True, numeric=True)]
    counts = sp.count_cells(binnings)
    assert counts.sum() == 5 and counts[1, 1, 0, 0] == 1 and counts[-1, -1, -1, -1] == 4


def test_row_count_and_value_counts_equal_duckdb(engines):
    sp, duck = engines
    assert int(sp.count_cells([])) == int(duck.count_cells([])) == len(source_frame())
    for column in ("name", "flag", "k", "d", "x"):
        assert normalised_counts(sp.count_values(column)) == normalised_counts(duck.count_values(column)), column


def test_nan_and_infinity_are_coded_like_the_reference_engine(spark):
    """Spark keeps NaN apart from NULL (and NaN sorts above every number); the reference codes NaN as null."""
    x = [float("nan"), float("inf"), -float("inf"), None, 0.5, 3.25, -7.0, 2.0]
    sp = SparkEngine(spark.createDataFrame([(v,) for v in x], "x double"), "t")
    ref = PandasEngine(pd.DataFrame({"x": pd.Series(x, dtype=float)}), "t")
    for binning in (NumericBinning("x", (-1.0, 0.0, 2.0, 10.0), True), NumericBinning("x", (-1.0, 1.0), False),
                    NumericBinning("x", (0.0, 0.5, 1.0), True, fractional=True)):
        np.testing.assert_array_equal(sp.count_cells([binning]), ref.count_cells([binning]))


def test_wall_clock_timestamps_bin_like_instants_in_utc(spark, engines):
    sp, _ = engines
    ntz = SparkEngine(sp.dataframe.withColumn("day", sp.dataframe["day"].cast("timestamp_ntz")), "t")
    assert dict((c.name, c.family) for c in ntz.schema())["day"] == TypeFamily.TIMESTAMP
    np.testing.assert_array_equal(ntz.count_cells([BINNINGS["day"]]), sp.count_cells([BINNINGS["day"]]))


def test_fetch_rows_returns_the_named_columns(engines):
    sp, _ = engines
    rows = sp.fetch_rows(["k", "name"])
    assert list(rows.columns) == ["k", "name"] and len(rows) == len(source_frame())


def test_partition_moves_only_the_removed_row(spark):
    frame = source_frame(400, seed=1)[["name", "x", "day", "d", "k"]]
    salt = b"a secret salt"
    full_rest, full_part = SparkEngine(spark_frame(spark, frame), "t").partition_rows(0.3, salt)
    assert int(full_rest.count_cells([])) + int(full_part.count_cells([])) == 400
    assert 80 < int(full_part.count_cells([])) < 160
    columns = list(frame.columns)
    for dropped in (0, 399):
        smaller = frame.drop(index=dropped).reset_index(drop=True)
        rest, part = SparkEngine(spark_frame(spark, smaller), "t").partition_rows(0.3, salt)
        removed = set(row_strings(_fetched_row(spark, frame, dropped, columns)))
        for before, after in ((full_rest, rest), (full_part, part)):
            diff = set(row_strings(before.fetch_rows(columns))) ^ set(row_strings(after.fetch_rows(columns)))
            assert diff <= removed
    _, other_salt = SparkEngine(spark_frame(spark, frame), "t").partition_rows(0.3, b"another salt")
    assert row_strings(other_salt.fetch_rows(columns)) != row_strings(full_part.fetch_rows(columns))


def test_partition_splits_copies_of_a_row_like_distinct_rows(spark):
    frame = pd.DataFrame({"name": ["x"] * 400, "k": [1] * 400})
    rest, part = SparkEngine(spark_frame(spark, frame), "t").partition_rows(0.25, b"salt")
    assert 60 < int(part.count_cells([])) < 140 and int(rest.count_cells([])) + int(part.count_cells([])) == 400


def _fetched_row(spark, frame, index, columns):
    return SparkEngine(spark_frame(spark, frame.iloc[[index]]), "t").fetch_rows(columns)


def test_bounded_counts_equal_duckdb_and_keep_source_rows(engines):
    """At most k rows per unit (null keys one unit): the counts that do not depend on which rows the hash kept equal
    DuckDB's and the source's; the kept rows are source rows."""
    sp, duck = engines
    salt, k = b"a secret salt", 3
    counts = bounded_counts(sp, k, salt)
    assert counts == bounded_counts(duck, k, salt)
    expected = expected_bounded_counts(source_frame(), k)
    assert counts["rows"] == expected["rows"] and counts["per_unit"] == expected["per_unit"]
    columns = list(source_frame().columns)
    assert is_sub_multiset(sp.bound_rows_per_unit(UNIT, k, salt).fetch_rows(columns), sp.fetch_rows(columns))


def test_partition_by_unit_keeps_each_unit_on_one_side(engines):
    sp, _ = engines
    sides = [e.fetch_rows([UNIT]) for e in sp.partition_rows(0.5, b"salt", UNIT)]
    keys = [set(side[UNIT].map(lambda v: v if isinstance(v, str) else None)) for side in sides]
    assert not keys[0] & keys[1] and len(sides[0]) + len(sides[1]) == len(source_frame())


def test_partition_fraction_is_read_as_an_unsigned_hash(spark):
    """xxhash64 is signed: fractions above and below one half both select their share of rows."""
    engine = SparkEngine(spark.range(4000).withColumnRenamed("id", "k"), "t")
    for fraction in (0.0, 0.25, 0.75, 0.95):
        _, part = engine.partition_rows(fraction, b"salt")
        assert abs(int(part.count_cells([])) / 4000 - fraction) < 0.03, fraction


def test_synthesize_table_runs_on_the_spark_engine(spark):
    frame = source_frame(300, seed=2)[["name", "x", "k"]]
    spec = {"name": {"kind": "categorical"}, "x": {"kind": "continuous", "lower": -10, "upper": 10, "bins": 8},
            "k": {"kind": "integer", "lower": 0, "upper": 9}}
    release = synthesize_table(SparkEngine(spark_frame(spark, frame), "t"), spec,
                               SynthesisConfig(epsilon=2.0, generator="mst", seed=0, holdout=0.2,
                                               options={"iters": 50}))
    assert release.record.epsilon_spent == pytest.approx(2.0, rel=1e-6)
    assert list(release.data.columns) == ["name", "x", "k"]
    assert len(release.evaluation.holdout) + len(release.evaluation.train) == 300


# ---- mapInPandas sampling -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model():
    return fitted_mst()


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["when"] = pd.to_datetime(out["when"]).dt.floor("us")
    out["c"] = out["c"].astype(float).round(9)
    for col in ("row_id", "n"):
        out[col] = out[col].astype("Int64")
    out["flag"] = out["flag"].astype("boolean")
    return out.sort_values("row_id").reset_index(drop=True)


def test_map_in_pandas_draws_exactly_the_in_process_chunks(spark, model):
    drawn = sample_in_spark(spark, model, 5000, chunk_rows=1500, seed=5)
    assert drawn.rdd.getNumPartitions() == 4                           # one chunk per partition
    got = drawn.toPandas()
    expected = pd.concat([sample_chunk(model, c) for c in plan_chunks(5000, 1500, 5)], ignore_index=True)
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(_comparable(got), _comparable(expected), check_dtype=False)
    assert sorted(got["row_id"]) == list(range(1, 5001))
    assert got["c"].isna().any() and not np.isnan(drawn.filter("c is not null").toPandas()["c"]).any()
    types = {f.name: f.dataType.simpleString() for f in drawn.schema.fields}
    assert types == {"row_id": "bigint", "a": "string", "b": "string", "c": "double", "n": "bigint",
                     "when": "timestamp_ntz", "flag": "boolean"}


def test_map_in_pandas_sample_has_the_in_process_distribution(spark, model):
    from scipy.stats import chi2_contingency

    drawn = sample_in_spark(spark, model_to_text(model), 20000, chunk_rows=5000, seed=11).toPandas()
    local = model.sample(20000, seed=12)
    for columns in (["a"], ["a", "b"], ["n"], ["flag"]):
        keys, local_keys = row_strings(drawn[columns]), row_strings(local[columns])
        cells = sorted(set(keys) | set(local_keys))
        counts = [pd.Series(k).value_counts().reindex(cells, fill_value=0).to_numpy() for k in (keys, local_keys)]
        assert chi2_contingency(np.array(counts))[1] > 1e-3, columns
    assert (drawn["a"] == drawn["b"]).mean() > 0.7


def test_accepts_only_spark_dataframes(spark):
    assert SparkEngine.accepts(spark.range(1))
    assert not SparkEngine.accepts(pd.DataFrame({"a": [1]}))
    assert not SparkEngine.accepts(dt.date.today())
