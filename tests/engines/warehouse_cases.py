"""One source table and the binnings every warehouse engine must count exactly like the DuckDB engine."""

from __future__ import annotations

import datetime as dt
import itertools

import duckdb
import numpy as np
import pandas as pd

from dbt_dpsynth.engines.duckdb import DuckDBEngine
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.measurement import CategoricalBinning, NumericBinning, PandasEngine
from dpsynth_core.measurement.binning import PrecisionBinning, TextClassBinning

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
                     for s, u in zip(rng.integers(0, 10 * 365 * 86400, n), rng.integers(0, 10**6, n), strict=True)])
    day[rng.random(n) < 0.1] = pd.NaT
    d = [None if rng.random() < 0.1 else dt.date(1960, 1, 1) + dt.timedelta(days=int(v))
         for v in rng.integers(0, 60 * 365, n)]
    k = [None if rng.random() < 0.1 else int(v) for v in rng.integers(0, 10, n)]
    flag = [None if rng.random() < 0.1 else bool(v) for v in rng.random(n) < 0.4]
    name = rng.choice(names, n)
    # drawn last, so the columns above do not change with them
    t = pd.Series([TEXT[i] for i in rng.integers(0, len(TEXT), n)], dtype=object)
    values, decimals = rng.normal(0.0, 60.0, n), rng.choice([0, 1, 2, 3, 6], n)
    p = np.array([round(v, int(k)) for v, k in zip(values, decimals, strict=True)])
    p[rng.random(n) < 0.08] = np.nan
    p[3:10] = [0.0, 6.9, 200.0, np.inf, -np.inf, 1e20, -0.5]   # atoms, an atom on the top edge, infinities
    return pd.DataFrame({"name": name, "x": x, "flag": pd.Series(flag, dtype=object),
                         "day": day, "d": pd.Series(d, dtype=object), "k": pd.Series(k, dtype=object),
                         "t": t, "p": p})


# text a text column may hold: numbers in every spelling the text classes admit (and some they do not), dates and
# timestamps with and without offsets (and an impossible date), boolean words, a quote, a backslash, whitespace other
# than spaces (only spaces are trimmed), and a value no cast may quote in an error
TEXT = (" 12 ", "12.0", "-3", "007", "1.5e3", ".5", "12.", "+4", "0", "40", "2020-01-31", "2020-01-31T10:00:00Z",
        "2020-01-31 12:00:00+02:00", "2019-12-31 23:59:59.5", "2020-01-31 12:00", "2020-02-30", "Yes", "F", "no",
        "zz", "1_000", "inf", "SSN-123-45-6789", "o'ne\\il", "a\nb", "12\n", "\t5", None)


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


# the value-fidelity binnings (text classes, numbers read from text, numeric codes, atoms, precision), checked alone
# and in two joint tables (one query each: few Spark queries)
FIDELITY_BINNINGS = {
    "t_class": TextClassBinning("t"),
    "t_number_codes": CategoricalBinning("t", (-3, 0, 4, 12, 40, 1500.0), True, True, numeric=True),
    "t_numeric": NumericBinning("t", (-10.0, 0.0, 20.0, 100.0), True),
    "t_datetime": NumericBinning("t", (1.5e9, 1.58e9, 1.6e9), True, datetime=True),
    "t_precision": PrecisionBinning("t"),
    "p_atoms": NumericBinning("p", (-100.0, 0.0, 50.0, 200.0), True, atoms=(0.0, 6.9, 200.0)),
    "p_precision": PrecisionBinning("p", 3),
    "k_number_codes": CategoricalBinning("k", (1, 2, 3, 7), True, True, numeric=True),
    "x_atom_on_edge": NumericBinning("x", (-1.0, 2.0, 10.0), False, atoms=(2.0,)),
    "flag_number_codes": CategoricalBinning("flag", (0, 1), False, True, numeric=True),
    "d_as_number": NumericBinning("d", (0.0, 1.0), True),
}
FIDELITY_JOINTS = (("t_class", "t_number_codes", "t_numeric", "t_datetime", "t_precision"),
                   ("p_atoms", "p_precision", "k_number_codes", "x_atom_on_edge", "flag_number_codes", "d_as_number"))
COUNT_VALUES_CASES = (("t", {}), ("t", {"numeric": True}), ("t", {"numeric": True, "min_count": 9}),
                      ("p", {"numeric": True}), ("k", {"numeric": True, "min_count": 20}), ("name", {"min_count": 45}),
                      ("flag", {"numeric": True}), ("k", {"min_count": 20}))


def fidelity_cases() -> list[tuple[str, list]]:
    """Every value-fidelity binning alone, and the joint tables."""
    singles = [(name, [b]) for name, b in FIDELITY_BINNINGS.items()]
    return singles + [("*".join(j), [FIDELITY_BINNINGS[n] for n in j]) for j in FIDELITY_JOINTS]


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
                "cast(k as bigint) as k, t, p from src")
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


# ---- contribution bounding (privacy unit) ----------------------------------------------------------------------

UNIT = "name"   # the unit key: text with a quote, a backslash and nulls (rows with a null key are one unit)
# binnings of the key itself: after bounding, their counts are min(rows of the unit, k) summed per cell whichever rows
# an engine's hash kept, so every engine must give DuckDB's numbers
UNIT_BINNINGS = (BINNINGS["name"], BINNINGS["name_no_other_no_null"])


def bounded_counts(engine, max_rows: int, salt: bytes) -> dict:
    """What of a relation bounded to `max_rows` rows per `UNIT` does not depend on which rows the hash picked."""
    bounded = engine.bound_rows_per_unit(UNIT, max_rows, salt)
    out = {f"cells{i}": bounded.count_cells([b]).tolist() for i, b in enumerate(UNIT_BINNINGS)}
    return {"rows": sum(out["cells0"]), "per_unit": normalised_counts(bounded.count_values(UNIT)), **out}


def expected_bounded_counts(frame: pd.DataFrame, max_rows: int) -> dict:
    """`bounded_counts` computed from the source frame directly (the reference)."""
    sizes = frame[UNIT].value_counts(dropna=False)
    per_unit = {v: min(int(n), max_rows) for v, n in sizes.items() if isinstance(v, str)}
    nulls = min(int(frame[UNIT].isna().sum()), max_rows)
    return {"rows": sum(per_unit.values()) + nulls, "per_unit": per_unit, "nulls": nulls}


def is_sub_multiset(kept: pd.DataFrame, source: pd.DataFrame) -> bool:
    """Every kept row is a source row (counted with multiplicity)."""
    from collections import Counter

    return not Counter(row_strings(kept)) - Counter(row_strings(source))


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
