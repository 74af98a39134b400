"""DP-SGD really clips and adds noise at the calibrated scale (not an epsilon computed afterwards)."""

import warnings

import numpy as np
import pytest
import torch

from dpsynth_core.accounting.dpsgd import DpSgdPlan, calibrate_noise_multiplier
from dpsynth_core.errors import ConfigError
from dpsynth_core.generators.deep.training import make_private_trainer

CPU = torch.device("cpu")


def _trainer(model, sigma, *, clip=1.0, batch=10, q=0.1, seed=0, lr=1.0):
    plan = DpSgdPlan("rdp", q, 1000, sigma, 1.0, 1e-5, 0.0)
    return make_private_trainer(model, torch.optim.SGD(model.parameters(), lr=lr), plan=plan, max_grad_norm=clip,
                                expected_batch_size=batch, secure_mode=False, noise_seed=seed, device=CPU)


def test_update_with_zero_gradients_is_gaussian_with_std_sigma_c_over_b():
    torch.manual_seed(0)
    model = torch.nn.Linear(100, 100)   # 10,100 parameters -> a tight estimate of the noise std
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    sigma, clip, batch = 1.3, 0.7, 25
    trainer = _trainer(model, sigma, clip=clip, batch=batch)
    trainer.optimizer.zero_grad(set_to_none=True)
    (trainer.module(torch.randn(20, 100)) * 0.0).sum().backward()   # every per-row gradient is exactly zero
    trainer.optimizer.step()
    update = torch.cat([p.detach().flatten() for p in model.parameters()]) - before
    expected = sigma * clip / batch     # SGD lr 1: update = -(0 + N(0, (sigma C)^2)) / B
    assert update.mean().abs().item() < 4 * expected / np.sqrt(update.numel())
    assert update.std().item() == pytest.approx(expected, rel=0.05)


def test_one_row_influence_is_clipped_to_c():
    model = torch.nn.Linear(5, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    trainer = _trainer(model, 0.0, clip=0.5, batch=4)
    trainer.optimizer.zero_grad(set_to_none=True)
    (trainer.module(torch.full((1, 5), 1e6))).sum().backward()   # a huge-gradient row
    trainer.optimizer.step()
    assert model.weight.detach().norm().item() == pytest.approx(0.5 / 4, rel=1e-4)  # lr 1 * C / B


def test_tiny_epsilon_model_differs_from_noiseless_model_by_the_noise():
    data = torch.randn(400, 8)
    target = data @ torch.arange(8.0)

    def train(sigma):
        torch.manual_seed(1)
        model = torch.nn.Linear(8, 1)
        trainer = _trainer(model, sigma, clip=1.0, batch=40, q=0.1, seed=3, lr=0.05)
        for _ in range(30):
            index = trainer.poisson_indices(len(data))
            trainer.optimizer.zero_grad(set_to_none=True)
            ((trainer.module(data[index]).squeeze(1) - target[index]) ** 2).sum().backward()
            trainer.optimizer.step()
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    sigma = calibrate_noise_multiplier(target_epsilon=0.05, delta=1e-6, sample_rate=0.1, steps=30).noise_multiplier
    noisy, clean = train(sigma), train(0.0)
    # 30 steps of N(0, (sigma C / B)^2) per coordinate, lr 0.05: expected drift ~ lr * sigma / B * sqrt(30) per coord
    drift_scale = 0.05 * sigma / 40 * np.sqrt(30)
    assert (noisy - clean).abs().mean().item() > 0.3 * drift_scale
    assert sigma > 10


def test_poisson_batches_use_the_given_rate_not_the_table_size():
    model = torch.nn.Linear(2, 1)
    trainer = _trainer(model, 1.0, q=0.05)
    sizes = np.array([len(trainer.poisson_indices(2000)) for _ in range(400)])
    assert sizes.mean() == pytest.approx(100, rel=0.03)              # q * n
    assert sizes.var() == pytest.approx(2000 * 0.05 * 0.95, rel=0.25)  # binomial, not a fixed batch
    assert len(set(sizes.tolist())) > 10


def test_secure_rng_warning_is_not_silenced():
    model = torch.nn.Linear(2, 1)
    with pytest.warns(UserWarning, match="Secure RNG turned off"):
        _trainer(model, 1.0)


def test_secure_mode_without_torchcsprng_is_a_clear_error():
    pytest.importorskip("opacus")
    try:
        import torchcsprng  # noqa: F401
        pytest.skip("torchcsprng installed")
    except ImportError:
        pass
    model = torch.nn.Linear(2, 1)
    plan = DpSgdPlan("rdp", 0.1, 10, 1.0, 1.0, 1e-5, 0.0)
    with warnings.catch_warnings(), pytest.raises(ConfigError, match="torchcsprng"):
        make_private_trainer(model, torch.optim.SGD(model.parameters(), lr=1.0), plan=plan, max_grad_norm=1.0,
                             expected_batch_size=5, secure_mode=True, noise_seed=None, device=CPU)


def test_noise_seed_reproduces_and_changes_the_noise():
    def one_step(seed):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 4)
        trainer = _trainer(model, 1.0, seed=seed)
        trainer.optimizer.zero_grad(set_to_none=True)
        trainer.module(torch.randn(3, 4)).sum().backward()
        trainer.optimizer.step()
        return model.weight.detach().clone()

    assert torch.equal(one_step(5), one_step(5))
    assert not torch.equal(one_step(5), one_step(6))
