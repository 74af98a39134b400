"""Hole 3: private values never leave in an error. Engines quote values in their messages; the measurement layer
replaces every engine failure by an `EngineError` that names the step, the exception type and the columns."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from dbt_dpsynth.engines.duckdb import DuckDBEngine
from dpsynth_core.accounting.budget import PrivacyBudget
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.errors import EngineError, SpecError, public_message
from dpsynth_core.measurement.binning import NumericBinning
from dpsynth_core.measurement.guard import guarded
from dpsynth_core.measurement.private_table import PrivateTable

CANARY = "SSN-123-45-6789"


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute(f"CREATE TABLE people AS SELECT CASE WHEN i = 77 THEN '{CANARY}' ELSE CAST(20 + i % 50 AS VARCHAR) END "
              "AS ssn, CASE WHEN i % 2 = 0 THEN 'f' ELSE 'm' END AS sex FROM range(400) t(i)")
    c.execute(f"CREATE VIEW boom AS SELECT CASE WHEN i = 77 THEN error('{CANARY}') ELSE i % 5 END AS v "
              "FROM range(400) t(i)")
    return c


def test_an_engine_error_quoting_a_value_leaves_as_type_step_and_column(con):
    """Without the guard DuckDB's message is `Invalid Input Error: SSN-123-45-6789` (checked first)."""
    engine = DuckDBEngine(con.table("boom"), "boom", con)
    binning = NumericBinning("v", (0.0, 2.0, 5.0))
    with pytest.raises(duckdb.Error, match=CANARY):
        engine.count_cells([binning])
    private = PrivateTable(engine, PrivacyBudget(1.0, 1e-6))
    with pytest.raises(EngineError) as caught:
        private.measure([binning], 10.0, step="bounds:v")
    err = caught.value
    assert CANARY not in str(err) and err.step == "bounds:v" and err.columns == ("v",)
    assert "[table 'boom', column 'v']" in str(err) and "Fix:" in str(err) and err.error_type
    # not chained either: a traceback printer (dbt-duckdb's) would show the original message
    assert err.__cause__ is None and err.__context__ is None


def test_a_whole_release_over_a_failing_source_fails_scrubbed(con):
    with pytest.raises(EngineError) as caught:
        synthesize_table(DuckDBEngine(con.table("boom"), "boom", con), {"v": {"kind": "integer"}},
                         SynthesisConfig(epsilon=1.0, generator="mst", rows=10))
    assert CANARY not in str(caught.value) and caught.value.__context__ is None


def test_text_declared_continuous_is_read_with_try_cast(con):
    """Was: `Could not convert string 'SSN-123-45-6789' to DOUBLE` after the reservation. Now the value that does not
    convert reads as null, and the release succeeds."""
    release = synthesize_table(DuckDBEngine(con.table("people"), "people", con),
                               {"ssn": {"kind": "continuous", "lower": 0, "upper": 100}},
                               SynthesisConfig(epsilon=1.0, generator="mst", rows=50),
                               noise_rng=np.random.default_rng(0))
    assert release.data["ssn"].dropna().between(0, 100).all()
    assert CANARY not in release.data.to_csv() and CANARY not in release.record.to_json()


def test_categorical_discovery_on_a_double_with_nan_and_inf(con):
    """Hole 7: the SQL literal of a NaN category was `nan` (a binder error)."""
    con.execute("CREATE TABLE scores AS SELECT CASE WHEN i % 4 = 0 THEN 'nan'::DOUBLE WHEN i % 4 = 1 THEN "
                "'inf'::DOUBLE ELSE (i % 3)::DOUBLE END AS score FROM range(2000) t(i)")
    release = synthesize_table(DuckDBEngine(con.table("scores"), "scores", con), {"score": {"kind": "categorical"}},
                               SynthesisConfig(epsilon=5.0, generator="mst", rows=200),
                               noise_rng=np.random.default_rng(0))
    values = release.data["score"].dropna().astype(float)
    assert np.isinf(values).any() and np.isnan(release.data["score"].astype(float)).any()


def test_spec_contradicting_the_schema_is_refused_before_any_read(con):
    """Mistakes visible from the schema alone never reach the engine (so nothing is reserved or charged)."""
    class NoReads(DuckDBEngine):
        def count_cells(self, binnings):
            raise AssertionError("read")

        count_values = fetch_rows = count_cells

    con.execute("CREATE TABLE typed AS SELECT (i % 9)::INTEGER AS n, DATE '2020-01-01' + i::INTEGER AS d, [i] AS l, "
                "TIME '10:00:00' AS t FROM range(10) t(i)")
    typed = NoReads(con.table("typed"), "typed", con)
    for spec, says in (({"n": {"kind": "categorical", "categories": ["a"]}}, "'a'"),
                       ({"d": {"kind": "continuous"}}, "datetime"),
                       ({"l": {"kind": "integer"}}, "nested"),
                       ({"t": {"kind": "integer"}}, "time"),
                       ({"n": {"kind": "integer", "lower": 0, "upper": 2.0 ** 60}}, "2\\^53"),
                       ({"d": {"kind": "datetime", "lower": "0001-01-01", "upper": "9999-12-31"}}, "1678")):
        columns = {"l": {"kind": "identifier"}, "t": {"kind": "identifier"}} | spec
        with pytest.raises(SpecError, match=says):
            synthesize_table(typed, columns, SynthesisConfig(epsilon=1.0, generator="mst", rows=10))
    # a text column may be declared numeric: read with TRY_CAST (documented), not refused
    with pytest.raises(EngineError) as reached:
        synthesize_table(NoReads(con.table("people"), "people", con), {"ssn": {"kind": "integer"}},
                         SynthesisConfig(epsilon=1.0, generator="mst", rows=10), evaluation_rows=False)
    assert reached.value.error_type == "AssertionError"     # it got as far as reading


def test_public_message_keeps_ours_and_withholds_others():
    assert public_message(RuntimeError(CANARY)) == "RuntimeError (message withheld: it can quote private values)"
    assert public_message(SpecError("bad kind", table="t", column="c")) == "SpecError: [table 't', column 'c'] bad kind"
    with pytest.raises(EngineError) as caught:
        guarded(lambda: int(CANARY), step="s", table="t", columns=["c"])
    assert CANARY not in str(caught.value) and caught.value.error_type == "ValueError"
