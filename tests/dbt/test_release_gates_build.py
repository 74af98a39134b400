"""The release pattern in a real `dbt build`: a candidate with a holdout is evaluated, its metrics land in
dpsynth_metrics, the gates read them, and the released model downstream is built only when the gates pass. When a
gate fails, the released model is skipped and consumers keep the last released version (~70 s: two AIM builds)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from it_project import DBT, copy_integration_project
from it_project import run_dbt as run

SELECT = "nassCDS nass_aim_eps1_candidate nass_aim_eps1"

pytestmark = pytest.mark.skipif(not DBT.exists(), reason="dbt is not installed in this environment")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_integration_project(tmp_path_factory.mktemp("gates"))


def released(project: Path):
    with duckdb.connect(str(project / "it.duckdb"), read_only=True) as con:
        return con.execute("SELECT count(*), sum(hash(caseid)), sum(weight) FROM main.nass_aim_eps1").fetchall()


def test_failed_gate_skips_the_release_and_keeps_the_last_version(project):
    good = run(project, "build", "--select", SELECT, "--indirect-selection", "cautious")
    assert good.returncode == 0, good.stdout[-3000:]
    first = released(project)
    with duckdb.connect(str(project / "it.duckdb"), read_only=True) as con:
        kinds = dict(con.execute("SELECT kind, count(*) FROM main_dpsynth_private.dpsynth_metrics "
                                 "WHERE model = 'nass_aim_eps1_candidate' GROUP BY kind").fetchall())
    assert kinds.get("privacy", 0) >= 5 and kinds.get("utility", 0) >= 5

    schema = project / "models" / "synthetic" / "schema.yml"
    named = "          name: nass_aim_eps1_candidate_utility_gate\n"
    original = schema.read_text()
    assert named in original
    meta = "          config: {{meta: {{thresholds: {{marginal_tvd_2way: {}}}}}}}\n"
    strict = original.replace(named, named + meta.format(0.0001), 1)
    schema.write_text(strict)
    bad = run(project, "build", "--select", SELECT, "--indirect-selection", "cautious")
    assert bad.returncode != 0
    # one readable console line per failing metric: value, threshold, rule, what the holdout achieves
    lines = [line for line in bad.stdout.splitlines() if "dpsynth gate FAIL nass_aim_eps1_candidate utility" in line]
    assert len(lines) == 1 and "marginal_tvd_2way = " in lines[0] and "> threshold 0.0001" in lines[0], lines
    assert "the holdout achieves" in lines[0]
    assert "SKIP relation main.nass_aim_eps1 " in bad.stdout, bad.stdout[-3000:]
    assert released(project) == first          # consumers still read the last released version

    # the model log says nothing about pass/fail (a non-DP function of the data), only where the metrics went
    model_lines = [line for line in bad.stdout.splitlines() if "evaluation metrics (NOT DP)" in line]
    assert model_lines and all("fail" not in line.lower() for line in model_lines), model_lines
    assert "main_dpsynth_private" in model_lines[0]

    # thresholds in the test's config (not its arguments, which dbt hashes into the unique_id): after an edit
    # `dbt retry` finds the failed test, reruns it and builds the release
    schema.write_text(original.replace(named, named + meta.format(0.5)))
    retry = run(project, "retry")
    assert retry.returncode == 0, retry.stdout[-3000:]
    assert "nass_aim_eps1_candidate_utility_gate" in retry.stdout
    assert released(project) != first          # the candidate that now passes reached the released table
