import json

import numpy as np
import pandas as pd
import pytest

from dpsynth_cli import main


def _table(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"id": [f"k{seed}-{i}" for i in range(n)], "x": x, "g": rng.choice(["a", "b", "c"], n),
                         "y": np.where(x + rng.normal(0, 0.5, n) > 0, "yes", "no")})


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, seed in (("real", 1), ("holdout", 2), ("fresh", 3)):
        paths[name] = tmp_path / f"{name}.csv"
        _table(1000, seed).to_csv(paths[name], index=False)
    paths["copy"] = tmp_path / "copy.parquet"
    _table(1000, 1).to_parquet(paths["copy"])
    gates = tmp_path / "gates.yml"
    gates.write_text("options:\n  n_attacks: 100\n")
    paths["gates"] = gates
    return paths


def test_evaluate_passes_fresh_rows_and_prints_json(files, capsys):
    code = main(["evaluate", str(files["real"]), str(files["fresh"]), "--holdout", str(files["holdout"]),
                 "--target", "y", "--kind", "id=identifier", "--gates", str(files["gates"])])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["passed"] is True
    assert "tstr_auc_gap" in {m["metric"] for m in out["metrics"]}


def test_evaluate_exits_1_on_a_copied_table_and_names_the_failures(files, capsys):
    code = main(["evaluate", str(files["real"]), str(files["copy"]), "--holdout", str(files["holdout"]),
                 "--gates", str(files["gates"])])
    captured = capsys.readouterr()
    assert code == 1 and json.loads(captured.out)["privacy_passed"] is False
    assert "privacy gate failed: exact_copy_rate = 1" in captured.err


def test_evaluate_without_holdout_splits_real_and_says_so(files, capsys):
    main(["evaluate", str(files["real"]), str(files["fresh"]), "--gates", str(files["gates"])])
    captured = capsys.readouterr()
    assert "REAL split at random (seed 0) into 800 train and 200 holdout rows" in captured.err
    assert json.loads(captured.out)["notes"][0].startswith("no --holdout")


def test_evaluate_reports_bad_arguments_as_errors(files, capsys):
    assert main(["evaluate", str(files["real"]), "missing.csv"]) == 2
    assert main(["evaluate", str(files["real"]), str(files["fresh"]), "--kind", "id=float"]) == 2
    assert "--kind 'id=float'" in capsys.readouterr().err
