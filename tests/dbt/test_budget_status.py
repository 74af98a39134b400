"""Budget status per key and the release catalogue: the ledger's own arithmetic, one function for CLI and models."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import duckdb
import pytest

from dbt_dpsynth import budget_status as B
from dbt_dpsynth import ledger as L
from dpsynth_cli import main
from dpsynth_core.accounting.composition import compose
from dpsynth_core.config import SynthesisConfig

ROOT = Path(__file__).resolve().parents[2]


def request(key: str | None, epsilon: float = 1.0) -> L.ReleaseRequest:
    cfg = SynthesisConfig(epsilon=epsilon)
    conv = cfg.budget_plan().delta_conversion
    return L.ReleaseRequest(source_relation=key or "x", model=f"model.p.{key}_syn", target_relation=f'"m"."{key}"',
                            budget_key=key, generator="mst", epsilon=epsilon, delta=cfg.resolved_delta(),
                            delta_conversion=conv, rho=cfg.requested_rho(), accountant="zcdp", seed=None, rows=None,
                            invocation_id="inv-1")


@pytest.fixture
def ledger_db(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    loc = L.LedgerLocation("main")
    L.ensure_tables(con, loc)
    L.record_caps(con, loc, "inv-0", {"patients": 9.0, "visits": 2.0})
    L.record_caps(con, loc, "inv-1", {"patients": 4.0})          # a later invocation lowers one key's cap
    book = L.Ledger(con, loc)
    first = book.reserve(request("patients"), 4.0)
    book.finish_released(first, {"release_id": "r1", "rows": 10})
    failed = book.reserve(request("patients", 0.5), 4.0)
    book.finish_failed(failed, RuntimeError("boom"))
    book.reserve(request("visits"), 2.0)                          # still reserved (a killed job)
    book.reserve(request("orders", 2.0), 7.5)                     # a cap from the model config only
    book.reserve(request("free", 1.0), None)                      # no cap anywhere
    yield con, loc, path
    con.close()


def test_status_composes_every_charged_row_like_the_ledger(ledger_db):
    con, loc, _ = ledger_db
    status = {s.budget_key: s for s in B.budget_status(con, loc)}
    assert sorted(status) == ["free", "orders", "patients", "visits"]
    patients = status["patients"]
    expected = compose([request("patients").composition_entry(), request("patients", 0.5).composition_entry()])
    assert patients.spent_epsilon == pytest.approx(expected.epsilon)
    assert patients.spent_epsilon < patients.spent_epsilon_naive == pytest.approx(1.5)   # rho composition is tighter
    stored = con.execute(f"SELECT max(cumulative_epsilon) FROM {loc.ledger} WHERE budget_key = 'patients'").fetchall()
    assert patients.spent_epsilon == pytest.approx(stored[0][0])   # the number the ledger checked the cap with
    assert (patients.releases, patients.released, patients.failed, patients.reserved) == (2, 1, 1, 0)
    assert patients.cap_epsilon == 4.0 and patients.remaining_epsilon == pytest.approx(4.0 - expected.epsilon)
    assert patients.last_release_status == "failed" and patients.last_release_model == "model.p.patients_syn"
    assert status["visits"].cap_epsilon == 2.0 and status["visits"].reserved == 1
    assert status["orders"].cap_epsilon == 7.5                    # no caps-table row: the ledger row's cap
    assert status["free"].cap_epsilon is None and status["free"].remaining_epsilon is None


def test_remaining_is_floored_at_zero_when_a_cap_is_lowered_below_the_spend(ledger_db):
    con, loc, _ = ledger_db
    L.record_caps(con, loc, "inv-2", {"patients": 0.5})
    patients = {s.budget_key: s for s in B.budget_status(con, loc)}["patients"]
    assert patients.cap_epsilon == 0.5 and patients.remaining_epsilon == 0.0


def test_catalogue_has_one_row_per_ledger_row(ledger_db):
    con, loc, _ = ledger_db
    rows = B.release_catalogue(con, loc)
    assert len(rows) == 5 and list(rows[0]) == list(B.CATALOGUE_COLUMNS)
    assert [r["status"] for r in rows] == ["released", "failed", "reserved", "reserved", "reserved"]
    assert rows[0]["release_id"] == "r1" and rows[0]["rows"] == 10


def test_frames_keep_their_types_when_empty():
    """dbt materialises these frames: an empty ledger must still give VARCHAR/DOUBLE/BIGINT/TIMESTAMP columns."""
    con = duckdb.connect()
    loc = L.LedgerLocation("main")
    L.ensure_tables(con, loc)
    expected = [{"budget_key": "VARCHAR", "spent_epsilon": "DOUBLE", "releases": "BIGINT",
                 "last_release_at": "TIMESTAMP", "as_of": "TIMESTAMP"},
                {"release_id": "VARCHAR", "epsilon": "DOUBLE", "rows": "BIGINT", "started_at": "TIMESTAMP",
                 "as_of": "TIMESTAMP"}]
    for frame, want in zip((B.status_frame(con, loc), B.catalogue_frame(con, loc)), expected, strict=True):
        assert len(frame) == 0
        con.register("frame", frame)
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM frame)").fetchall())
        con.unregister("frame")
        assert {c: types[c] for c in want} == want


def test_cli_budget_and_ledger_print_the_status_numbers(ledger_db, capsys):
    con, loc, path = ledger_db
    status = {s.budget_key: s for s in B.budget_status(con, loc)}
    con.close()
    assert main(["budget", str(path)]) == 0
    budget_out = capsys.readouterr().out
    line = next(x for x in budget_out.splitlines() if "budget_key patients:" in x)
    patients = status["patients"]
    assert f"composed epsilon={patients.spent_epsilon:.4g}" in line and "cap 4," in line
    assert f"remaining {patients.remaining_epsilon:.4g}" in line and f"last release {patients.last_release_id}" in line
    assert "budget_key free:" in budget_out and "no cap" in budget_out
    assert main(["ledger", str(path)]) == 0
    ledger_out = capsys.readouterr().out
    assert line.strip() in ledger_out                 # `dpsynth ledger` shows the same per-key line
    assert main(["budget", str(path), "--json"]) == 0
    parsed = {d["budget_key"]: d for d in json.loads(capsys.readouterr().out)}
    assert parsed["patients"]["spent_epsilon"] == pytest.approx(patients.spent_epsilon)
    assert parsed["patients"]["remaining_epsilon"] == pytest.approx(patients.remaining_epsilon)


def test_status_shows_cap_history_and_reuses_but_charges_no_reuse(ledger_db, capsys):
    """`dpsynth budget` / `dpsynth ledger` (issue 10, item 5): the cap in force with who/when/where it was set, the
    composed spend, what remains, the last release, and reuse events shown but not charged."""
    con, loc, path = ledger_db
    L.record_caps(con, loc, "inv-3", {"patients": 6.0}, source="--vars dpsynth_budgets", recorded_by="ana")
    L.Ledger(con, loc).record_reuse(request("patients"), "r1", rows=10, sample_seed=3)
    before = {s.budget_key: s for s in B.budget_status(con, loc)}["patients"]
    assert (before.reused, before.releases, before.last_release_status) == (1, 2, "failed")   # the reuse is no release
    assert before.spent_epsilon == pytest.approx(compose([request("patients").composition_entry(),
                                                          request("patients", 0.5).composition_entry()]).epsilon)
    assert (before.cap_epsilon, before.cap_previous_epsilon, before.cap_set_by, before.cap_source,
            before.cap_changes) == (6.0, 4.0, "ana", "--vars dpsynth_budgets", 3)
    assert before.last_reused_at is not None
    con.close()
    assert main(["budget", str(path)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "budget_key patients:" in x)
    assert "cap 6 (was 4)" not in line and "cap 6, remaining" in line and "(cap set (was 4) " in line
    assert "by ana from --vars dpsynth_budgets; 3 cap changes" in line
    assert "1 reuse of stored releases (not charged)" in line
    assert main(["ledger", str(path)]) == 0
    out = capsys.readouterr().out
    assert "reused   key=patients mst stored release served again, not charged" in out
    assert "cap      key=patients set to 6 (was 4) at " in out and "by ana from --vars dpsynth_budgets" in out


def render_package_view(name: str) -> str:
    """The SQL of a package model (python_models/<name>.sql) with the package macros it calls stubbed for DuckDB."""
    import jinja2

    class Package:
        @staticmethod
        def dpsynth_ledger_relation(table):
            return f'"main"."{table}"'

        @staticmethod
        def dpsynth_utc_now_sql():
            return "timezone('UTC', now())"

    class Adapter:
        @staticmethod
        def quote(name):
            return f'"{name}"'

    text = (ROOT / "python_models" / f"{name}.sql").read_text()
    return jinja2.Environment().from_string(text).render(dbt_dpsynth=Package(), adapter=Adapter(),
                                                         config=lambda **_: "")



def test_the_package_views_show_what_dpsynth_budget_shows(ledger_db):
    """`dpsynth_budget_status` / `dpsynth_release_catalogue` are views over the ledger (so a `dbt build` that creates
    them before its releases still shows them): every column equals `budget_status` / `release_catalogue`, also
    after a reuse, a cap change and a new failed charge made once the views exist."""
    from dbt_dpsynth import evidence

    con, loc, _ = ledger_db
    evidence.ensure_evidence_tables(con, loc)
    for name in ("dpsynth_budget_status", "dpsynth_release_catalogue"):
        con.execute(f"CREATE VIEW main.{name} AS {render_package_view(name)}")
    L.record_caps(con, loc, "inv-3", {"patients": 6.0}, source="--vars dpsynth_budgets", recorded_by="ana")
    book = L.Ledger(con, loc)
    book.record_reuse(request("patients"), "r1", rows=10, sample_seed=3)
    book.finish_failed(book.reserve(request("patients", 0.25)), "boom")
    evidence.record_report(con, loc, "r1", "model.p.patients_syn", "inv-3", "target/dpsynth/r1.html", "/x/r1.html")

    columns = [r[0] for r in con.execute("DESCRIBE main.dpsynth_budget_status").fetchall()]
    view = {r[0]: dict(zip(columns, r, strict=True))
            for r in con.execute("SELECT * FROM main.dpsynth_budget_status").fetchall()}
    status = {s.budget_key: dataclasses.asdict(s) for s in B.budget_status(con, loc)}
    # a key's budget policy and per-window spend (zCDP composition within each window) are `dpsynth budget`'s and
    # `budget_status`'s only: the view leaves them out
    shared = [c for c in status["patients"] if c not in ("policy_json", "windows_json")]
    assert columns == [*shared, "as_of"] and sorted(view) == sorted(status)
    for key, expected in status.items():
        got = view[key]
        for column, value in ((c, expected[c]) for c in shared):
            assert got[column] == (pytest.approx(value) if isinstance(value, float) else value), (key, column)
    assert view["patients"]["releases"] == 3 and view["patients"]["reused"] == 1
    assert view["patients"]["cap_epsilon"] == 6.0 and view["orders"]["cap_epsilon"] == 7.5

    catalogue = con.execute("SELECT * FROM main.dpsynth_release_catalogue").df()
    rows = B.release_catalogue(con, loc)
    assert sorted(map(tuple, catalogue[list(B.CATALOGUE_COLUMNS[:2]) + ["status"]].values.tolist())) == sorted(
        (r["release_id"], r["model"], r["status"]) for r in rows)
    paths = dict(zip(catalogue["release_id"] + "/" + catalogue["status"], catalogue["report_path"], strict=True))
    assert paths["r1/released"] == paths["r1/reused"] == "target/dpsynth/r1.html"
