"""`dpsynth` console script: synthesize CSV/Parquet with a release record beside the output; ledger listing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dbt_dpsynth import ledger as L
from dpsynth_cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
NASS_CSV = ROOT / "integration_tests" / "seeds" / "nassCDS.csv"


@pytest.fixture
def small_csv(tmp_path, nass) -> Path:
    path = tmp_path / "crashes.csv"
    nass.head(2000)[["dvcat", "dead", "sex", "ageOFocc", "caseid"]].to_csv(path, index=False)
    return path


@pytest.fixture
def spec_yml(tmp_path) -> Path:
    path = tmp_path / "spec.yml"
    path.write_text("columns:\n"
                    "  dead: {kind: categorical, categories: [alive, dead]}\n"
                    "  AGEofOCC: {kind: integer, lower: 0, upper: 100, bins: 10}\n"
                    "  caseid: {kind: identifier}\n")
    return path


def test_synthesize_csv_writes_output_and_release_record(small_csv, spec_yml, tmp_path, capsys):
    out = tmp_path / "out" / "crashes_syn.csv"
    code = main(["synthesize", str(small_csv), "--out", str(out), "--epsilon", "1", "--rows", "250", "--seed", "3",
                 "--spec", str(spec_yml), "--option", "iters=30"])
    assert code == 0
    synthetic = pd.read_csv(out)
    assert list(synthetic.columns) == ["dvcat", "dead", "sex", "ageOFocc", "caseid"] and len(synthetic) == 250
    record = json.loads(Path(str(out) + ".release.json").read_text())
    assert record["epsilon"] == 1.0 and record["epsilon_spent"] <= 1.0 + 1e-12
    assert record["generator"] == "aim" and record["rows"] == 250 and record["delta"] == pytest.approx(1e-6)
    assert record["spend"] and all(step["rho"] >= 0 for step in record["spend"])
    assert sum(step["rho"] for step in record["spend"]) <= record["rho"] * (1 + 1e-9)
    assert record["columns"]["dead"]["domain"] == "public" and record["columns"]["dvcat"]["domain"] == "dp_discovered"
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "epsilon=1" in lines[0] and "250 rows" in lines[0]


def test_synthesize_with_a_person_level_unit_states_it_in_the_record(small_csv, tmp_path):
    out = tmp_path / "syn.csv"
    assert main(["synthesize", str(small_csv), "--out", str(out), "--epsilon", "1", "--generator", "mst",
                 "--privacy-unit", "caseid", "--max-rows-per-unit", "2", "--option", "iters=30"]) == 0
    record = json.loads(Path(str(out) + ".release.json").read_text())
    assert record["neighbouring"] == "add/remove one caseid (all its rows), at most 2 rows each"
    assert record["privacy_unit"]["max_rows_per_unit"] == 2 and record["columns"]["caseid"]["privacy_unit"] is True


def test_synthesize_parquet_round_trip_with_delta(small_csv, tmp_path):
    src = tmp_path / "crashes.parquet"
    duckdb.execute(f"COPY (SELECT * FROM read_csv_auto('{small_csv}')) TO '{src}' (FORMAT parquet)")
    out = tmp_path / "syn.parquet"
    assert main(["synthesize", str(src), "--out", str(out), "--epsilon", "2", "--delta", "1e-7", "--rows", "100",
                 "--option", "iters=30"]) == 0
    assert len(pd.read_parquet(out)) == 100
    record = json.loads(Path(str(out) + ".release.json").read_text())
    assert (record["epsilon"], record["delta"]) == (2.0, pytest.approx(1e-7))


def test_full_nass_table_at_epsilon_1_never_reports_more_than_requested(tmp_path):
    out = tmp_path / "nass_syn.csv"
    assert main(["synthesize", str(NASS_CSV), "--out", str(out), "--epsilon", "1", "--seed", "1"]) == 0
    record = json.loads(Path(str(out) + ".release.json").read_text())
    assert record["epsilon"] == 1.0 and record["epsilon_spent"] <= 1.0 + 1e-12
    assert record["rows_source"] == "dp_estimate" and abs(record["rows"] - 26217) < 500
    assert len(pd.read_csv(out)) == record["rows"]


@pytest.mark.parametrize("args, fragment", [
    (["--out", "x.txt", "--epsilon", "1"], "unsupported extension"),
    (["--out", "x.csv", "--epsilon", "-1"], "epsilon"),
    (["--out", "x.csv", "--epsilon", "1", "--generator", "nope"], "unknown generator"),
])
def test_bad_arguments_exit_2_with_a_named_fix(small_csv, tmp_path, capsys, args, fragment):
    args = [a if not a.startswith("x.") else str(tmp_path / a) for a in args]
    assert main(["synthesize", str(small_csv), *args]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Fix:" in err
    assert not (tmp_path / "x.csv").exists()


def test_a_deep_generator_without_the_deep_extra_exits_2_naming_it(small_csv, tmp_path, capsys, monkeypatch):
    import sklearn  # noqa: F401  (scikit-learn probes sys.modules["torch"] on first import: load it before hiding torch)

    monkeypatch.setitem(sys.modules, "torch", None)   # as if torch were not installed
    out = tmp_path / "o.csv"
    assert main(["synthesize", str(small_csv), "--out", str(out), "--epsilon", "1", "--generator", "dp-ctgan"]) == 2
    err = capsys.readouterr().err
    assert "[deep]" in err and "torch" in err and not out.exists()


def test_missing_input_is_an_input_error(tmp_path, capsys):
    assert main(["synthesize", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o.csv"), "--epsilon", "1"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_ledger_command_lists_releases_and_composed_totals(tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    loc = L.LedgerLocation("main")
    L.ensure_tables(con, loc)
    book = L.Ledger(con, loc)
    req = L.ReleaseRequest("patients", "m", "t", "patients", "mst", 1.0, 1e-6, 9e-7, 0.0241, "zcdp", None, None, "i")
    book.reserve(req, 3.0)
    book.reserve(req, 3.0)
    con.close()
    assert main(["ledger", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.count("reserved key=patients") == 2
    assert "budget_key patients: 2 charged releases" in out and "plain sum of epsilons 2" in out


def test_parser_registers_present_subcommands():
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices   # noqa: SLF001 - argparse has no public accessor
    assert {"synthesize", "ledger"} <= set(choices)


def test_a_csv_columns_kind_never_follows_one_value(tmp_path):
    """Issue 8 hole 2 through the CLI: one `26.5` (or `zz`) among 3,000 integer ages past the sniffer's sample made
    `age` continuous (or categorical, all null). CSV columns are read as text and their kind is a charged DP decision:
    `age` stays an integer column in the record and in the written values."""
    ages = [str(18 + (i * 37) % 70) for i in range(3000)]
    for odd in ("26.5", "zz"):
        column = list(ages)
        column[2500] = odd
        src, out = tmp_path / f"ages_{odd}.csv", tmp_path / f"out_{odd}.csv"
        src.write_text("age,sex\n" + "".join(f"{a},{'fm'[i % 2]}\n" for i, a in enumerate(column)))
        assert main(["synthesize", str(src), "--out", str(out), "--epsilon", "1", "--seed", "2"]) == 0
        record = json.loads(Path(str(out) + ".release.json").read_text())
        assert record["columns"]["age"]["kind"] == "integer"
        assert any(r["step"].startswith("domain:kind") for r in record["spend"])      # the decision was charged
        written = pd.read_csv(out, dtype=str)["age"].dropna()
        assert len(written) > 2000 and written.str.fullmatch(r"-?\d+").all()


def test_parquet_in_parquet_out_keeps_the_source_types(tmp_path):
    src, out = tmp_path / "typed.parquet", tmp_path / "out.parquet"
    duckdb.sql(f"COPY (SELECT CAST(18 + i % 60 AS SMALLINT) AS age, CAST(i % 97 * 1.25 AS DECIMAL(6, 2)) AS fare, "
               f"DATE '2020-01-01' + CAST(i % 300 AS INTEGER) AS seen, ['f', 'm'][1 + i % 2] AS sex "
               f"FROM range(2000) t(i)) TO '{src}'")
    assert main(["synthesize", str(src), "--out", str(out), "--epsilon", "1", "--seed", "2"]) == 0
    types = duckdb.sql(f"DESCRIBE SELECT * FROM '{out}'").fetchall()
    assert [(t[0], t[1]) for t in types] == [("age", "SMALLINT"), ("fare", "DECIMAL(6,2)"), ("seen", "DATE"),
                                              ("sex", "VARCHAR")]
