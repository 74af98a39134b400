"""The gates discriminate on real data (nassCDS): a table copying 5% of train rows fails the privacy gate (exact
copies and DCR); a table with independently shuffled columns fails the utility gate; fresh real rows pass both.

Split: three equal random thirds of nassCDS = train (what the "generator" saw), holdout, and fresh rows (a stand-in
for an ideal generator). Equal train/holdout sizes let DCR see every copied row.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dpsynth_core.evaluation import EvaluationOptions, evaluate

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = [ROOT / "integration_tests" / "seeds" / "nassCDS.csv", Path("/work/shared/data/nassCDS.csv")]
KINDS = {"caseid": "identifier"}
OPTIONS = EvaluationOptions(n_attacks=200)


@pytest.fixture(scope="module")
def thirds():
    path = next((p for p in CANDIDATES if p.exists()), None)
    if path is None:
        pytest.skip("nassCDS.csv not found (integration_tests/seeds/ or /work/shared/data/)")
    df = pd.read_csv(path)
    perm = np.random.default_rng(0).permutation(len(df))
    n = len(df) // 3
    return tuple(df.iloc[perm[i * n:(i + 1) * n]].reset_index(drop=True) for i in range(3))


def test_fresh_rows_pass_both_gates(thirds):
    train, holdout, fresh = thirds
    report = evaluate(train, holdout, fresh, kinds=KINDS, options=OPTIONS)
    assert report.passed, [(r.metric, r.value, r.threshold) for r in report.failures()]


def test_copying_five_percent_of_train_fails_privacy_on_exact_copies_and_dcr(thirds):
    train, holdout, fresh = thirds
    k = int(0.05 * len(fresh))
    synthetic = pd.concat([train.sample(k, random_state=1), fresh.iloc[k:]], ignore_index=True)
    report = evaluate(train, holdout, synthetic, kinds=KINDS, options=OPTIONS)
    failed = {r.metric for r in report.failures("privacy")}
    assert {"exact_copy_rate", "dcr_share"} <= failed
    assert report["exact_copy_rate"].value == pytest.approx(0.05, abs=0.002)
    assert report.passed_kind("utility")


def test_shuffled_columns_fail_utility(thirds):
    train, holdout, fresh = thirds
    rng = np.random.default_rng(2)
    shuffled = pd.DataFrame({c: fresh[c].to_numpy()[rng.permutation(len(fresh))] for c in fresh.columns})
    report = evaluate(train, holdout, shuffled, kinds=KINDS, target="dead", options=OPTIONS)
    failed = {r.metric for r in report.failures("utility")}
    assert {"marginal_tvd_2way", "dependence_diff", "tstr_auc_gap"} <= failed
    assert report["marginal_tvd_1way"].passed      # shuffling keeps every 1-way marginal
    assert report.passed_kind("privacy")
