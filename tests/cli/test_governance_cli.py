"""`dpsynth watermark` and `dpsynth scan`: exit codes, key handling, file formats, owner-facing wording."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from dpsynth_cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from pii_fixtures import people_table  # noqa: E402

KEY = "cli-test-key-0123456789abcdef0123"


@pytest.fixture
def synthetic_csv(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"amount": rng.gamma(2.0, 80.0, 2000), "group": rng.choice(["a", "b", "c"], 2000),
                          "at": pd.to_datetime("2022-01-01") + pd.to_timedelta(rng.uniform(0, 3e7, 2000), unit="s")})
    path = tmp_path / "syn.csv"
    frame.to_csv(path, index=False)
    return path


def test_embed_then_verify_csv_parquet_and_duckdb(synthetic_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VENDOR_KEY", KEY)
    marked = tmp_path / "marked.csv"
    assert main(["watermark", "embed", str(synthetic_csv), "--out", str(marked), "--key-env", "VENDOR_KEY"]) == 0
    assert "no privacy cost" in capsys.readouterr().out
    assert main(["watermark", "verify", str(marked), "--key-env", "VENDOR_KEY"]) == 0
    out = capsys.readouterr().out
    assert "DETECTED" in out and "false-positive rate" in out and "amount" in out and "at" in out
    assert KEY not in out                                           # only the fingerprint is ever printed

    subset = pd.read_csv(marked).sample(frac=0.1, random_state=0)
    subset.to_parquet(tmp_path / "subset.parquet")
    assert main(["watermark", "verify", str(tmp_path / "subset.parquet"), "--key-env", "VENDOR_KEY", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["detected"] is True

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute(f"CREATE SCHEMA s; CREATE TABLE s.t AS SELECT * FROM read_csv('{marked}')")
    con.close()
    assert main(["watermark", "verify", str(tmp_path / "w.duckdb"), "--table", "s.t", "--key-env", "VENDOR_KEY"]) == 0
    capsys.readouterr()

    assert main(["watermark", "verify", str(synthetic_csv), "--key-env", "VENDOR_KEY"]) == 1   # never marked
    assert "not detected" in capsys.readouterr().out


def test_key_from_file_fingerprint_and_errors(synthetic_csv, tmp_path, monkeypatch, capsys):
    secret = tmp_path / "key.txt"
    secret.write_text(KEY + "\n")
    assert main(["watermark", "fingerprint", "--key-file", str(secret)]) == 0
    assert capsys.readouterr().out.strip().startswith("wm1:")
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    assert main(["watermark", "verify", str(synthetic_csv), "--key-env", "NO_SUCH_KEY"]) == 2
    assert "NO_SUCH_KEY" in capsys.readouterr().err
    monkeypatch.setenv("VENDOR_KEY", KEY)
    assert main(["watermark", "verify", str(tmp_path / "w.duckdb"), "--key-env", "VENDOR_KEY"]) == 2
    assert main(["watermark", "new-key"]) == 0
    assert len(capsys.readouterr().out.strip()) == 64


def test_scan_reports_planted_identifiers_with_the_notice_and_a_copyable_spec(tmp_path, capsys):
    path = tmp_path / "people.csv"
    people_table().to_csv(path, index=False)
    assert main(["scan", str(path)]) == 0
    out = capsys.readouterr().out
    assert "NOT differentially private" in out and "does not feed a release" in out
    assert "patient_id: {kind: identifier}" in out and "#   contact:" in out and "#   date_of_birth:" in out
    for quiet in ("age", "sex", "amount", "region", "visits"):
        assert f"  {quiet} " not in out and f"#   {quiet}:" not in out
    assert main(["scan", str(path), "--format", "dbt"]) == 0
    assert "meta: {dpsynth: {kind: identifier}}" in capsys.readouterr().out
    assert main(["scan", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["suggested_spec"] == {"patient_id": {"kind": "identifier"}}
