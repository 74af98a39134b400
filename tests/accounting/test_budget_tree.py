"""The budget tree: one owner of every split, shown whole in the release record (issue #9)."""

import math

import numpy as np
import pandas as pd
import pytest

from dpsynth_core.accounting.budget import PrivacyBudget
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.errors import BudgetOverspendError, ConfigError
from dpsynth_core.measurement import PandasEngine


def _table(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z"], n)
    return pd.DataFrame({"a": a, "b": np.where(a == "x", rng.normal(10, 2, n), rng.normal(30, 5, n)),
                         "c": rng.integers(0, 5, n), "d": rng.choice(["u", "v"], n)})


SPEC = {"a": {"categories": ["x", "y", "z"]}, "c": {"kind": "integer", "lower": 0, "upper": 4}}


def _leaves(tree, accountant):
    parents = {n["parent"] for n in tree}
    return [n for n in tree if n["label"] not in parents and n["accountant"] == accountant]


@pytest.mark.parametrize("generator", ["aim", "mst", "copula"])
def test_record_holds_the_whole_tree_and_its_leaves_add_up_to_the_request(generator):
    config = SynthesisConfig(epsilon=1.0, generator=generator, seed=0, options={"iters": 30} if generator != "copula"
                             else {})
    if generator == "aim":
        config.options = {"iters": 20, "final_iters": 50, "rounds": 8}
    record = synthesize_table(PandasEngine(_table(), "t"), SPEC, config).record
    tree = record.budget_tree
    labels = [n["label"] for n in tree]
    assert labels[:2] == ["release", "zcdp"] and "zcdp/domains" in labels and f"zcdp/{generator}" in labels
    assert tree[0]["epsilon"] == 1.0 and tree[0]["delta"] == record.delta
    assert math.fsum(n["rho"] for n in _leaves(tree, "zcdp")) == pytest.approx(record.rho, rel=1e-9)
    # the generator split its own node: every stage is a child of it
    assert len([n for n in tree if n["parent"] == f"zcdp/{generator}"]) >= 2
    # every spend line was charged to a node of the tree
    assert {s["node"] for s in record.spend} <= set(labels)


def test_children_cannot_overallocate_and_close_hands_back_the_rest():
    root = PrivacyBudget(1.0, 1e-6)
    a = root.child("a", share=0.4)
    with pytest.raises(BudgetOverspendError):
        root.child("b", rho=0.7)
    a.spend("s", "m", 0.1)
    assert a.close() == pytest.approx(0.3) and root.remaining == pytest.approx(0.9)
    rest = root.rest("b")
    with pytest.raises(BudgetOverspendError):
        rest.spend("too much", "m", 1.0)
    assert rest.rho_total == pytest.approx(0.9) and root.spent == pytest.approx(0.1)


def test_spend_records_what_the_mechanism_ran_with():
    root = PrivacyBudget(1.0, 1e-6)
    root.spend("almost all", "m", 1.0 + 1e-12)            # float round-off over the remainder is tolerated ...
    assert root.records[0].rho == 1.0 + 1e-12            # ... and recorded as it ran (not clipped)


def test_noise_seed_is_refused_from_user_options():
    """Hole 5: a public option must not fix the DP-SGD noise (tests pass a noise generator through the Python API)."""
    for generator in ("dp-ctgan", "dp-tvae"):
        with pytest.raises(ConfigError, match="noise_seed"):
            synthesize_table(PandasEngine(_table(100), "t"), SPEC,
                             SynthesisConfig(epsilon=1.0, generator=generator, options={"noise_seed": 12345}))
