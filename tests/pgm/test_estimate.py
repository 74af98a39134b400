import numpy as np
import pytest

from dpsynth_core.pgm import Domain, Measurement, estimate, estimate_total

CYCLE = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "a")]


def exact_measurements(joint, cliques, sigma=1.0):
    return [Measurement(c, joint.project(c).values, sigma) for c in cliques]


@pytest.mark.parametrize("cliques", [CYCLE, [("a", "b", "c"), ("c", "d"), ("d", "e")], [("a",), ("b", "e")]])
def test_noise_free_marginals_are_recovered(joint, domain, cliques):
    model = estimate(domain, exact_measurements(joint, cliques), iters=500)
    assert model.total == pytest.approx(1000.0)
    for clique in cliques:
        truth = joint.project(clique).values
        np.testing.assert_allclose(model.project(clique).values, truth, rtol=1e-3, atol=1e-3 * truth.max())


def test_measurement_order_of_axes_is_respected(joint, domain):
    transposed = [Measurement(("e", "a"), joint.project(("e", "a")).values, 1.0)]
    model = estimate(domain, transposed, iters=300)
    np.testing.assert_allclose(model.project(("e", "a")).values, joint.project(("e", "a")).values, rtol=1e-3)


def test_loss_decreases_and_fit_improves_with_iterations(joint, domain):
    rng = np.random.default_rng(3)
    noisy = [Measurement(c, joint.project(c).values + rng.normal(0, 5.0, joint.project(c).values.shape), 5.0)
             for c in CYCLE]
    losses = []
    model = estimate(domain, noisy, total=1000.0, iters=200, callback=lambda i, loss: losses.append(loss))
    assert 1 <= len(losses) <= 200  # stops early once no step lowers the loss
    assert all(b <= a + 1e-9 * abs(a) for a, b in zip(losses, losses[1:], strict=False))
    # The true marginals are a feasible point, so the optimum's loss cannot be above theirs.
    loss_at_truth = sum((((joint.project(m.clique).values - m.noisy) / m.sigma) ** 2).sum() for m in noisy)
    assert losses[-1] <= loss_at_truth * (1 + 1e-6)
    # With equal sigmas the fit is the L2 projection of the measurements onto a convex set that
    # holds the truth, so it is closer to the truth than the measurements are.
    fit_error = sum(((model.project(m.clique).values - joint.project(m.clique).values) ** 2).sum() for m in noisy)
    noise_error = sum(((m.noisy - joint.project(m.clique).values) ** 2).sum() for m in noisy)
    assert fit_error < noise_error


def test_warm_start_continues_from_earlier_model(joint, domain):
    measurements = exact_measurements(joint, CYCLE)
    short = estimate(domain, measurements[:4], iters=100)
    cold = estimate(domain, measurements, iters=3)
    warm = estimate(domain, measurements, iters=3, warm_start=short)

    def loss(model):
        return sum(((model.project(m.clique).values - m.noisy) ** 2).sum() for m in measurements)

    assert loss(warm) < loss(cold)


def test_warm_start_must_fit_inside_new_cliques(joint, domain):
    earlier = estimate(domain, exact_measurements(joint, [("a", "b", "c")]), iters=5)
    with pytest.raises(ValueError, match="warm_start clique"):
        estimate(domain, exact_measurements(joint, [("a", "b")]), iters=5, warm_start=earlier)


def test_total_is_estimated_from_noisy_sums_by_inverse_variance():
    domain = Domain(("x", "y"), (2, 5))
    small = Measurement(("x",), np.array([60.0, 40.0]), 1.0)  # sum 100, variance 2
    large = Measurement(("y",), np.full(5, 40.0), 2.0)  # sum 200, variance 20
    expected = (100 / 2 + 200 / 20) / (1 / 2 + 1 / 20)
    assert estimate_total([small, large]) == pytest.approx(expected)
    assert estimate(domain, [small, large], iters=1).total == pytest.approx(expected)
    assert estimate_total([Measurement(("x",), np.array([-5.0, -3.0]), 1.0)]) == 1.0


def test_measurement_validation(domain):
    with pytest.raises(ValueError, match="sigma"):
        Measurement(("a",), np.zeros(3), 0.0)
    with pytest.raises(ValueError, match="shape"):
        estimate(domain, [Measurement(("a",), np.zeros(4), 1.0)])
    with pytest.raises(ValueError, match="at least one"):
        estimate(domain, [])
