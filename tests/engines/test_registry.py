"""Engine adapters behind `engine_for`: the registry picks the engine by relation type; a third engine is one new
module plus one registry entry (shown with a toy engine written to its own file)."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dbt_dpsynth import engines
from dbt_dpsynth.engines.duckdb import DuckDBEngine
from dbt_dpsynth.engines.pandas import PandasFrameEngine
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.errors import InputError
from dpsynth_core.schema import TableSpec

TOY_ENGINE = '''
"""A toy engine over a list of row dicts: the whole file a new engine needs (plus its registry entry)."""

import pandas as pd

from dbt_dpsynth.engines.base import RelationEngine
from dpsynth_core.measurement.pandas_engine import PandasEngine


class RowList(list):
    """The toy warehouse's relation object."""


class ToyEngine(RelationEngine):
    relation_types = ("toy_engine.RowList",)
    pushdown = True

    def __init__(self, rows, relation_name):
        self.relation_name = relation_name
        self._frame = PandasEngine(pd.DataFrame(list(rows)), relation_name)

    @classmethod
    def accepts(cls, relation):
        return isinstance(relation, RowList)

    @classmethod
    def from_relation(cls, relation, relation_name, session=None):
        return cls(relation, relation_name)

    def schema(self):
        return self._frame.schema()

    def count_cells(self, binnings):
        return self._frame.count_cells(binnings)

    def count_values(self, column, min_count=1, numeric=False):
        return self._frame.count_values(column, min_count, numeric)

    def fetch_rows(self, columns):
        return self._frame.fetch_rows(columns)

    def partition_rows(self, fraction, salt, unit=None):
        return self._frame.partition_rows(fraction, salt, unit)

    def bound_rows_per_unit(self, unit, max_rows, salt):
        return self._frame.bound_rows_per_unit(unit, max_rows, salt)
'''


@pytest.fixture
def toy_engine(tmp_path, monkeypatch):
    (tmp_path / "toy_engine.py").write_text(textwrap.dedent(TOY_ENGINE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(engines, "ENGINES", dict(engines.ENGINES))
    monkeypatch.setattr(engines, "_LOADED", {})
    engines.register("toy", "toy_engine:ToyEngine")   # the one line a new engine adds to the registry
    yield sys.modules.get("toy_engine") or __import__("toy_engine")


def test_engine_for_picks_the_engine_by_relation_type():
    con = duckdb.connect()
    relation = con.sql("select 1 as a, 'x' as b")
    duck = engines.engine_for(relation, con, relation_name="src")
    assert isinstance(duck, DuckDBEngine) and duck.relation_name == "src" and duck.dialect.name == "duckdb"
    frame = engines.engine_for(pd.DataFrame({"a": [1, 2]}), relation_name="df")
    assert isinstance(frame, PandasFrameEngine) and int(frame.count_cells([])) == 2


def test_unsupported_relations_are_refused_naming_the_accepted_types():
    with pytest.raises(InputError) as info:
        engines.engine_for(pd.DataFrame({"a": [1]}), relation_name="patients", pushdown_only=True)
    message = str(info.value)
    accepted = message.split("accepted relation types: ")[1].split(". Fix")[0].split(", ")
    assert "duckdb.DuckDBPyRelation" in accepted and "pandas.DataFrame" not in accepted and "dbt.ref" in message
    with pytest.raises(InputError) as info:
        engines.engine_for(object())
    accepted = str(info.value).split("accepted relation types: ")[1].split(". Fix")[0].split(", ")
    assert {"duckdb.DuckDBPyRelation", "pandas.DataFrame"} <= set(accepted)


def test_a_third_engine_is_its_own_file_plus_a_registry_entry(toy_engine):
    rows = toy_engine.RowList({"sex": "fm"[i % 2], "age": 20 + i % 50} for i in range(400))
    engine = engines.engine_for(rows, relation_name="toy_patients")
    assert type(engine).__name__ == "ToyEngine" and engine.relation_name == "toy_patients"
    spec = TableSpec.from_dict("toy_patients", {"age": {"kind": "integer", "lower": 0, "upper": 100, "bins": 10}},
                               engine.schema())
    config = SynthesisConfig.from_dict({"epsilon": 2.0, "generator": "mst", "rows": 50, "seed": 1,
                                        "options": {"iters": 20}}, table="toy_patients")
    release = synthesize_table(engine, spec, config)   # the core runs on it unchanged
    assert list(release.data.columns) == ["sex", "age"] and len(release.data) == 50
    assert "toy_engine.RowList" in str(pytest.raises(InputError, engines.engine_for, 3.0).value)


def test_an_engine_whose_library_is_missing_is_skipped(monkeypatch):
    monkeypatch.setattr(engines, "ENGINES", {"ghost": "no_such_warehouse_lib:GhostEngine", **engines.ENGINES})
    monkeypatch.setattr(engines, "_LOADED", {})
    assert isinstance(engines.engine_for(pd.DataFrame({"a": [1]})), PandasFrameEngine)


def test_no_code_outside_the_engines_names_an_engine_module():
    """Everything reaches engines through `engine_for`/`dialect(name)`, so adding one edits no other module."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for package in ("dbt_dpsynth", "dpsynth_cli", "python_models"):
        for path in (root / package).rglob("*.py"):
            if "engines" in path.relative_to(root).parts:
                continue
            text = path.read_text()
            if re.search(r"engines\.(duckdb|pandas)\b|quote_ident|DuckDBEngine|PandasFrameEngine", text):
                offenders.append(str(path.relative_to(root)))
    assert offenders == []
