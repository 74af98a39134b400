"""DP-SGD accountant wrapper: golden values, calibration never overshoots, history counts optimizer steps."""

import math

import pytest
import torch
from opacus.accountants.utils import get_noise_multiplier

from dpsynth_core.accounting.dpsgd import DpSgdAccountant, DpSgdPlan, calibrate_noise_multiplier, epsilon_for
from dpsynth_core.errors import ConfigError
from dpsynth_core.generators.deep.training import make_private_trainer


def test_golden_values_match_opacus_tests():
    # Opacus's own accountant tests: sigma 1.5, q 0.04, 2250 steps, delta 1e-5.
    assert epsilon_for(noise_multiplier=1.5, sample_rate=0.04, steps=2250, delta=1e-5, accountant="rdp") == \
        pytest.approx(7.32911117143, abs=1e-6)
    assert epsilon_for(noise_multiplier=1.5, sample_rate=0.04, steps=2250, delta=1e-5, accountant="prv") == \
        pytest.approx(6.777395712, abs=0.02)


def test_degenerate_cases():
    assert epsilon_for(noise_multiplier=1.0, sample_rate=0.0, steps=10, delta=1e-5) == 0.0
    assert epsilon_for(noise_multiplier=1.0, sample_rate=0.1, steps=0, delta=1e-5) == 0.0
    assert epsilon_for(noise_multiplier=0.0, sample_rate=0.1, steps=10, delta=1e-5) == math.inf


def test_calibration_agrees_with_opacus_get_noise_multiplier():
    plan = calibrate_noise_multiplier(target_epsilon=8, delta=1e-5, sample_rate=0.04, steps=2250)
    assert plan.noise_multiplier == pytest.approx(1.416, abs=1e-3)
    assert plan.noise_multiplier == pytest.approx(
        get_noise_multiplier(target_epsilon=8, target_delta=1e-5, sample_rate=0.04, epochs=90), abs=1e-3)


@pytest.mark.parametrize("epsilon", [0.3, 1.0, 5.0])
@pytest.mark.parametrize("epochs,batch", [(1, 50), (5, 100), (20, 400)])
def test_achieved_epsilon_never_exceeds_target_rdp(epsilon, epochs, batch):
    rows = 4000
    q = batch / rows
    steps = math.ceil(epochs / q)
    plan = calibrate_noise_multiplier(target_epsilon=epsilon, delta=1e-6, sample_rate=q, steps=steps)
    achieved = epsilon_for(noise_multiplier=plan.noise_multiplier, sample_rate=q, steps=steps, delta=1e-6)
    assert achieved <= epsilon
    assert achieved == pytest.approx(plan.planned_epsilon)
    assert epsilon - achieved <= 0.01 + 1e-12          # calibrated, not just "large enough"
    # a slightly smaller sigma would overshoot: the calibration is tight
    assert epsilon_for(noise_multiplier=plan.noise_multiplier * 0.97, sample_rate=q, steps=steps,
                       delta=1e-6) > achieved


@pytest.mark.parametrize("epsilon,steps", [(1.0, 100), (3.0, 500)])
def test_achieved_epsilon_never_exceeds_target_prv(epsilon, steps):
    plan = calibrate_noise_multiplier(target_epsilon=epsilon, delta=1e-6, sample_rate=0.02, steps=steps,
                                      accountant="prv")
    assert plan.planned_epsilon <= epsilon
    assert epsilon_for(noise_multiplier=plan.noise_multiplier, sample_rate=0.02, steps=steps, delta=1e-6,
                       accountant="prv") <= epsilon


def test_unreachable_epsilon_is_a_config_error():
    with pytest.raises(ConfigError, match="unreachable"):
        calibrate_noise_multiplier(target_epsilon=1e-9, delta=1e-6, sample_rate=0.2, steps=100000)


def test_unknown_accountant_rejected():
    with pytest.raises(ConfigError, match="gdp"):
        calibrate_noise_multiplier(target_epsilon=1, delta=1e-6, sample_rate=0.1, steps=10, accountant="gdp")


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_history_counts_every_optimizer_step(accountant):
    model = torch.nn.Linear(3, 1)
    plan = DpSgdPlan(accountant, 0.1, 7, 1.2, 10.0, 1e-5, 0.0)
    trainer = make_private_trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), plan=plan, max_grad_norm=1.0,
                                   expected_batch_size=5, secure_mode=False, noise_seed=0,
                                   device=torch.device("cpu"))
    data = torch.randn(50, 3)
    for _ in range(7):
        index = trainer.poisson_indices(len(data))
        trainer.optimizer.zero_grad(set_to_none=True)
        trainer.module(data[index]).sum().backward()
        trainer.optimizer.step()
    # Opacus merges equal (sigma, q) steps into one history entry: one entry, 7 steps.
    assert len(trainer.accountant.opacus.history) == 1
    assert trainer.accountant.steps == 7
    assert trainer.epsilon_spent() == pytest.approx(
        epsilon_for(noise_multiplier=1.2, sample_rate=0.1, steps=7, delta=1e-5, accountant=accountant), rel=1e-6)
    # a step at another noise level opens a second segment
    trainer.optimizer.noise_multiplier = 2.0
    trainer.optimizer.zero_grad(set_to_none=True)
    trainer.module(data[:3]).sum().backward()
    trainer.optimizer.step()
    assert len(trainer.accountant.opacus.history) == 2
    assert trainer.accountant.steps == 8


def test_accountant_reports_other_accountant_and_zero_before_steps():
    tracker = DpSgdAccountant("rdp")
    assert tracker.epsilon(1e-5) == 0.0
    tracker.opacus.history = [(1.5, 0.04, 2250)]
    other = tracker.epsilon_other(1e-5)
    assert other is not None and other < tracker.epsilon(1e-5)   # PRV is tighter than RDP here
    assert not tracker.order_at_edge(1e-5)
