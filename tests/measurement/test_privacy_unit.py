"""The person-level privacy unit (issue 13 item 2): contribution bounding to k rows per unit before any measurement,
with secret randomness, and every mechanism's sensitivity scaled by k in the measurement layer."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import duckdb
import numpy as np
import pandas as pd
import pytest

from dbt_dpsynth.engines.duckdb import DuckDBEngine
from dpsynth_core.accounting import PrivacyBudget, sigma_for_rho
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.errors import ConfigError, SpecError
from dpsynth_core.measurement import CategoricalBinning, NumericBinning, PandasEngine, PrivateTable, threshold_for
from dpsynth_core.measurement import private_table as private_table_module
from dpsynth_core.measurement.holdout import split_holdout
from dpsynth_core.measurement.privacy_unit import PrivacyUnit, bound_contributions
from dpsynth_core.measurement.private_table import off_diagonal_sensitivity, worst_new_value_release

ENGINES = ["pandas", "duckdb"]
COLUMNS = ["pid", "a", "b", "x"]
BINNINGS = {"a": CategoricalBinning("a", ("p", "q", "r"), True, True),
            "b": CategoricalBinning("b", (0, 1, 2, 3), True, True),
            "x": NumericBinning("x", (0.0, 2.5, 5.0, 7.5, 10.0), True)}
MARGINALS = [[BINNINGS[c]] for c in BINNINGS] + [[BINNINGS[c], BINNINGS[d]] for c, d in
                                                 itertools.combinations(BINNINGS, 2)]


def people(n_units: int = 300, seed: int = 0) -> pd.DataFrame:
    """Units with 1..8 rows each (some exact copies within a unit), and one null key."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 9, n_units)
    pid = np.repeat(np.arange(n_units), sizes).astype(object)
    n = len(pid)
    frame = pd.DataFrame({"pid": pid, "a": rng.choice(["p", "q", "r"], n), "b": rng.integers(0, 4, n),
                          "x": rng.integers(0, 10, n).astype(float)})
    frame.loc[frame.index[:5], "pid"] = None
    frame.loc[frame.index[10:14], ["a", "b", "x"]] = ["p", 1, 3.0]     # copies of one row inside a unit
    return frame


def with_big_unit(frame: pd.DataFrame, rows: int = 50, seed: int = 1) -> pd.DataFrame:
    """`frame` plus one unit ('big') holding `rows` rows spread over every cell."""
    rng = np.random.default_rng(seed)
    big = pd.DataFrame({"pid": ["big"] * rows, "a": rng.choice(["p", "q", "r"], rows), "b": rng.integers(0, 4, rows),
                        "x": rng.integers(0, 10, rows).astype(float)})
    return pd.concat([frame, big], ignore_index=True)


def engine_of(kind: str, frame: pd.DataFrame):
    if kind == "pandas":
        return PandasEngine(frame, "people")
    con = duckdb.connect()
    con.register("src", frame)
    con.execute("CREATE TABLE people AS SELECT CAST(pid AS VARCHAR) AS pid, a, CAST(b AS BIGINT) AS b, x FROM src")
    return DuckDBEngine(con.table("people"), "people", con)


def rows_of(engine) -> Counter:
    frame = engine.fetch_rows(COLUMNS)
    frame["pid"] = frame["pid"].map(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v))
                                    else str(v))
    return Counter(frame.itertuples(index=False, name=None))


# ---- contribution bounding -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ENGINES)
@pytest.mark.parametrize("k", [1, 3])
def test_a_unit_with_50_rows_moves_every_marginal_by_at_most_k(kind, k):
    salt = b"one release's salt"
    base, plus = people(), with_big_unit(people())
    unbounded = [np.abs(engine_of(kind, plus).count_cells(m) - engine_of(kind, base).count_cells(m)).sum()
                 for m in MARGINALS]
    assert min(unbounded) == 50                          # the control: without bounding the unit moves them by 50
    d = engine_of(kind, base).bound_rows_per_unit("pid", k, salt)
    d_plus = engine_of(kind, plus).bound_rows_per_unit("pid", k, salt)
    for m in MARGINALS:
        moved = np.abs(d_plus.count_cells(m).astype(int) - d.count_cells(m).astype(int)).sum()
        assert moved == k, [b.column for b in m]        # exactly its k kept rows, in every marginal
    assert int(d_plus.count_cells([])) - int(d.count_cells([])) == k


@pytest.mark.parametrize("kind", ENGINES)
def test_removing_one_unit_never_changes_which_rows_of_other_units_are_kept(kind):
    frame, salt, k = people(), b"the same secret salt", 2
    kept = rows_of(engine_of(kind, frame).bound_rows_per_unit("pid", k, salt))
    for unit in (0, 7, 150, None):
        rest = frame[frame["pid"].isna()] if unit is None else frame[frame["pid"] == unit]
        without = frame.drop(index=rest.index).reset_index(drop=True)
        kept_without = rows_of(engine_of(kind, without).bound_rows_per_unit("pid", k, salt))
        removed = Counter({r: c for r, c in kept.items() if r[0] == (None if unit is None else str(unit))})
        assert kept - removed == kept_without and sum(removed.values()) == min(len(rest), k)


@pytest.mark.parametrize("kind", ENGINES)
def test_rows_per_unit_are_capped_with_secret_randomness(kind):
    """At most k rows per unit (all rows of smaller units, null keys as one unit), a sub-multiset of the source, and
    a fresh salt per release picks other rows."""
    frame, k = people(), 3
    source = rows_of(engine_of(kind, frame))
    picks = [rows_of(bound_contributions(engine_of(kind, frame), PrivacyUnit("pid", k))) for _ in range(2)]
    sizes = Counter("null" if v is None else str(v) for v in frame["pid"])
    for kept in picks:
        per_unit = Counter("null" if r[0] is None else r[0] for r in kept.elements())
        assert per_unit == Counter({u: min(n, k) for u, n in sizes.items()})
        assert not kept - source
    assert picks[0] != picks[1]


def test_the_row_unit_reads_the_source_unchanged():
    engine = PandasEngine(people(), "people")
    assert bound_contributions(engine, PrivacyUnit()) is engine


@pytest.mark.parametrize("kind", ENGINES)
def test_the_holdout_keeps_each_unit_on_one_side(kind):
    frame = people()
    train, holdout = split_holdout(engine_of(kind, frame), 0.3, PrivacyUnit("pid", 2))
    train_units = {r[0] for r in rows_of(train)}
    holdout_units = {r[0] for r in rows_of(holdout)}
    assert not train_units & holdout_units and train_units | holdout_units == {r[0] for r in rows_of(engine_of(
        kind, frame))}
    assert 0.15 < len(holdout_units) / (len(train_units) + len(holdout_units)) < 0.45
    # one unit less moves no other unit: with a fixed salt, the sides of the remaining units are unchanged
    salt = b"salt"
    sides = engine_of(kind, frame).partition_rows(0.3, salt, "pid")
    without = engine_of(kind, frame[frame["pid"] != 3].reset_index(drop=True)).partition_rows(0.3, salt, "pid")
    for before, after in zip(sides, without, strict=True):
        assert {u for u in {r[0] for r in rows_of(before)} if u != "3"} == {r[0] for r in rows_of(after)}


# ---- every mechanism charges for k -------------------------------------------------------------------------------

def unit_table(k: int, rho: float = 1.0, seed: int = 0) -> PrivateTable:
    return PrivateTable(PandasEngine(people(), "people"), PrivacyBudget(rho, 1e-6), np.random.default_rng(seed),
                        unit=PrivacyUnit("pid", k))


@pytest.mark.parametrize("k", [1, 2, 5])
def test_gaussian_counts_cost_k_squared_over_two_sigma_squared(k):
    private = unit_table(k)
    sigma = private.sigma_for(0.01)
    assert sigma == pytest.approx(k * sigma_for_rho(0.01))          # k times the row-level noise for the same rho
    private.measure([BINNINGS["a"]], sigma, step="m")
    spent = private.budget.records[-1]
    assert spent.rho == pytest.approx(k ** 2 / (2 * sigma ** 2)) and spent.rho == pytest.approx(0.01)
    assert spent.detail["sensitivity"] == k
    assert private.gaussian_cost(3.0) == pytest.approx(k ** 2 / 18)


def test_the_exponential_mechanism_uses_k_times_the_largest_weight(monkeypatch):
    seen = []
    monkeypatch.setattr(private_table_module, "exponential_mechanism",
                        lambda scores, epsilon, sensitivity, rng: seen.append(sensitivity) or 0)
    private = unit_table(4)
    candidates = [[BINNINGS["a"]], [BINNINGS["b"]]]
    estimates = [np.zeros(BINNINGS["a"].size), np.zeros(BINNINGS["b"].size)]
    private.select_worst_approximated(candidates, estimates, 0.5, step="s", weights=[1.0, 2.5])
    assert seen == [4 * 2.5] and private.budget.records[-1].detail["sensitivity"] == 10.0
    assert private.budget.records[-1].rho == pytest.approx(0.5 ** 2 / 8)


def test_score_products_charge_k_times_the_row_sensitivity():
    private = unit_table(3)
    bound, d = 4.0, 3
    sigma = private.sigma_for(0.05, off_diagonal_sensitivity(d, bound))
    scores = [np.linspace(-1, 1, b.size) for b in BINNINGS.values()]
    private.noisy_score_products(list(BINNINGS.values()), scores, bound, sigma, step="c")
    spent = private.budget.records[-1]
    assert spent.detail["sensitivity"] == pytest.approx(3 * off_diagonal_sensitivity(d, bound))
    assert spent.rho == pytest.approx(0.05)


def test_discovery_threshold_accounts_for_k_new_values():
    private = unit_table(4)
    sigma = private.sigma_for(0.02)
    private.discover_categories("a", sigma, 1e-6, step="d", max_categories=10)
    spent = private.budget.records[-1]
    assert spent.rho == pytest.approx(0.02) and spent.detail["threshold"] == threshold_for(sigma, 1e-6, 4)


def test_dp_sgd_is_refused_for_k_above_one_before_rows_leave():
    private = unit_table(2)
    with pytest.raises(ConfigError, match="DP-SGD"):
        private.training_rows(["a"], plan=None, step="t")
    assert private.access.entries == []


# ---- the threshold for k new values -----------------------------------------------------------------------------

def partitions(total: int, largest: int | None = None):
    """Integer partitions of `total` (parts >= 1)."""
    largest = total if largest is None else largest
    if total == 0:
        yield ()
        return
    for part in range(min(total, largest), 0, -1):
        for rest in partitions(total - part, part):
            yield (part,) + rest


@pytest.mark.parametrize("k", [1, 2, 3, 6])
@pytest.mark.parametrize("sigma", [0.7, 3.0, 12.0])
def test_the_worst_case_is_the_largest_sum_over_every_split_of_k_rows(k, sigma):
    tau = k + math.ceil(sigma * 2)
    brute = max(sum(math.exp(-(tau - c) ** 2 / (2 * sigma ** 2)) for c in p)
                for s in range(1, k + 1) for p in partitions(s))
    assert worst_new_value_release(sigma, tau, k) == pytest.approx(brute, rel=1e-12)


@pytest.mark.parametrize("k", [1, 2, 4, 10])
@pytest.mark.parametrize("sigma", [1.0, 5.0, 30.0])
def test_the_threshold_is_the_smallest_that_bounds_the_release_of_new_values(k, sigma):
    delta = 1e-6
    tau = threshold_for(sigma, delta, k)
    assert worst_new_value_release(sigma, tau, k) <= delta < worst_new_value_release(sigma, tau - 1, k)
    if k == 1:
        assert tau == 1 + math.ceil(sigma * math.sqrt(2 * math.log(1 / delta)))   # the row-level rule


def test_values_only_one_unit_holds_are_rarely_released():
    """Empirical check at a loose delta: a unit of k = 5 rows holding one value of its own (the worst split at small
    sigma) gets it released with probability <= delta; the row-level threshold would release it ~30% of the time."""
    k, sigma, delta, trials = 5, 2.0, 0.05, 400
    base = pd.DataFrame({"pid": [f"u{i}" for i in range(200)], "a": ["common"] * 200})
    frame = pd.concat([base, pd.DataFrame({"pid": ["rare"] * k, "a": ["secret"] * k})], ignore_index=True)
    rng = np.random.default_rng(0)
    released = 0
    for _ in range(trials):
        private = PrivateTable(PandasEngine(frame, "t"), PrivacyBudget(1e6, 1e-6), rng, unit=PrivacyUnit("pid", k))
        released += "secret" in private.discover_categories("a", sigma, delta, step="d", max_categories=5)
    assert released / trials <= delta
    z = rng.normal(0, sigma, 20000)
    assert np.mean(k + z >= threshold_for(sigma, delta, 1)) > 0.2      # what k = 1's threshold would have done


# ---- the noise is really at the calibrated scale ----------------------------------------------------------------

def test_noise_is_k_times_the_row_level_noise_for_the_same_rho():
    """Each unit has at most k rows, so bounding keeps every row and the exact counts are known: the noise of a
    measurement planned at rho has std k / sqrt(2 rho)."""
    k, rho = 4, 0.005
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"pid": np.repeat(np.arange(500), k), "v": rng.integers(0, 400, 500 * k)})
    binning = NumericBinning("v", tuple(float(e) for e in range(401)), False)
    exact = PandasEngine(frame).count_cells([binning])
    private = PrivateTable(PandasEngine(frame), PrivacyBudget(rho * 10, 1e-6), np.random.default_rng(2),
                           unit=PrivacyUnit("pid", k))
    sigma = private.sigma_for(rho)
    errors = np.concatenate([private.measure([binning], sigma, step=f"m{i}") - exact for i in range(10)])
    assert sigma == pytest.approx(k / math.sqrt(2 * rho))
    assert np.std(errors) == pytest.approx(sigma, rel=0.05) and abs(np.mean(errors)) < 0.1 * sigma


# ---- settings and the release ------------------------------------------------------------------------------------

class ExplodingEngine(PandasEngine):
    def count_cells(self, binnings):
        raise AssertionError("data was read")

    count_values = fetch_rows = partition_rows = bound_rows_per_unit = count_cells


@pytest.mark.parametrize("settings,error,match", [
    ({"max_rows_per_unit": 2}, ConfigError, "no privacy_unit"),
    ({"privacy_unit": "pid", "max_rows_per_unit": 0}, ConfigError, "max_rows_per_unit"),
    ({"privacy_unit": "pid", "max_rows_per_unit": 1.5}, ConfigError, "max_rows_per_unit"),
    ({"privacy_unit": "patient"}, SpecError, "does not have"),
])
def test_bad_unit_settings_are_refused_before_reading(settings, error, match):
    with pytest.raises(error, match=match):
        synthesize_table(ExplodingEngine(people(20), "people"), {},
                         SynthesisConfig.from_dict({"epsilon": 1.0, "generator": "mst", **settings}, table="people"))


def test_a_unit_column_declared_with_a_domain_is_refused():
    spec = {"pid": {"kind": "integer", "lower": 0, "upper": 500}}
    with pytest.raises(SpecError, match="privacy unit"):
        synthesize_table(ExplodingEngine(people(20).astype({"pid": float}), "people"), spec,
                         SynthesisConfig(epsilon=1.0, generator="mst", privacy_unit="pid"))


def test_dp_sgd_generators_with_k_above_one_are_refused_by_the_config():
    pytest.importorskip("opacus")
    with pytest.raises(ConfigError, match="DP-SGD") as err:
        SynthesisConfig.from_dict({"epsilon": 1.0, "generator": "dp-tvae", "privacy_unit": "pid",
                                   "max_rows_per_unit": 2}, table="people")
    assert "max_rows_per_unit: 1" in str(err.value)
    SynthesisConfig.from_dict({"epsilon": 1.0, "generator": "dp-tvae", "privacy_unit": "pid"}, table="people")


DECLARED = {"pid": {"kind": "identifier"}, "a": {"kind": "categorical", "categories": ["p", "q", "r"]},
            "b": {"kind": "integer", "lower": 0, "upper": 3}, "x": {"kind": "continuous", "lower": 0, "upper": 10}}


@pytest.mark.parametrize("generator,options", [("mst", {"iters": 20}), ("aim", {"rounds": 8, "iters": 20,
                                                                                "final_iters": 20})])
def test_the_release_spends_exactly_the_request_with_k_times_the_noise(generator, options):
    frame = people()
    releases = {k: synthesize_table(PandasEngine(frame, "people"), DECLARED, SynthesisConfig(
        epsilon=1.0, generator=generator, seed=0, options=options, **({"privacy_unit": "pid",
                                                                       "max_rows_per_unit": k} if k else {})))
        for k in (None, 3)}
    unit, row = releases[3].record, releases[None].record
    assert unit.epsilon_spent == pytest.approx(1.0) and unit.rho_spent == pytest.approx(unit.rho)
    assert unit.rho == row.rho
    gaussian = [s for s in unit.spend if s["mechanism"] == "discrete_gaussian"]
    assert gaussian and all(s["rho"] == pytest.approx(9 / (2 * s["detail"]["sigma"] ** 2)) for s in gaussian)
    selections = [s for s in unit.spend if s["mechanism"] == "exponential_mechanism"]
    assert all(s["detail"]["sensitivity"] >= 3 for s in selections)
    first = {s["step"]: s["detail"]["sigma"] for s in row.spend if ":1way:" in s["step"]}
    assert {s["step"]: s["detail"]["sigma"] / 3 for s in gaussian if ":1way:" in s["step"]} == pytest.approx(first)
    assert unit.neighbouring == "add/remove one pid (all its rows), at most 3 rows each"
    assert unit.privacy_unit["max_rows_per_unit"] == 3 and row.privacy_unit["unit"] == "row"
    assert row.neighbouring == "add/remove one source row"
    assert unit.columns["pid"] == {"kind": "identifier", "domain": "surrogate_keys", "privacy_unit": True}
