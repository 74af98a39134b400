"""A real `dbt build` of a temp copy of integration_tests/ on a fresh DuckDB file: the ledger grows by one row per
build, the synthetic table carries its `epsilon=` comment, and once the cap is reached the next build fails with the
budget message while the ledger stays exactly as it was. Three builds of one small MST model: ~20 s in all.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import pytest

from dpsynth_core.accounting.composition import compose
from dpsynth_core.config import SynthesisConfig

from it_project import DBT, copy_integration_project
from it_project import run_dbt as run_it

MODEL = "nass_mst_eps1"

pytestmark = pytest.mark.skipif(not DBT.exists(), reason="dbt is not installed in this environment")


def composed_epsilon(n: int) -> float:
    cfg = SynthesisConfig(epsilon=1.0)
    conv = cfg.budget_plan().delta_conversion
    entry = {"rho": cfg.requested_rho(), "delta": cfg.resolved_delta(), "delta_conversion": conv, "epsilon": 1.0}
    return compose([entry] * n).epsilon


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_integration_project(tmp_path_factory.mktemp("it"))


def run_dbt(project: Path, *args: str, cap: float | None = None) -> subprocess.CompletedProcess:
    extra = ["--vars", f"{{dpsynth_budgets: {{nassCDS: {cap}}}}}"] if cap is not None else []
    return run_it(project, *args, *extra)


def build(project: Path, cap: float) -> subprocess.CompletedProcess:
    return run_dbt(project, "build", "--select", f"nassCDS {MODEL}", "--indirect-selection", "cautious", cap=cap)


def ledger(project: Path) -> list[tuple]:
    with duckdb.connect(str(project / "it.duckdb"), read_only=True) as con:
        return con.execute("SELECT * FROM main.dpsynth_ledger ORDER BY started_at").fetchall()


def table_comment(project: Path) -> str | None:
    with duckdb.connect(str(project / "it.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = ?", [MODEL]).fetchall()
    return rows[0][0] if rows else None


def test_builds_add_ledger_rows_until_the_cap_refuses_and_charges_nothing(project):
    cap = (composed_epsilon(2) + composed_epsilon(3)) / 2   # room for exactly two epsilon-1 releases

    first = build(project, cap)
    assert first.returncode == 0, first.stdout[-3000:]
    rows = ledger(project)
    assert [r[-2] for r in rows] == ["released"]
    comment = table_comment(project)
    assert comment.startswith("dpsynth: epsilon=1.0 ") and "generator=mst" in comment
    assert f"release_id={rows[0][0]}" in comment

    second = build(project, cap)
    assert second.returncode == 0, second.stdout[-3000:]
    assert [r[-2] for r in ledger(project)] == ["released", "released"]
    assert f"release_id={ledger(project)[1][0]}" in table_comment(project)

    before = ledger(project)
    comment_before = table_comment(project)
    with duckdb.connect(str(project / "it.duckdb"), read_only=True) as con:
        rows_before = con.execute(f"SELECT count(*), sum(hash(caseid)) FROM main.{MODEL}").fetchall()
    third = build(project, cap)
    assert third.returncode != 0
    for part in ("Privacy budget exceeded for budget_key 'nassCDS'", "spent epsilon=", "requested epsilon=1",
                 f"cap epsilon={cap:.4g}", "Nothing was charged"):
        assert part in third.stdout, third.stdout[-3000:]
    assert ledger(project) == before
    # the previous synthetic table survives the failed rebuild, rows and release stamp unchanged
    assert table_comment(project) == comment_before
    with duckdb.connect(str(project / "it.duckdb"), read_only=True) as con:
        assert con.execute(f"SELECT count(*), sum(hash(caseid)) FROM main.{MODEL}").fetchall() == rows_before


def test_budget_within_test_fails_when_the_ledger_is_over_a_lowered_cap(project):
    """The generic test reads the ledger: with a cap below what was already spent it must fail (the builds above
    ran it with the real cap and passed)."""
    if not ledger(project):
        assert build(project, 5.0).returncode == 0
    low = run_dbt(project, "test", "--select", f"{MODEL},test_name:dpsynth_budget_within", cap=0.5)
    assert low.returncode != 0 and "dpsynth_budget_within" in low.stdout
