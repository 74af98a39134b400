"""Issue 11's value-fidelity rules through the dbt path on DuckDB (`dbt_dpsynth.synthesize` with a dbt-duckdb-like
node, no column specs: everything about the values is DP-discovered): a yes/no column round-trips, a 90%-zero column
keeps its zeros, an integer column of {12, 24, 36, 48, 60} yields only those, a column without nulls yields none,
categories that are not released never become nulls, and the synthetic table's DuckDB types equal the source's."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from test_synthesize import Dbt

import dbt_dpsynth

N = 4000


@pytest.fixture(scope="module")
def released():
    rng = np.random.default_rng(11)
    zero = rng.random(N) < 0.9
    source = pd.DataFrame({
        "smoker": rng.choice(["yes", "no"], N, p=[0.3, 0.7]),
        "claims": np.where(zero, 0.0, np.round(rng.lognormal(6, 1, N), 2)),
        "dose": rng.choice([12, 24, 36, 48, 60], N).astype("int32"),
        "region": rng.choice(["north", "south", "east", "west"] + [f"rare{i}" for i in range(40)], N,
                             p=[0.24] * 4 + [0.04 / 40] * 40),
    })
    con = duckdb.connect()
    con.register("source_df", source)
    con.execute("CREATE TABLE patients_src AS SELECT smoker, CAST(claims AS DECIMAL(12, 2)) AS claims, "
                "CAST(dose AS INTEGER) AS dose, region FROM source_df")
    parsed_model = {"name": "patients_syn", "unique_id": "model.demo.patients_syn",  # noqa: F841 - find_node
                    "config": {"dpsynth": {"epsilon": 1.0, "generator": "aim", "rows": N, "seed": 3},
                               "dpsynth_budgets": {"patients_src": 5.0}},
                    "columns": {}, "refs": [{"name": "patients_src"}], "sources": [],
                    "depends_on": {"nodes": ["seed.demo.patients_src"]}}
    out = dbt_dpsynth.synthesize(Dbt(), con, con.table("patients_src"))
    types = dict(zip(out.columns, [str(t) for t in out.types], strict=True))
    source_types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = "
                                    "'patients_src' ORDER BY ordinal_position").fetchall())
    return out.df(), types, source_types


def test_the_synthetic_table_has_the_source_types(released):
    _, types, source_types = released
    assert types == source_types


def test_a_yes_no_column_round_trips_without_nulls(released):
    df, *_ = released
    assert set(df["smoker"]) == {"yes", "no"} and df["smoker"].notna().all()
    assert df["smoker"].eq("yes").mean() == pytest.approx(0.3, abs=0.05)


def test_a_ninety_percent_zero_column_keeps_its_zeros(released):
    df, *_ = released
    assert df["claims"].notna().all()
    assert df["claims"].astype(float).eq(0.0).mean() == pytest.approx(0.9, abs=0.03)


def test_an_integer_column_of_five_values_yields_only_those(released):
    df, *_ = released
    assert set(df["dose"].dropna().astype(int)) == {12, 24, 36, 48, 60} and df["dose"].notna().all()


def test_categories_not_released_never_become_nulls(released):
    df, *_ = released
    assert df["region"].notna().all()
    assert {"north", "south", "east", "west"} <= set(df["region"])
