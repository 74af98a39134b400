"""Validation before any data is read: thresholds fire exactly at their limits; recommendations validate."""

import pytest

from dpsynth_core.accounting.plan import BudgetPlan, default_delta
from dpsynth_core.errors import ConfigError
from dpsynth_core.generators.deep.config import DeepConfig
from dpsynth_core.generators.deep.ctgan import DPCTGAN
from dpsynth_core.generators.deep.validation import (
    GOALS,
    STEPS_WARN,
    deep_plan,
    planned_steps,
    recommend_deep_config,
    validate_deep_config,
)

from deep_fixtures import deep_generator


def _validate(config, generator, epsilon, delta, rows, **kw):
    return validate_deep_config(config, generator=generator, plan=deep_plan(config, epsilon, delta), rows=rows, **kw)


def _check(rows, batch, epochs=1, epsilon=5.0, delta=1e-7, **extra):
    return _validate(DeepConfig(batch_size=batch, epochs=epochs, **extra), "dp-ctgan", epsilon, delta, rows,
                     recommend=False)


def _mentions(messages, text):
    return any(text in m for m in messages)


def test_sampling_rate_thresholds_fire_exactly_at_their_limits():
    assert not _mentions(_check(1000, 100).warnings, "Sampling rate")        # q = 10%: fine
    assert _mentions(_check(1000, 101).warnings, "Sampling rate")            # q = 10.1%: warning
    at_error_limit = _check(1000, 200)                                        # q = 20%: warning, no error
    assert at_error_limit.ok and _mentions(at_error_limit.warnings, "Sampling rate")
    over = _check(1000, 201)                                                  # q = 20.1%: error
    assert not over.ok and _mentions(over.errors, "exceeds 20%")


def test_steps_threshold_fires_above_1000():
    assert planned_steps(10, 10 / 1000) == STEPS_WARN
    assert not _mentions(_check(1000, 10, epochs=10).warnings, "planned DP-SGD steps")   # exactly 1000
    assert planned_steps(10, 10 / 1001) == 1001
    assert _mentions(_check(1001, 10, epochs=10).warnings, "planned DP-SGD steps")


def test_batch_larger_than_table_is_an_error():
    report = _check(50, 51)
    assert _mentions(report.errors, "larger than the table")


def test_unreachable_epsilon_is_an_error_with_a_recommendation():
    report = _validate(DeepConfig(batch_size=10, epochs=50), "dp-tvae", 0.01, 1e-7, 1000)
    assert not report.ok and _mentions(report.errors, "epsilon unreachable")
    assert report.recommended is not None
    with pytest.raises(ConfigError, match="Recommended configuration"):
        report.raise_if_errors("toy")


def test_noise_cap_error_names_the_multiplier():
    report = _check(1000, 10, epochs=20, epsilon=0.5, max_noise_multiplier=2.0)
    assert _mentions(report.errors, "max_noise_multiplier=2")


def test_weak_delta_warns():
    assert _mentions(_check(1000, 50, delta=1e-3).warnings, "delta")
    assert not _mentions(_check(1000, 50, delta=default_delta(1000)).warnings, "delta=")


@pytest.mark.parametrize("goal", GOALS)
def test_recommendations_validate_cleanly(goal):
    out = recommend_deep_config(goal=goal, generator="dp-ctgan", rows=26217, epsilon=1.0)
    config = DeepConfig.from_dict(out["config"])
    report = _validate(config, "dp-ctgan", 1.0, default_delta(26217), 26217)
    assert report.ok and not report.warnings
    assert report.derived["steps"] <= STEPS_WARN and report.derived["sample_rate"] <= 0.10
    assert report.derived["planned_sgd_epsilon"] <= deep_plan(config, 1.0, default_delta(26217)).epsilon_sgd


def test_unknown_option_and_packing_rejected():
    with pytest.raises(ConfigError, match="(?i)unknown deep-generator setting"):
        DeepConfig.from_dict({"epoch": 3})
    with pytest.raises(ConfigError, match="pac=1"):
        DeepConfig.from_dict({"pac": 2})


def test_generator_validates_before_reading_any_data():
    # With a declared row count the generator refuses a bad config at construction: no PrivateTable exists yet.
    with pytest.raises(ConfigError, match="exceeds 20%"):
        deep_generator(DPCTGAN, sgd=(1.0, 1e-7), max_rows=100, batch_size=50)
    with pytest.raises(ConfigError, match="sgd_epsilon"):
        DPCTGAN().check_before_read(BudgetPlan.for_release(1.0, 1e-7, domain_share=0.5))   # no DP-SGD share
