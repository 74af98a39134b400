"""Settings from a dbt node: config/meta merge order, column specs from column meta, source naming."""

from __future__ import annotations

import sys
import types

import pytest

from dbt_dpsynth import config as C
from dpsynth_core.errors import ConfigError, SpecError


def node(**config) -> dict:
    return {"name": "syn", "unique_id": "model.p.syn", "config": config, "columns": {},
            "refs": [{"name": "patients", "package": None, "version": None}], "sources": [],
            "depends_on": {"nodes": ["seed.p.patients"]}}


def test_find_node_reads_parsed_model_from_the_calling_frame():
    def submit_python_job(parsed_model):   # the shape of dbt-duckdb's frame
        return C.find_node()

    found = submit_python_job({"config": {"dpsynth": {"epsilon": 1}}, "columns": {}})
    assert found["config"]["dpsynth"] == {"epsilon": 1}
    assert C.find_node() is None


PROBE_MODEL = """
import dpsynth_node_probe
from dbt_dpsynth.config import find_node


class dbtObj:
    def __init__(self, load_df_function):
        pass


def model(dbt, session):
    dpsynth_node_probe.node = find_node()
    return session.sql("select 1 as x")


def materialize(df, con):
    pass
"""


def test_find_node_sees_the_node_inside_the_installed_dbt_duckdb(monkeypatch):
    """The seam against the real dbt-duckdb: its `submit_python_job` runs a model that calls `find_node`."""
    pytest.importorskip("dbt.adapters.duckdb")
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.adapters.duckdb.environments.local import LocalEnvironment

    probe = types.ModuleType("dpsynth_node_probe")
    monkeypatch.setitem(sys.modules, "dpsynth_node_probe", probe)
    env = LocalEnvironment(DuckDBCredentials(path=":memory:", database="memory", schema="main"))
    node = {"alias": "probe", "unique_id": "model.p.probe", "config": {"dpsynth": {"epsilon": 1}},
            "columns": {"sex": {"name": "sex", "meta": {"dpsynth": {"kind": "categorical"}}}}}
    env.submit_python_job(env.handle(), node, PROBE_MODEL)
    found = getattr(probe, "node", None)
    assert found is not None and found["unique_id"] == "model.p.probe", (
        f"dbt_dpsynth.config.find_node no longer finds the model node inside dbt-duckdb {C.dbt_duckdb_version()}: "
        "settings and column meta would not reach synthesize(). " + C.node_seam_hint())
    assert found["columns"]["sex"]["meta"]["dpsynth"] == {"kind": "categorical"}


def test_find_node_skips_a_node_that_is_not_the_one_dbt_is_running(monkeypatch):
    monkeypatch.setattr(C, "running_node_id", lambda: "model.p.other")

    def submit_python_job(parsed_model):
        return C.find_node()

    assert submit_python_job({"unique_id": "model.p.syn", "config": {}, "columns": {}}) is None
    found = submit_python_job({"unique_id": "model.p.other", "config": {}, "columns": {}})
    assert found["unique_id"] == "model.p.other"


def test_no_settings_under_dbt_without_a_node_names_the_dbt_duckdb_version(monkeypatch):
    monkeypatch.setattr(C, "running_node_id", lambda: "model.p.syn")
    monkeypatch.setattr(C, "dbt_duckdb_version", lambda: "9.9.9")
    with pytest.raises(ConfigError, match="dbt-duckdb 9.9.9"):
        C.model_settings({}, None, "patients", "syn")


def test_merge_order_meta_then_config_then_overrides():
    n = node(meta={"dpsynth": {"epsilon": 9, "generator": "mst", "seed": 1}}, dpsynth={"epsilon": 2, "seed": 3})
    merged = C.raw_settings(n, None, {"seed": 4})
    assert merged == {"epsilon": 2, "generator": "mst", "seed": 4}


def test_without_a_node_the_literal_dbt_config_reads_are_used():
    class Config:
        @staticmethod
        def get(key, default=None):
            return {"dpsynth": {"epsilon": 1.5}}.get(key, default)

        @staticmethod
        def meta_get(key, default=None):
            return {"dpsynth": {"generator": "mst"}}.get(key, default)

    class Dbt:
        config = Config

    assert C.raw_settings(None, Dbt()) == {"generator": "mst", "epsilon": 1.5}


def test_column_meta_overrides_config_columns_per_column():
    n = node()
    n["columns"] = {"sex": {"name": "sex", "meta": {"dpsynth": {"kind": "categorical", "categories": ["f", "m"]}}},
                    "age": {"name": "age", "meta": {}}}
    specs = C.column_specs(n, {"columns": {"sex": {"kind": "identifier"}, "age": {"kind": "integer"}}})
    assert specs == {"sex": {"kind": "categorical", "categories": ["f", "m"]}, "age": {"kind": "integer"}}


def test_align_to_schema_is_case_insensitive_and_names_unknown_columns():
    schema = [("ageOFocc", "INTEGER"), ("sex", "VARCHAR")]
    assert C.align_to_schema({"ageofocc": {"kind": "integer"}}, schema, "t") == {"ageOFocc": {"kind": "integer"}}
    with pytest.raises(SpecError) as info:
        C.align_to_schema({"agee": {}}, schema, "t")
    assert "agee" in str(info.value) and "'t'" in str(info.value)


def test_model_settings_default_budget_key_is_the_source_and_unknown_keys_fail():
    settings = C.model_settings({"epsilon": 1.0}, node(), "patients", "syn")
    assert settings.budget_key == "patients" and settings.synthesis.epsilon == 1.0
    with pytest.raises(ConfigError, match="epsilonn"):
        C.model_settings({"epsilon": 1.0, "epsilonn": 2}, node(), "patients", "syn")
    with pytest.raises(ConfigError, match="no dpsynth settings"):
        C.model_settings({}, node(), "patients", "syn")
    with pytest.raises(ConfigError, match="epsilon"):
        C.model_settings({"epsilon": -1}, node(), "patients", "syn")


def test_caps_from_model_config_are_picked_up():
    settings = C.model_settings({"epsilon": 1.0}, node(dpsynth_budgets={"patients": 3}), "patients", "syn")
    assert settings.caps_from_config == {"patients": 3}


def test_source_identity_from_refs_and_ambiguity():
    assert C.source_identity(node(), None) == ("patients", "seed.p.patients")
    two = node()
    two["refs"].append({"name": "visits"})
    with pytest.raises(ConfigError, match="relation_name"):
        C.source_identity(two, None)
    assert C.source_identity(two, None, override="patients") == ("patients", "patients")
