"""Watermark: detected on shuffled 10% subsets (TPR), silent on unwatermarked synthetic tables (FPR), no measurable
distortion of the synthetic distribution, survives re-encodings it claims to survive and dies where the docs say."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from dpsynth_core import watermark as wm
from dpsynth_core.api import synthesize_table
from dpsynth_core.config import SynthesisConfig
from dpsynth_core.errors import ConfigError, InputError
from dpsynth_core.measurement import PandasEngine

ROWS = 3000


@pytest.fixture(scope="module")
def model(nass):
    release = synthesize_table(PandasEngine(nass, "nassCDS"), {"caseid": {"kind": "identifier"}},
                               SynthesisConfig(epsilon=1.0, generator="mst", seed=0, rows=100),
                               noise_rng=np.random.default_rng(0))      # reproducible test model
    return release.model


def sample(model, seed: int, rows: int = ROWS) -> pd.DataFrame:
    return model.sample(rows, seed)


def key_for(i: int) -> bytes:
    return f"test-key-{i:06d}-0123456789abcdef".encode()


def subset(frame: pd.DataFrame, seed: int, fraction: float = 0.1) -> pd.DataFrame:
    return frame.sample(frac=fraction, random_state=seed)          # random rows, shuffled order


def test_marks_only_the_continuous_columns_of_the_model(model):
    columns, bounds = wm.columns_from_domain(model.domain)
    assert columns == ["weight"] and bounds["weight"][0] < bounds["weight"][1]
    frame = sample(model, 1)
    marked, stamp = wm.embed(frame, key_for(0), columns=columns, bounds=bounds, rng=0)
    unchanged = [c for c in frame.columns if c != "weight"]
    pd.testing.assert_frame_equal(marked[unchanged], frame[unchanged])
    assert stamp.columns == ("weight",) and stamp.values_marked >= 0.99 * ROWS
    assert stamp.values_moved == pytest.approx(ROWS / 2, rel=0.1)                 # half the values were red
    lo, hi = bounds["weight"]
    assert marked["weight"].dropna().between(lo, hi).all()
    assert marked["weight"].isna().equals(frame["weight"].isna())
    relative_move = ((marked["weight"] - frame["weight"]).abs() / frame["weight"].abs()).max()
    assert 0 < relative_move < 1e-3                                                # less than one 4-digit cell


def test_true_positive_rate_on_shuffled_10pct_subsets(model):
    columns, bounds = wm.columns_from_domain(model.domain)
    trials, hits_1e3, hits_default, smallest_cells = 0, 0, 0, math.inf
    for table in range(50):                          # 50 tables and keys, two random shuffled 10% subsets each
        marked, _ = wm.embed(sample(model, 1000 + table), key_for(table), columns=columns, bounds=bounds, rng=table)
        for s in range(2):
            result = wm.detect(subset(marked, 100 * table + s), key_for(table), alpha=1e-3)
            trials += 1
            hits_1e3 += result.detected
            hits_default += result.p_value <= wm.DEFAULT_ALPHA
            smallest_cells = min(smallest_cells, result.cells)
    print(f"TPR on 10% subsets of {ROWS}-row tables: {hits_1e3 / trials:.3f} at alpha 1e-3, "
          f"{hits_default / trials:.3f} at alpha 1e-6 ({trials} subsets; >= {smallest_cells} cells each)")
    assert hits_1e3 / trials >= 0.99 and hits_default / trials >= 0.99


def test_false_positive_rate_on_unwatermarked_synthetic_tables(model):
    tables = [sample(model, 2000 + t) for t in range(20)]
    p_values = []
    for i in range(1500):
        p_values.append(wm.detect(subset(tables[i % 20], i), key_for(10_000 + i)).p_value)
    p = np.asarray(p_values)
    full = [wm.detect(tables[t], key_for(20_000 + t)).p_value for t in range(20)]
    print(f"FPR on unwatermarked synthetic tables: {np.mean(p <= 1e-3):.4f} at alpha 1e-3, "
          f"{np.mean(p <= 1e-6):.4f} at 1e-6 over {p.size} (10% subset, key) pairs; share p <= 0.05: "
          f"{np.mean(p <= 0.05):.3f}; full tables: min p {min(full):.3g}")
    # The exact binomial p-value guarantees P(p <= a) <= a for every a: at the default threshold (1e-6) no false
    # positive may appear; at 1e-3 the count must stay within what Binomial(trials, 1e-3) allows (99.9% quantile);
    # and the p-value must be calibrated, not merely conservative.
    assert not (p <= wm.DEFAULT_ALPHA).any()
    assert (p <= 1e-3).sum() <= stats.binom.ppf(0.999, p.size, 1e-3)
    assert 0.025 <= np.mean(p <= 0.05) <= 0.065
    assert min(full) > 1e-3


def test_no_measurable_distortion_of_the_synthetic_distribution(model):
    columns, bounds = wm.columns_from_domain(model.domain)
    samples = [sample(model, 3000 + s, 5000) for s in range(4)]
    marked, _ = wm.embed(samples[0], key_for(7), columns=columns, bounds=bounds, rng=7)
    edges = np.quantile(pd.concat(samples)["weight"].dropna(), np.linspace(0, 1, 201))

    def tvd(a: pd.DataFrame, b: pd.DataFrame) -> float:
        ha = np.histogram(a["weight"].dropna(), edges)[0] / len(a)
        hb = np.histogram(b["weight"].dropna(), edges)[0] / len(b)
        return 0.5 * float(np.abs(ha - hb).sum())

    independent = [tvd(samples[i], samples[j]) for i in range(4) for j in range(i + 1, 4)]
    assert tvd(marked, samples[0]) < 0.1 * min(independent)             # at 200 quantile bins: almost nothing moves
    for other in samples[1:]:
        assert abs(tvd(marked, other) - tvd(samples[0], other)) < 0.1 * min(independent)
    # at the finest scale the mark touches (the 5th significant digit), pooled over values it stays uniform
    w = marked["weight"].dropna()
    fifth = np.floor(w / 10.0 ** (np.floor(np.log10(w)) - 4)) % 10
    counts = np.bincount(fifth.astype(int), minlength=10)
    chi2 = float(((counts - counts.mean()) ** 2 / counts.mean()).sum())
    assert chi2 < 27.9                                                     # chi-square(9) at p = 0.001


@pytest.mark.parametrize("transform, survives", [
    (lambda f: f.rename(columns={"weight": "w"}).iloc[:, ::-1], True),
    (lambda f: pd.read_csv(io.StringIO(f.to_csv(index=False))), True),
    (lambda f: f.astype({"weight": "float32"}), True),
    (lambda f: f.assign(weight=f["weight"].map(lambda v: float(f"{v:.6g}"))), True),     # printf %g
    (lambda f: f.assign(weight=f["weight"].map(lambda v: float(f"{v:.4g}"))), False),    # 4 significant digits
    (lambda f: f.assign(weight=f["weight"] * (1 + np.random.default_rng(0).normal(0, 1e-3, len(f)))), False),
    (lambda f: f.drop(columns=["weight"]), False),
])
def test_survives_reencodings_and_is_removed_by_coarsening_noise_or_dropping(model, transform, survives):
    columns, bounds = wm.columns_from_domain(model.domain)
    marked, _ = wm.embed(sample(model, 5), key_for(3), columns=columns, bounds=bounds, rng=3)
    assert wm.detect(subset(transform(marked), 1), key_for(3)).detected is survives


def test_another_recipients_key_does_not_detect(model):
    master = b"master-secret-0123456789abcdef"
    alice, bob = wm.derive_key(master, "vendor:alice"), wm.derive_key(master, "vendor:bob")
    marked, stamp = wm.embed(sample(model, 9), alice, rng=0)
    assert stamp.key_fingerprint == wm.key_fingerprint(alice) != wm.key_fingerprint(bob)
    assert wm.detect(marked, alice).detected and not wm.detect(marked, bob).detected


def test_integers_nulls_round_values_and_other_columns_are_left_alone():
    rng = np.random.default_rng(0)
    x = rng.uniform(100, 1000, 400)
    x[:20] = np.nan
    x[20:40] = 100.0                                              # a declared bound: round at 5 digits
    frame = pd.DataFrame({"x": x, "whole": np.round(rng.uniform(0, 10_000_000, 400)),
                          "cat": rng.choice(["a", "b"], 400), "n": rng.integers(0, 9, 400)})
    original = frame.copy()
    marked, _ = wm.embed(frame, key_for(1), bounds={"x": (100.0, 1000.0)}, rng=0)
    pd.testing.assert_frame_equal(frame, original)                # the input is not modified
    pd.testing.assert_frame_equal(marked[["whole", "cat", "n"]], frame[["whole", "cat", "n"]])
    assert marked["x"].isna().sum() == 20 and (marked["x"].iloc[20:40] == 100.0).all()
    assert marked["x"].dropna().between(100.0, 1000.0).all()
    assert wm.detect(marked, key_for(1)).detected


def test_timestamps_are_marked_within_their_minute_and_survive_truncation_to_seconds():
    rng = np.random.default_rng(1)
    start = pd.Timestamp("2021-01-01").value
    ns = start + rng.integers(0, 365 * 86400 * 10 ** 9, 3000)
    frame = pd.DataFrame({"at": pd.to_datetime((ns // 1000) * 1000), "day": pd.to_datetime(ns).normalize()})
    frame["at_tz"] = frame["at"].dt.tz_localize("UTC").dt.tz_convert("Europe/Paris")
    marked, stamp = wm.embed(frame, key_for(2), rng=0)
    assert set(stamp.columns) == {"at", "at_tz"}
    assert (marked["at"].dt.floor("min") == frame["at"].dt.floor("min")).all()
    pd.testing.assert_series_equal(marked["day"], frame["day"])      # dates (midnights) carry no mark
    assert str(marked["at_tz"].dt.tz) == "Europe/Paris"
    assert wm.detect(subset(marked[["at"]], 0), key_for(2)).detected
    assert wm.detect(subset(marked[["at_tz"]], 0), key_for(2)).detected
    truncated = marked[["at"]].assign(at=marked["at"].dt.floor("s"))
    assert wm.detect(subset(truncated, 0), key_for(2)).detected
    assert not wm.detect(marked[["at"]].assign(at=marked["at"].dt.floor("min")), key_for(2)).detected
    assert not wm.detect(frame, key_for(2)).detected


def test_a_table_without_markable_values_reports_zero_cells():
    frame = pd.DataFrame({"cat": ["a", "b"] * 50, "n": range(100)})
    marked, stamp = wm.embed(frame, key_for(0))
    result = wm.detect(marked, key_for(0))
    assert stamp.values_marked == 0 and result.cells == 0 and result.p_value == 1.0 and not result.detected
    with pytest.raises(InputError, match="only float and timestamp columns"):
        wm.embed(frame, key_for(0), columns=["cat"])


def test_p_value_stays_finite_in_log_space_for_huge_scores(model):
    marked, _ = wm.embed(sample(model, 11), key_for(5), rng=0)
    result = wm.detect(marked, key_for(5))
    assert result.p_value == 0.0 and -10_000 < result.log10_p_value < -500 and result.score > 30


def test_keys_come_from_env_or_file_are_long_enough_and_only_their_fingerprint_is_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_WM_KEY", "k" * 32)
    assert wm.load_key("MY_WM_KEY") == b"k" * 32
    secret = tmp_path / "wm.key"
    secret.write_text("s" * 40 + "\n")
    assert wm.load_key(path=secret) == b"s" * 40
    monkeypatch.delenv("MY_WM_KEY")
    with pytest.raises(ConfigError, match="MY_WM_KEY.*not set.*Fix: export MY_WM_KEY"):
        wm.load_key("MY_WM_KEY")
    with pytest.raises(ConfigError, match="at least 16"):
        wm.key_fingerprint("short")
    fingerprint = wm.key_fingerprint(b"s" * 40)
    assert fingerprint.startswith("wm1:") and len(fingerprint) == 20 and "s" * 8 not in fingerprint
    assert wm.key_fingerprint(b"s" * 40) == fingerprint != wm.key_fingerprint(b"t" * 40)
    assert len(bytes.fromhex(wm.new_key())) == 32
