import numpy as np
import pandas as pd
import pytest

from dpsynth_core.errors import InputError
from dpsynth_core.evaluation.columns import canonicalize, infer_kind, kinds_from_table_spec, resolve_kinds
from dpsynth_core.schema import TableSpec


def test_infer_kind():
    n = 100
    assert infer_kind(pd.Series(np.arange(n, dtype=float))) == "numeric"
    assert infer_kind(pd.Series([0, 1] * 50)) == "categorical"              # few levels
    assert infer_kind(pd.Series([f"id{i}" for i in range(n)])) == "identifier"
    assert infer_kind(pd.Series(["a", "b"] * 50)) == "categorical"
    assert infer_kind(pd.Series(pd.date_range("2020-01-01", periods=n))) == "datetime"
    assert infer_kind(pd.Series([True, False] * 50)) == "categorical"


def test_canonical_forms_agree_across_dtypes_and_are_idempotent():
    kinds = {"c": "categorical", "n": "numeric", "d": "datetime"}
    a = pd.DataFrame({"c": [1, 2, None], "n": [1, 2, 3], "d": pd.to_datetime(["2020-01-01", "2020-01-02", None])})
    b = pd.DataFrame({"c": ["1", "2.0", None], "n": ["1", "2", "3"], "d": ["2020-01-01", "2020-01-02", None]})
    ca, cb = canonicalize(a, kinds), canonicalize(b, kinds)
    pd.testing.assert_frame_equal(ca, cb)
    pd.testing.assert_frame_equal(canonicalize(ca, kinds), ca)
    assert ca["d"].iloc[1] - ca["d"].iloc[0] == 86400.0


def test_non_numeric_values_in_a_numeric_column_name_the_column():
    with pytest.raises(InputError, match="'n'.*declare the column's kind"):
        canonicalize(pd.DataFrame({"n": ["1", "x"]}), {"n": "numeric"})


def test_kinds_from_table_spec_and_hints_win():
    spec = TableSpec.from_dict("t", {"a": {"kind": "integer"}, "b": {"kind": "boolean"}, "k": {"kind": "identifier"}})
    assert kinds_from_table_spec(spec) == {"a": "numeric", "b": "categorical", "k": "identifier"}
    real = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "z": [1, 1]})
    assert resolve_kinds(real, [real.drop(columns="z")], {"a": "identifier"}) == {"a": "identifier", "b": "categorical"}
