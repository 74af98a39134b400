"""A real `dbt build` of a temp copy of integration_tests/ on a fresh DuckDB file: the ledger grows by one row per
new release (asked for with var dpsynth_refresh: an unchanged rebuild would reuse the stored release), the synthetic
table carries its `epsilon=` comment, and once the cap is reached the next new release fails with the budget message
while the ledger stays exactly as it was. Three builds of one small MST model: ~20 s in all.
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


def run_dbt(project: Path, *args: str, cap: float | None = None, refresh: bool = False
            ) -> subprocess.CompletedProcess:
    values = ([f"dpsynth_budgets: {{nassCDS: {cap}}}"] if cap is not None else []) + (
        [f"dpsynth_refresh: [{MODEL}]"] if refresh else [])
    extra = ["--vars", "{" + ", ".join(values) + "}"] if values else []
    return run_it(project, *args, *extra)


def build(project: Path, cap: float, refresh: bool = True) -> subprocess.CompletedProcess:
    return run_dbt(project, "build", "--select", f"nassCDS {MODEL}", "--indirect-selection", "cautious", cap=cap,
                   refresh=refresh)


def ledger(project: Path) -> list[tuple]:
    with duckdb.connect(str(project / "it.duckdb"), read_only=True) as con:
        # release_id first, status second to last (named: the ledger gains columns over versions)
        return con.execute("SELECT release_id, source_relation, model, target_relation, budget_key, generator, "
                           "epsilon, delta, rho, cap_epsilon, cumulative_epsilon, rows, seed, invocation_id, "
                           "started_at, finished_at, status, error FROM main.dpsynth_ledger ORDER BY started_at"
                           ).fetchall()


def table_comment(project: Path) -> str | None:
    with duckdb.connect(str(project / "it.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = ?", [MODEL]).fetchall()
    return rows[0][0] if rows else None


def test_builds_add_ledger_rows_until_the_cap_refuses_and_charges_nothing(project):
    cap = (composed_epsilon(2) + composed_epsilon(3)) / 2   # room for exactly two epsilon-1 releases

    first = build(project, cap)
    assert first.returncode == 0, first.stdout[-3000:]
    rows = ledger(project)
    assert [r[-2] for r in rows] == ["released"]       # (asked for a new release: there was none to reuse anyway)
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


def ensure_built(project: Path) -> None:
    """Tests below need one release in the ledger (run alone, the builds above have not happened)."""
    if not (project / "it.duckdb").exists() or not ledger(project):
        assert build(project, 5.0).returncode == 0


TABLES = ("dpsynth_ledger", "dpsynth_budget_caps", "dpsynth_invocations", "dpsynth_models", "dpsynth_locations",
          "dpsynth_reports", "dpsynth_metrics", "dpsynth_evaluation_details")


def columns_of(con) -> dict[tuple[str, str], list[tuple[str, str]]]:
    names = ", ".join(f"'{t}'" for t in TABLES)
    rows = con.execute("SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
                       f"WHERE table_name IN ({names}) ORDER BY table_schema, table_name, ordinal_position").fetchall()
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        out.setdefault((schema, table), []).append((column, data_type))
    return out


def test_the_hook_creates_the_same_tables_as_the_python_fallback(project):
    """One column list: the on-run-start macro renders it in dbt, `dbt_dpsynth.tables` in Python; both DDLs agree.
    The ledger, caps and locations sit in the target schema, the (non-DP) metrics and details in the private one."""
    from dbt_dpsynth import evidence as E
    from dbt_dpsynth import ledger as L
    from dbt_dpsynth import metrics as M

    ensure_built(project)
    with duckdb.connect(str(project / "it.duckdb"), read_only=True) as con:
        made_by_hook = columns_of(con)
        assert M.private_location(con, L.LedgerLocation("main")).schema == "main_dpsynth_private"
    fresh = duckdb.connect()
    location = L.LedgerLocation("main")
    L.ensure_tables(fresh, location)
    private = M.private_location(fresh, location)
    M.write_metrics(fresh, private, [])
    E.ensure_evidence_tables(fresh, location)
    assert made_by_hook == columns_of(fresh)
    assert set(made_by_hook) == {("main", t) for t in TABLES[:6]} | {("main_dpsynth_private", t) for t in TABLES[6:]}


def test_the_package_models_show_the_numbers_of_dpsynth_budget(project, capsys):
    """`dpsynth_budget_status` / `dpsynth_release_catalogue` (python_models/, views over the ledger) and the CLI show
    the same status, including a release made after the views were created (as in a `dbt build`, which creates them
    before the synthetic models run)."""
    from dbt_dpsynth import budget_status as B
    from dbt_dpsynth import ledger as L
    from dpsynth_cli import main

    ensure_built(project)
    proc = run_dbt(project, "run", "--select", "package:dbt_dpsynth")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert build(project, 30.0).returncode == 0                   # a new release after the views exist
    db = str(project / "it.duckdb")
    with duckdb.connect(db, read_only=True) as con:
        table = con.execute("SELECT budget_key, cap_epsilon, spent_epsilon, remaining_epsilon, releases, "
                            "last_release_id FROM main.dpsynth_budget_status ORDER BY 1").fetchall()
        catalogue = con.execute("SELECT release_id, status FROM main.dpsynth_release_catalogue").fetchall()
        status = B.budget_status(con, L.LedgerLocation("main"))
        ledger_rows = con.execute("SELECT release_id, status FROM main.dpsynth_ledger").fetchall()
    assert table == [(s.budget_key, s.cap_epsilon, pytest.approx(s.spent_epsilon), pytest.approx(s.remaining_epsilon),
                      s.releases, s.last_release_id) for s in status]
    assert sorted(catalogue) == sorted(ledger_rows)
    nass = next(s for s in status if s.budget_key == "nassCDS")
    assert nass.cap_epsilon == 30 and nass.releases == len(ledger_rows)   # the project's cap, recorded by the hook
    assert main(["budget", db]) == 0
    assert f"budget_key nassCDS: {nass.releases} charged releases, composed epsilon={nass.spent_epsilon:.4g}" in (
        capsys.readouterr().out)
