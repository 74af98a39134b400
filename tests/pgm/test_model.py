import itertools

import numpy as np
import pytest

from dpsynth_core.pgm import Factor, GraphicalModel, Measurement, estimate

CLIQUES = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "a"), ("b", "d")]


@pytest.fixture
def model(joint, domain):
    rng = np.random.default_rng(11)
    measurements = [
        Measurement(c, joint.project(c).values + rng.normal(0, 2.0, joint.project(c).values.shape), 2.0)
        for c in CLIQUES
    ]
    return estimate(domain, measurements, iters=100)


def test_project_matches_brute_force_joint(model, domain):
    full = Factor(domain, model.datavector(flatten=False))
    assert full.sum() == pytest.approx(model.total)
    subsets = [s for r in (1, 2, 3) for s in itertools.combinations(domain.attrs, r)]
    assert any(not any(set(s) <= set(c) for c in model.junction_tree.cliques) for s in subsets)
    for attrs in subsets + [("e", "b", "a"), ("d", "a")]:
        np.testing.assert_allclose(model.project(attrs).values, full.project(attrs).values, rtol=1e-9, atol=1e-9)


def test_brute_force_joint_is_the_normalised_product_of_potentials(model, domain):
    log_joint = Factor.zeros(domain)
    for potential in model.potentials:
        log_joint = log_joint + potential
    expected = log_joint.normalize(model.total, log=True).exp()
    np.testing.assert_allclose(model.datavector(flatten=False), expected.values, rtol=1e-9)


def test_sampling_is_reproducible_by_seed(model):
    first = model.synthetic_data(500, np.random.default_rng(42))
    again = model.synthetic_data(500, 42)
    other = model.synthetic_data(500, 43)
    assert first.shape == (500, 5) and first.dtype == np.int64
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_sampled_marginals_match_the_model(model, domain):
    n = 20000
    data = model.synthetic_data(n, 0)
    for j, attr in enumerate(domain.attrs):
        assert data[:, j].min() >= 0 and data[:, j].max() < domain[attr]
    first = model.junction_tree.elimination_order[-1]
    expected_first = model.project(first).values * n / model.total
    counts_first = np.bincount(data[:, domain.attrs.index(first)], minlength=domain[first])
    # Systematic rounding: the first attribute's counts are its expected counts rounded.
    assert np.abs(counts_first - expected_first).max() < 1.0
    for j, attr in enumerate(domain.attrs):
        p = model.project(attr).values / model.total
        counts = np.bincount(data[:, j], minlength=domain[attr])
        # Within 4 binomial standard deviations of the expectation.
        assert np.all(np.abs(counts - n * p) <= 4 * np.sqrt(n * p * (1 - p)) + 1), attr
    for attrs in CLIQUES:
        cols = [domain.attrs.index(a) for a in attrs]
        p = model.project(attrs).values.ravel() / model.total
        flat = np.ravel_multi_index(tuple(data[:, cols].T), domain.project(attrs).shape)
        counts = np.bincount(flat, minlength=p.size)
        assert 0.5 * np.abs(counts / n - p).sum() < 0.03, attrs


def test_sample_sizes_zero_and_one(model):
    assert model.synthetic_data(0, 1).shape == (0, 5)
    assert model.synthetic_data(1, 1).shape == (1, 5)


def test_state_round_trip_is_exact(model):
    meta, arrays = model.to_state()
    import json

    meta = json.loads(json.dumps(meta))
    restored = GraphicalModel.from_state(meta, {k: v.copy() for k, v in arrays.items()})
    assert restored.total == model.total
    assert restored.cliques == model.cliques
    for p, q in zip(model.potentials, restored.potentials, strict=True):
        np.testing.assert_array_equal(p.values, q.values)
    np.testing.assert_allclose(restored.project(("a", "c")).values, model.project(("a", "c")).values, rtol=1e-12)
    np.testing.assert_array_equal(restored.synthetic_data(300, 5), model.synthetic_data(300, 5))


def test_from_state_rejects_other_formats(model):
    meta, arrays = model.to_state()
    with pytest.raises(ValueError, match="format"):
        GraphicalModel.from_state({**meta, "format": "something-else"}, arrays)


def test_project_many_equals_project(model, domain):
    sets = [s for r in (1, 2, 3) for s in itertools.combinations(domain.attrs, r)] + [("e", "a"), ("d", "b", "a")]
    for attrs, factor in zip(sets, model.project_many(sets), strict=True):
        assert factor.domain.attrs == attrs
        np.testing.assert_allclose(factor.values, model.project(attrs).values, rtol=1e-10, atol=1e-10)
