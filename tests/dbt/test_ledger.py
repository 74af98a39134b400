"""Ledger: cap check and reservation in one serialised transaction; every status stays charged; rho composition."""

from __future__ import annotations

import threading

import duckdb
import pytest

from dbt_dpsynth import ledger as L
from dpsynth_core.accounting.composition import compose
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.errors import BudgetExceededError, ConfigError, SpecError


def request(epsilon: float = 1.0, key: str | None = "patients") -> L.ReleaseRequest:
    cfg = SynthesisConfig(epsilon=epsilon)
    conv = cfg.budget_plan().delta_conversion
    return L.ReleaseRequest(source_relation="patients", model="model.p.syn", target_relation='"db"."main"."syn"',
                            budget_key=key, generator="mst", epsilon=epsilon, delta=cfg.resolved_delta(),
                            delta_conversion=conv, rho=cfg.requested_rho(), accountant="zcdp", seed=None, rows=None,
                            invocation_id="inv-1")


def composed(n: int, epsilon: float = 1.0) -> float:
    return compose([request(epsilon).composition_entry()] * n).epsilon


@pytest.fixture
def book():
    con = duckdb.connect()
    loc = L.LedgerLocation("main")
    L.ensure_tables(con, loc)
    return L.Ledger(con, loc)


def snapshot(book: L.Ledger) -> list[tuple]:
    return book.con.execute(f"SELECT * FROM {book.location.ledger} ORDER BY release_id").fetchall()


def test_reserve_writes_a_committed_reserved_row_visible_to_another_connection(book):
    res = book.reserve(request(), cap_epsilon=3.0)
    other = book.con.cursor()   # a separate connection sees it: the reservation is committed before any data read
    rows = other.execute(f"SELECT release_id, status, budget_key, epsilon, cumulative_epsilon, cap_epsilon "
                         f"FROM {book.location.ledger}").fetchall()
    assert rows == [(res.release_id, "reserved", "patients", 1.0, pytest.approx(1.0), 3.0)]


def test_over_cap_refusal_names_key_spent_requested_cap_and_charges_nothing(book):
    book.reserve(request(1.0), cap_epsilon=2.0)
    before = snapshot(book)
    with pytest.raises(BudgetExceededError) as info:
        book.reserve(request(1.5), cap_epsilon=1.5)
    message = str(info.value)
    assert "'patients'" in message and "spent epsilon=1" in message and "requested epsilon=1.5" in message
    assert "cap epsilon=1.5" in message and "Nothing was charged" in message
    assert (info.value.spent_epsilon, info.value.requested_epsilon, info.value.cap_epsilon) == (
        pytest.approx(1.0), 1.5, 1.5)
    assert snapshot(book) == before


def test_composition_is_in_rho_so_a_cap_below_the_plain_sum_can_still_fit(book):
    two = composed(2)
    assert two < 2.0   # rho-composition is tighter than adding epsilons
    cap = (two + 2.0) / 2   # between the composed epsilon and the plain sum
    book.reserve(request(), cap)
    second = book.reserve(request(), cap)
    assert second.cumulative_epsilon == pytest.approx(two)
    assert second.cumulative_epsilon_naive == pytest.approx(2.0)
    with pytest.raises(BudgetExceededError):
        book.reserve(request(), cap_epsilon=two * 1.0001)   # a third cannot fit a cap just above two releases


def test_failed_and_dangling_reservations_stay_charged(book):
    failed = book.reserve(request(), cap_epsilon=10.0)
    book.finish_failed(failed, RuntimeError("generator crashed after reading data"))
    book.reserve(request(), cap_epsilon=10.0)   # never finished: a killed job
    statuses = [r[2] for r in book.rows_for()]
    assert sorted(statuses) == ["failed", "reserved"]
    assert len(book.charged("patients")) == 2
    third = book.reserve(request(), cap_epsilon=10.0)
    assert third.cumulative_epsilon == pytest.approx(composed(3))
    error = book.con.execute(f"SELECT error FROM {book.location.ledger} WHERE status = 'failed'").fetchall()[0][0]
    # the scrubbed text only: an exception that is not ours is stored by its type (its message can quote data)
    assert error == "RuntimeError (message withheld: it can quote private values)"
    spec_error = book.reserve(request(), cap_epsilon=10.0)
    book.finish_failed(spec_error, SpecError("bad kind.", table="patients", column="age", fix="declare it."))
    errors = [r[0] for r in book.con.execute(f"SELECT error FROM {book.location.ledger} WHERE status = 'failed' "
                                             "ORDER BY started_at").fetchall()]
    assert errors[-1] == "SpecError: [table 'patients', column 'age'] bad kind. Fix: declare it."   # ours: in full


def test_finish_released_keeps_the_record_id_spend_and_rows(book):
    res = book.reserve(request(), cap_epsilon=None)
    record = {"release_id": "rec-123", "rows": 42, "accountant": "zcdp",
              "spend": [{"step": "one-way", "mechanism": "gaussian", "rho": 0.01}]}
    assert book.finish_released(res, record) == "rec-123"
    row = book.con.execute(f"SELECT release_id, status, rows, spend_json, record_json, finished_at IS NOT NULL, rho "
                           f"FROM {book.location.ledger}").fetchall()[0]
    assert row[:3] == ("rec-123", "released", 42)
    assert '"mechanism": "gaussian"' in row[3] and '"rec-123"' in row[4] and row[5] is True
    assert row[6] == pytest.approx(request().rho)   # the charge stays the reserved allocation


def test_no_cap_and_no_key_record_without_refusing(book):
    book.reserve(request(50.0), cap_epsilon=None)
    book.reserve(request(1.0, key=None), cap_epsilon=None)
    assert len(book.rows_for()) == 2


def test_concurrent_reservations_never_overspend(tmp_path):
    """8 threads on separate connections race for a cap that fits exactly 3 releases: exactly 3 succeed."""
    con = duckdb.connect(str(tmp_path / "ledger.duckdb"))
    loc = L.LedgerLocation("main")
    L.ensure_tables(con, loc)
    cap = (composed(3) + composed(4)) / 2
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def worker():
        book = L.Ledger(con.cursor(), loc)
        barrier.wait()
        try:
            book.reserve(request(), cap)
            outcomes.append("ok")
        except BudgetExceededError:
            outcomes.append("refused")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] * 3 + ["refused"] * 5
    assert con.execute(f"SELECT count(*), max(cumulative_epsilon) FROM {loc.ledger}").fetchall()[0] == (
        3, pytest.approx(composed(3)))


def test_locate_prefers_the_schema_marked_by_this_invocation():
    con = duckdb.connect()
    for schema in ("dev", "prod"):
        L.ensure_tables(con, L.LedgerLocation(schema))
    L.record_invocation(con, L.LedgerLocation("prod"), "inv-9")
    L.record_caps(con, L.LedgerLocation("prod"), "inv-9", {"patients": 3.0})
    found = L.locate(con, invocation_id="inv-9", database=None, default_schema="elsewhere")
    assert found.schema == "prod"
    assert L.read_caps(con, found, "inv-9") == {"patients": 3.0}
    assert L.read_caps(con, found, "inv-other") is None     # no hook ran for that invocation
    assert L.locate(con, invocation_id=None, database=None, default_schema="dev").schema == "dev"
    with pytest.raises(ConfigError, match="several schemas"):
        L.locate(con, invocation_id="inv-x", database=None, default_schema="elsewhere")
    assert L.locate(con, invocation_id="inv-x", database=None, default_schema="x", explicit_schema="s").schema == "s"


def test_locate_falls_back_to_the_default_schema_when_no_ledger_exists():
    con = duckdb.connect()
    assert L.locate(con, invocation_id="i", database=None, default_schema="analytics").schema == "analytics"


@pytest.mark.parametrize("caps", [{"k": 0}, {"k": -1}, {"k": "lots"}, {"k": float("inf")}, ["k"]])
def test_invalid_caps_are_refused_with_the_key(caps):
    with pytest.raises(ConfigError, match="dpsynth_budgets|mapping"):
        L.validate_caps(caps, where="test")


# ---- caps are a floor nobody lowers by accident (issue 10, item 3)

def test_a_key_the_next_invocation_omits_keeps_its_cap(book):
    """The issue's case: `--vars '{dpsynth_budgets: {patients: 4.0}}'` must not uncap 'visits'."""
    loc = book.location
    L.record_caps(book.con, loc, "inv-1", {"patients": 3.0, "visits": 1.2}, source="var dpsynth_budgets")
    L.record_caps(book.con, loc, "inv-2", {"patients": 4.0}, source="--vars dpsynth_budgets", recorded_by="ana")
    assert L.caps_in_force(book.con, loc) == {"patients": 4.0, "visits": 1.2}
    book.reserve(request(1.0, key="visits"))                       # the cap in force is read in the transaction
    with pytest.raises(BudgetExceededError, match="cap epsilon=1.2"):
        book.reserve(request(1.0, key="visits"))
    assert len(book.charged("visits")) == 1


def test_the_caps_history_records_changes_with_previous_value_source_and_who(book):
    loc = book.location
    assert [c.budget_key for c in L.record_caps(book.con, loc, "inv-1", {"k": 2.0, "j": 1.0})] == ["k", "j"]
    assert L.record_caps(book.con, loc, "inv-2", {"k": 2.0}) == []          # unchanged: nothing recorded
    raised = L.record_caps(book.con, loc, "inv-3", {"k": 5.0}, source="--vars dpsynth_budgets", recorded_by="ana")
    assert [(c.budget_key, c.cap_epsilon, c.previous_cap_epsilon, c.source, c.recorded_by) for c in raised] == [
        ("k", 5.0, 2.0, "--vars dpsynth_budgets", "ana")]
    history = [(c.budget_key, c.cap_epsilon, c.previous_cap_epsilon) for c in L.cap_history(book.con, loc)]
    assert history == [("k", 2.0, None), ("j", 1.0, None), ("k", 5.0, 2.0)]


def test_lowering_a_cap_below_the_spend_stops_further_spend(book):
    loc = book.location
    L.record_caps(book.con, loc, "inv-1", {"patients": 5.0})
    book.reserve(request(2.0))
    L.record_caps(book.con, loc, "inv-2", {"patients": 1.0})
    with pytest.raises(BudgetExceededError, match="cap epsilon=1"):
        book.reserve(request(0.1))
    assert len(book.charged("patients")) == 1


def test_a_key_capped_only_on_a_ledger_row_is_never_uncapped(book):
    book.reserve(request(1.0), cap_epsilon=1.2)                     # e.g. a cap from a model config, no history row
    assert L.caps_in_force(book.con, book.location) == {"patients": 1.2}
    with pytest.raises(BudgetExceededError):
        book.reserve(request(1.0))


def test_reused_rows_are_recorded_but_never_charged(book):
    first = book.reserve(request(1.0), cap_epsilon=3.0)
    book.finish_released(first, {"release_id": "r1", "rows": 10})
    reuse = book.record_reuse(request(1.0), "r1", rows=10, sample_seed=7)
    assert reuse.release_id == "r1" and reuse.cumulative_epsilon == pytest.approx(1.0)
    assert sorted(r[2] for r in book.rows_for()) == ["released", "reused"]
    assert len(book.charged("patients")) == 1
    assert book.reserve(request(1.0), cap_epsilon=3.0).cumulative_epsilon == pytest.approx(composed(2))


def test_ensure_tables_adds_columns_an_older_version_lacked():
    con = duckdb.connect()
    con.execute("CREATE TABLE main.dpsynth_budget_caps (invocation_id VARCHAR, budget_key VARCHAR, "
                "cap_epsilon DOUBLE, recorded_at TIMESTAMP)")
    L.ensure_tables(con, L.LedgerLocation("main"))
    columns = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = "
                                         "'dpsynth_budget_caps' ORDER BY ordinal_position").fetchall()]
    from dbt_dpsynth.tables import CAPS

    assert columns == CAPS.names
