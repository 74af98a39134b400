"""The DP transform: fitted only from DP histograms / public bounds; raw values only pass through it row by row."""

import numpy as np
import pandas as pd
import pytest

from dpsynth_core.generators.deep.transform import DataTransformer, dp_cdf_knots

from deep_fixtures import SPEC, make_frame, private_and_domain


def _histograms(private, domain, sigma=2.0):
    return {c.name: private.measure([c.binning], sigma, step=f"test:{c.name}").astype(float)
            for c in domain.columns}


def _fit_transformer(frame, noise_seed=7):
    private, domain = private_and_domain(frame, noise_seed=noise_seed)
    return DataTransformer.from_histograms(domain, _histograms(private, domain), n_modes=4)


def test_canary_outside_public_bounds_never_influences_the_transform():
    """Column `size` has public bounds [0, 100]. A row with size = 1e9 (the canary) and the same row with size = 100
    (its clipped value) must give the identical transform (same noise seed), and the same encoded vector: the only
    trace a value can leave is its clipped value, so nothing beyond the public bounds is learned."""
    frame = make_frame(300)
    with_canary, at_bound = frame.copy(), frame.copy()
    with_canary.loc[0, "size"] = 1e9
    at_bound.loc[0, "size"] = 100.0
    t_canary, t_bound = _fit_transformer(with_canary), _fit_transformer(at_bound)
    assert t_canary.to_state() == t_bound.to_state()
    vec_canary, _ = t_canary.transform(with_canary.iloc[:1])
    vec_bound, _ = t_bound.transform(at_bound.iloc[:1])
    np.testing.assert_array_equal(vec_canary, vec_bound)
    span = t_canary.spans[1]
    assert span.column == "size" and span.x_knots[0] == 0.0 and span.x_knots[-1] == 100.0


def test_transform_depends_on_the_data_only_through_noisy_counts():
    # Same exact counts, different raw rows inside the same fine bins -> identical transform (same noise seed).
    frame = make_frame(300)
    private, domain = private_and_domain(frame, noise_seed=3)
    nudged = frame.copy()
    edges = np.asarray(domain.column("size").fine_edges)
    bins = np.clip(np.searchsorted(edges, frame["size"], side="right") - 1, 0, len(edges) - 2)
    # move every value elsewhere inside its fine bin, keeping the values distinct (the value-discovery stage counts
    # exact values: a point mass would be new, real information)
    inside = (np.arange(len(frame)) + 0.5) / len(frame)
    nudged["size"] = edges[bins] + inside * (edges[bins + 1] - edges[bins])
    a = DataTransformer.from_histograms(domain, _histograms(private, domain), 4)
    private2, domain2 = private_and_domain(nudged, noise_seed=3)
    b = DataTransformer.from_histograms(domain2, _histograms(private2, domain2), 4)
    assert a.to_state() == b.to_state()


def test_round_trip_keeps_categories_and_numeric_values():
    frame = make_frame(200)
    transformer = _fit_transformer(frame)
    vectors, codes = transformer.transform(frame)
    assert vectors.shape == (200, transformer.dim) and codes.shape == (200, 2)   # colour, flag
    choices, alphas = {}, {}
    for span, start in zip(transformer.spans, transformer.offsets, strict=True):
        if hasattr(span, "frequencies"):
            choices[span.column] = vectors[:, start:start + span.size].argmax(1)
        else:
            alphas[span.column] = vectors[:, start]
            choices[span.column] = vectors[:, start + 1:start + span.dim].argmax(1)
    back = transformer.decode(alphas, choices, np.random.default_rng(0))
    assert list(back["colour"]) == list(frame["colour"])
    assert list(back["flag"]) == list(frame["flag"])
    np.testing.assert_allclose(back["size"], frame["size"], rtol=0.01)   # float32 vectors: ~1e-3 relative
    assert back["age"].isna().tolist() == frame["age"].isna().tolist()
    assert (back["age"].dropna() == frame["age"].dropna()).all()


def test_cdf_knots_are_monotone_even_with_negative_noisy_counts():
    x, u = dp_cdf_knots(np.array([0.0, 1.0, 2.0, 3.0]), np.array([-5.0, 10.0, -1.0]))
    assert u[0] == 0.0 and u[-1] == 1.0 and np.all(np.diff(u) > 0)


def test_spec_fixture_is_public_only():
    assert SPEC["size"]["lower"] == 0.0 and isinstance(make_frame(5), pd.DataFrame)


def test_datetime_columns_encode_and_decode_through_epoch_seconds():
    frame = pd.DataFrame({"when": pd.to_datetime(["2020-01-01", "2020-06-01", None, "2021-03-15"] * 25),
                          "colour": ["red", "blue", "green", "red"] * 25})
    spec = {"when": {"kind": "datetime", "lower": "2020-01-01", "upper": "2022-01-01", "bins": 8},
            "colour": {"kind": "categorical", "categories": ["red", "green", "blue"]}}
    private, domain = private_and_domain(frame, spec=spec)
    transformer = DataTransformer.from_histograms(domain, _histograms(private, domain), 4)
    vectors, _ = transformer.transform(frame)
    span, start = transformer.spans[0], transformer.offsets[0]
    choices = {"when": vectors[:, start + 1:start + span.dim].argmax(1),
               "colour": vectors[:, transformer.offsets[1]:].argmax(1)}
    back = transformer.decode({"when": vectors[:, start]}, choices, np.random.default_rng(0))
    assert back["when"].isna().tolist() == frame["when"].isna().tolist()
    error = (back["when"] - frame["when"]).abs().dropna()
    assert error.max() < pd.Timedelta(days=2)


def test_norm_sub_removes_the_positive_bias_of_clipped_noise():
    from dpsynth_core.generators.deep.transform import norm_sub

    rng = np.random.default_rng(0)
    true = np.zeros(200)
    true[:5] = 1000.0                                   # all mass in 5 of 200 cells
    noisy = true + rng.normal(0, 50, size=200)
    clipped = np.clip(noisy, 0, None)
    debiased = norm_sub(noisy, total=5000.0)
    assert debiased.sum() == pytest.approx(5000.0, rel=1e-6) and (debiased >= 0).all()
    assert clipped[5:].sum() > 0.5 * 5000                # clipping alone: ~20 per empty cell * 195 cells
    assert debiased[5:].sum() < 0.1 * 5000               # Norm-Sub: little left on the empty cells
    np.testing.assert_array_equal(norm_sub(np.array([-1.0, 2.0]), None), [0.0, 2.0])
