import numpy as np
import pytest

from dpsynth_core.pgm import Domain, Factor
from dpsynth_core.pgm.factor import logsumexp


def test_domain_project_marginalize_merge():
    dom = Domain(("x", "y", "z"), (2, 3, 4))
    assert dom.project(("z", "x")) == Domain(("z", "x"), (4, 2))
    assert dom.marginalize("y") == Domain(("x", "z"), (2, 4))
    assert dom.size() == 24 and dom.size(("y", "z")) == 12
    assert dom.axes(("z", "y")) == (2, 1)
    assert dom.canonical({"z", "x"}) == ("x", "z")
    merged = Domain(("y", "w"), (3, 5)).merge(dom)
    assert merged.attrs == ("y", "w", "x", "z") and merged.shape == (3, 5, 2, 4)
    assert dom.contains(("x", "z")) and not dom.contains(("x", "w"))
    assert list(dom) == ["x", "y", "z"] and len(dom) == 3 and dom["z"] == 4


def test_domain_rejects_bad_input():
    with pytest.raises(ValueError):
        Domain(("x", "x"), (2, 2))
    with pytest.raises(ValueError):
        Domain(("x",), (0,))
    with pytest.raises(KeyError):
        Domain(("x",), (2,)).project("nope")
    with pytest.raises(ValueError):
        Domain(("x",), (2,)).merge(Domain(("x",), (3,)))


def test_factor_project_matches_numpy(joint):
    marg = joint.project(("c", "a"))
    assert marg.domain.attrs == ("c", "a")
    np.testing.assert_allclose(marg.values, joint.values.sum(axis=(1, 3, 4)).T)
    logged = joint.log().project(("c", "a"), log=True)
    np.testing.assert_allclose(np.exp(logged.values), marg.values)


def test_factor_broadcasting_arithmetic():
    f = Factor(Domain(("x", "y"), (2, 3)), np.arange(6.0).reshape(2, 3))
    g = Factor(Domain(("y", "z"), (3, 2)), np.arange(6.0).reshape(3, 2) + 1)
    prod = f * g
    assert prod.domain.attrs == ("x", "y", "z")
    expected = np.einsum("xy,yz->xyz", f.values, g.values)
    np.testing.assert_allclose(prod.values, expected)
    np.testing.assert_allclose((f + g).values, f.values[:, :, None] + g.values[None, :, :])
    np.testing.assert_allclose((prod / g).values, np.broadcast_to(f.values[:, :, None], (2, 3, 2)))
    np.testing.assert_allclose((1 - f).values, 1 - f.values)
    assert (f / f).values[0, 0] == 0.0  # 0/0 is an empty cell, not NaN


def test_factor_expand_transpose_normalize():
    f = Factor(Domain(("y",), (3,)), np.array([1.0, 2.0, 3.0]))
    big = f.expand(Domain(("x", "y"), (2, 3)))
    np.testing.assert_allclose(big.values, [[1, 2, 3], [1, 2, 3]])
    assert big.transpose(("y", "x")).values.shape == (3, 2)
    assert f.normalize(12.0).sum() == pytest.approx(12.0)
    assert f.log().normalize(12.0, log=True).exp().sum() == pytest.approx(12.0)


def test_logsumexp_is_stable():
    values = np.array([[-1000.0, -1000.0], [1000.0, 999.0]])
    out = logsumexp(values, axis=(1,))
    np.testing.assert_allclose(out, [-1000 + np.log(2), 1000 + np.log1p(np.exp(-1.0))])


@pytest.mark.parametrize("shape", [(3, 4, 2, 5), (1, 6, 1, 3), (7,), (2, 1, 8, 2, 3)])
def test_axis_sum_equals_numpy_sum_for_every_axis_subset(shape):
    import itertools

    from dpsynth_core.pgm.axis_sum import AxisSum

    values = np.random.default_rng(0).random(shape)
    for r in range(len(shape) + 1):
        for axes in itertools.combinations(range(len(shape)), r):
            np.testing.assert_allclose(AxisSum(shape, axes)(values), values.sum(axis=axes, keepdims=True), rtol=1e-12)
