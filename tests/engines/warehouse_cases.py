"""One source table and the binnings every warehouse engine must count exactly like the DuckDB engine."""

from __future__ import annotations

import datetime as dt
import itertools

import duckdb
import numpy as np
import pandas as pd

from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.measurement import CategoricalBinning, NumericBinning, PandasEngine

from dbt_dpsynth.engines.duckdb import DuckDBEngine

N = 240


def source_frame(n: int = N, seed: int = 0) -> pd.DataFrame:
    """Nulls in every column, a quote and a backslash in text, values outside every binning's edges."""
    rng = np.random.default_rng(seed)
    names = np.array(["ann", "bob", "o'neil", "back\\slash", "zed", None], dtype=object)
    x = rng.normal(1.0, 3.0, n)
    x[rng.random(n) < 0.1] = np.nan
    x[:3] = [1e9, -1e9, 2.0]                                  # far outside the edges, and exactly on an inner edge
    base = pd.Timestamp("2015-01-01")
    day = pd.Series([base + pd.Timedelta(seconds=int(s)) + pd.Timedelta(microseconds=int(u))
                     for s, u in zip(rng.integers(0, 10 * 365 * 86400, n), rng.integers(0, 10**6, n))])
    day[rng.random(n) < 0.1] = pd.NaT
    d = [None if rng.random() < 0.1 else dt.date(1960, 1, 1) + dt.timedelta(days=int(v))
         for v in rng.integers(0, 60 * 365, n)]
    k = [None if rng.random() < 0.1 else int(v) for v in rng.integers(0, 10, n)]
    flag = [None if rng.random() < 0.1 else bool(v) for v in rng.random(n) < 0.4]
    return pd.DataFrame({"name": rng.choice(names, n), "x": x, "flag": pd.Series(flag, dtype=object),
                         "day": day, "d": pd.Series(d, dtype=object), "k": pd.Series(k, dtype=object)})


def _epoch(date: str) -> float:
    return pd.Timestamp(date, tz="UTC").timestamp()


BINNINGS = {
    "name": CategoricalBinning("name", ("ann", "o'neil", "back\\slash"), True, True),
    "name_no_other_no_null": CategoricalBinning("name", ("ann", "bob"), False, False),
    "x": NumericBinning("x", (-1.0, 0.0, 2.0, 10.0), True),
    "x_not_nullable": NumericBinning("x", (-5.0, 0.0, 5.0), False),
    "x_fraction": NumericBinning("x", (0.0, 0.25, 0.5, 0.75, 1.0), True, fractional=True),
    "flag": CategoricalBinning("flag", (False, True), False, True),
    "day": NumericBinning("day", (_epoch("2016-01-01"), _epoch("2018-06-01 12:30:00.5"), _epoch("2021-01-01"),
                                  _epoch("2024-01-01")), True, datetime=True),
    "d": NumericBinning("d", (_epoch("1960-01-01"), _epoch("1980-01-01"), _epoch("2000-01-01"),
                              _epoch("2020-01-01")), True, datetime=True),
    "k": CategoricalBinning("k", (1, 2, 3, 7), True, True),
    "k_numeric": NumericBinning("k", (0.0, 2.0, 4.0, 10.0), True),
    "k_empty_categories": CategoricalBinning("k", (), True, True),
    # a text column read as a number (a kind declared over the type): TRY_CAST semantics, text that does not convert
    # is null on every engine, never an error quoting it
    "name_as_number": NumericBinning("name", (0.0, 1.0, 2.0), True),
}


SOME_PAIRS = (("name", "x"), ("flag", "day"), ("x_fraction", "d"), ("name_no_other_no_null", "k"),
              ("x_not_nullable", "k_empty_categories"))


def binning_cases(all_pairs: bool = True) -> list[tuple[str, list]]:
    """Every binning alone, every pair over different columns (or `SOME_PAIRS`), and one 3-way."""
    singles = [(name, [b]) for name, b in BINNINGS.items()]
    names = itertools.combinations(BINNINGS, 2) if all_pairs else SOME_PAIRS
    pairs = [(f"{a}*{b}", [BINNINGS[a], BINNINGS[b]]) for a, b in names if BINNINGS[a].column != BINNINGS[b].column]
    return singles + pairs + [("name*x*day", [BINNINGS["name"], BINNINGS["x"], BINNINGS["day"]])]


def duckdb_engine(frame: pd.DataFrame) -> DuckDBEngine:
    con = duckdb.connect()
    con.register("src", frame)
    con.execute("create table t as select name, x, cast(flag as boolean) as flag, day, cast(d as date) as d, "
                "cast(k as bigint) as k from src")
    return DuckDBEngine(con.table("t"), "t", con)


def normalised_counts(pairs) -> dict:
    """value_counts as {comparable value: count} (warehouses return dates, timestamps and ints in their own types)."""
    out = {}
    for value, count in pairs:
        if isinstance(value, (dt.datetime, np.datetime64, pd.Timestamp)):
            value = pd.Timestamp(value).isoformat()
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, (bool, np.bool_)):
            value = bool(value)
        elif isinstance(value, (int, np.integer)):
            value = int(value)
        out[value] = out.get(value, 0) + int(count)
    return out


def _text(v) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return "null"
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
        return repr(float(v))       # 6, 6.0 and np.int64(6) are one value (warehouses widen nullable ints)
    return str(v)


def row_strings(frame: pd.DataFrame) -> list[tuple[str, ...]]:
    """Rows as comparable text tuples (null spellings and int/float widening made equal)."""
    return sorted(tuple(_text(v) for v in row) for row in frame.itertuples(index=False, name=None))


# ---- a fixed fitted model for the sampling tests ---------------------------------------------------------------

MODEL_SPEC = {"a": {"categories": ["x", "y", "z"]}, "b": {"categories": ["x", "y", "z"]},
              "c": {"kind": "continuous", "lower": 0, "upper": 80, "bins": 8},
              "n": {"kind": "integer", "lower": 0, "upper": 4},
              "when": {"kind": "datetime", "lower": "2020-01-01", "upper": "2021-01-01", "bins": 6},
              "flag": {"kind": "boolean"}, "row_id": {"kind": "identifier"}}


def fitted_mst():
    """MST at epsilon 5 on a small table with a planted a-b dependence (model fitting is not what is tested)."""
    rng = np.random.default_rng(0)
    n = 3000
    a = rng.choice(["x", "y", "z"], n, p=[0.5, 0.3, 0.2])
    b = np.where(rng.random(n) < 0.85, a, rng.choice(["x", "y", "z"], n))
    c = rng.normal(40, 8, n).round(1)
    c[rng.random(n) < 0.05] = np.nan
    frame = pd.DataFrame({"row_id": np.arange(n), "a": a, "b": b, "c": c, "n": rng.integers(0, 5, n),
                          "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, n), "s"),
                          "flag": rng.random(n) < 0.3})
    release = synthesize_table(PandasEngine(frame, "toy"), MODEL_SPEC,
                               SynthesisConfig(epsilon=5.0, generator="mst", seed=0, options={"iters": 200}))
    return release.model
