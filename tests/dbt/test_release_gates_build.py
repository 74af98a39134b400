"""The release pattern of integration_tests/ in a real `dbt build`: a candidate with a holdout is evaluated, its metrics
land in dpsynth_metrics, the gates read them, and the released model (`dbt_dpsynth.dpsynth_release`, a table although
the project sets `+materialized: view`) is built only when the gates pass. When a gate fails (here: a stricter test
threshold on the reused candidate release), the released model is skipped and consumers keep the last released
version (~50 s: one AIM build, then a reuse). tests/dbt/test_operations_build.py covers a failing release under view
and table settings, with and without the tests."""

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
        kinds = dict(con.execute("SELECT kind, count(*) FROM main.dpsynth_metrics "
                                 "WHERE model = 'nass_aim_eps1_candidate' GROUP BY kind").fetchall())
    assert kinds.get("privacy", 0) >= 5 and kinds.get("utility", 0) >= 5

    schema = project / "models" / "synthetic" / "schema.yml"
    strict = schema.read_text().replace(
        "      - dbt_dpsynth.dpsynth_utility_gate\n",
        "      - dbt_dpsynth.dpsynth_utility_gate:\n"
        "          arguments: {thresholds: {marginal_tvd_2way: 0.0001}}\n", 1)
    assert strict != schema.read_text()
    schema.write_text(strict)
    bad = run(project, "build", "--select", SELECT, "--indirect-selection", "cautious")
    assert bad.returncode != 0
    assert "marginal_tvd_2way" in bad.stdout or "dpsynth_utility_gate" in bad.stdout
    assert "SKIP relation main.nass_aim_eps1 " in bad.stdout, bad.stdout[-3000:]
    assert released(project) == first          # consumers still read the last released version
