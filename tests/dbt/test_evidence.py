"""Release evidence from the dbt glue: where a model writes its report (the project's target path from the node, env
DPSYNTH_REPORT_DIR, off outside dbt), the report of a new and of a reused release written by `synthesize` and
recorded in `dpsynth_reports`, and a report that cannot be written leaving the release standing."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb
import pytest
from test_synthesize import FAST, Dbt, make_node

import dbt_dpsynth
from dbt_dpsynth import evidence
from dbt_dpsynth import ledger as L

LOC = L.LedgerLocation("main", "memory")
NODE = {"package_name": "shop", "original_file_path": "models/syn/patients_syn.py"}


def test_target_path_comes_from_the_compiled_path_of_the_node():
    compiled = {**NODE, "compiled_path": "target/demo/compiled/shop/models/syn/patients_syn.py"}
    assert evidence.target_path_of(compiled) == "target/demo"
    absolute = {**NODE, "compiled_path": "/ci/out/compiled/shop/models/syn/patients_syn.py"}
    assert evidence.target_path_of(absolute) == "/ci/out"
    assert evidence.target_path_of(NODE, argparse.Namespace(TARGET_PATH="elsewhere")) == "elsewhere"
    assert evidence.target_path_of(None) == "target"


def test_report_dir_is_under_the_project_or_where_the_env_says(tmp_path):
    flags = argparse.Namespace(PROJECT_DIR=str(tmp_path), TARGET_PATH=None)
    node = {**NODE, "compiled_path": "target/demo/compiled/shop/models/syn/patients_syn.py"}
    assert evidence.report_dir(node, {}, flags) == (tmp_path / "target/demo/dpsynth", tmp_path)
    assert evidence.report_dir(node, {"DPSYNTH_REPORT_DIR": "evidence"}, flags) == (tmp_path / "evidence", tmp_path)
    assert evidence.report_dir(node, {"DPSYNTH_REPORT_DIR": "/srv/r"}, flags) == (Path("/srv/r"), tmp_path)
    assert evidence.report_dir(node, {"DPSYNTH_REPORT_DIR": "off"}, flags) is None
    assert evidence.report_dir(node, {}, argparse.Namespace()) is None      # not run by dbt: no project to anchor


@pytest.fixture
def session(nass):
    con = duckdb.connect()
    small = nass.head(1500).rename(columns={"ageOFocc": "age"})[["sex", "dead", "age", "caseid"]]
    con.register("small_df", small)
    con.execute("CREATE TABLE patients AS SELECT * FROM small_df")
    return con


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv(evidence.REPORT_DIR_ENV, raising=False)
    monkeypatch.setattr(evidence, "_dbt_flags", lambda: argparse.Namespace(PROJECT_DIR=str(tmp_path)))
    return tmp_path


def build(session, dpsynth: dict):
    parsed_model = {**make_node(dpsynth, caps={"patients": 5.0}), **NODE,  # noqa: F841 - read by find_node
                    "compiled_path": "target/compiled/shop/models/syn/patients_syn.py"}
    return dbt_dpsynth.synthesize(Dbt(), session, session.table("patients")).df()   # as dbt-duckdb materialises it


def test_a_new_and_a_reused_release_each_write_the_report_and_record_it(session, project):
    build(session, FAST)
    build(session, FAST)                                          # unchanged: the stored release is served again
    (rid,) = {r[0] for r in session.execute(f"SELECT release_id FROM {LOC.ledger}").fetchall()}
    rows = evidence.reports_written(session, LOC, None)            # (both builds ran in one invocation here)
    assert [r["release_id"] for r in rows] == [rid, rid] and rows[0]["path"] == rows[1]["path"]   # one per build
    path = rows[0]["path"]
    assert path == f"target/dpsynth/model.demo.patients_syn-{rid[:12]}.html"
    assert Path(rows[0]["absolute_path"]) == project / path and (project / path).is_file()
    doc = json.loads((project / path).with_suffix(".json").read_text())
    audit = next(s for s in doc["sections"] if s["id"] == "audit")
    assert any("reused" in item or "served" in item for b in audit["blocks"] if b["type"] == "bullets"
               for item in b["items"])                           # the second report narrates the reuse
    card = {f["label"]: f["value"] for s in doc["sections"] if s["id"] == "model_card" for b in s["blocks"]
            if b["type"] == "facts" for f in b["items"]}
    assert card["options"] == {"iters": 30} and card["training time (seconds)"] > 0
    assert doc["data"]["summary"]["report_path"] == path and doc["meta"]["sensitive"] is False   # no holdout


def test_a_report_that_cannot_be_written_leaves_the_release_standing(session, project, monkeypatch):
    monkeypatch.setenv(evidence.REPORT_DIR_ENV, str(project / "blocked" / "dir"))
    (project / "blocked").write_text("a file where the directory should be")
    frame = build(session, FAST)
    assert len(frame) == 300
    assert [r[0] for r in session.execute(f"SELECT status FROM {LOC.ledger}").fetchall()] == ["released"]
    assert evidence.reports_written(session, LOC, None) == []
