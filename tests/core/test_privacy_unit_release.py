"""End to end with a person-level unit on nassCDS: `caseid` links the occupants of one crash (1 to 11 rows per case),
`privacy_unit: caseid, max_rows_per_unit: 2` bounds each case to 2 random occupants before any measurement."""

from __future__ import annotations

import duckdb
import pytest

from dbt_dpsynth.engines.duckdb import DuckDBEngine
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.measurement import PandasEngine

FAST = {"mst": {"iters": 50}, "aim": {"rounds": 16, "iters": 40, "final_iters": 40, "max_model_size": 2}}


# DuckDB answers each marginal with a query (~0.1 s on a loaded CI core), so its runs take a column subset
DUCKDB_COLUMNS = ["dvcat", "dead", "airbag", "seatbelt", "sex", "ageOFocc", "occRole", "injSeverity", "caseid"]


def engine_of(kind: str, frame):
    if kind == "pandas":
        return PandasEngine(frame, "nassCDS")
    frame = frame[DUCKDB_COLUMNS]
    con = duckdb.connect()
    con.register("nass_df", frame)
    con.execute("CREATE TABLE nass AS SELECT * FROM nass_df")
    return DuckDBEngine(con.table("nass"), "nassCDS", con)


@pytest.mark.parametrize("generator,kind", [("aim", "pandas"), ("aim", "duckdb"), ("mst", "pandas"),
                                            ("mst", "duckdb")])
def test_a_release_per_case_with_at_most_two_occupants_each(nass, generator, kind):
    per_case = nass["caseid"].value_counts()
    assert per_case.max() > 2                                     # nassCDS really has several rows per case
    bounded_rows = int(per_case.clip(upper=2).sum())
    holdout = 0.2 if kind == "duckdb" else 0.0
    config = SynthesisConfig.from_dict({"epsilon": 1.0, "generator": generator, "seed": 0, "holdout": holdout,
                                        "privacy_unit": "caseid", "max_rows_per_unit": 2,
                                        "options": FAST[generator]}, table="nassCDS")
    release = synthesize_table(engine_of(kind, nass), {}, config)
    record = release.record
    assert record.neighbouring == "add/remove one caseid (all its rows), at most 2 rows each"
    assert record.privacy_unit["column"] == "caseid" and record.privacy_unit["max_rows_per_unit"] == 2
    assert record.epsilon_spent == pytest.approx(1.0) and record.epsilon_spent <= 1.0 + 1e-9
    # the generator saw the bounded table: its DP row count estimates the bounded rows (of the training part)
    expected = bounded_rows * (1 - holdout)
    assert abs(record.rows - expected) < 0.06 * expected and record.rows < 0.8 * len(nass)
    # the unit's key is an identifier: fresh surrogate keys, one per synthetic row, none of the real ones
    assert record.columns["caseid"] == {"kind": "identifier", "domain": "surrogate_keys", "privacy_unit": True}
    assert release.data["caseid"].is_unique and not set(release.data["caseid"]) & set(nass["caseid"].astype(str))
    assert set(release.data.columns) == set(nass.columns if kind == "pandas" else DUCKDB_COLUMNS)
    if holdout:
        train, held = release.evaluation.train, release.evaluation.holdout
        assert not set(train["caseid"]) & set(held["caseid"])       # whole cases on each side of the split
        assert len(train) + len(held) == len(nass)
        assert "of caseid: whole units" in record.holdout["split"]
