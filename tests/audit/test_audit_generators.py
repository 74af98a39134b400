"""Every generator, audited end to end through `synthesize_table` at CI size: no violation of its claimed epsilon.

Each threshold audit runs on D and D + {canary} (the only row in its `region` cell) with claimed epsilon 1, below the
ceiling a perfect attack reaches with the runs used, so the test can fail; the DP-SGD generators get a one-run audit
with many canaries in one training run. Full size: `make audit` (docs/privacy_audit.md).
"""

from __future__ import annotations

import pytest
from audit_plan import one_run_scenarios, real_scenarios

from dpsynth_core.audit.harness import audit_one_run, audit_scenario

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.mark.parametrize("scenario", real_scenarios("ci"), ids=lambda s: s.name)
def test_generator_audit_finds_no_violation(scenario):
    result = audit_scenario(scenario)
    summary = result.summary()
    if result.mu is None:
        assert result.epsilon.ceiling > scenario.epsilon, "this audit could not have failed"
        assert not result.epsilon_flagged, summary
    else:
        # the white-box score moves by exactly the noise the charges claim: not more (privacy), not much less
        # (otherwise the score would not be tracking the measurements and a mutation could hide)
        assert not result.mu_flagged, summary
        assert abs(result.mu.z) < 4, summary


@pytest.mark.parametrize("scenario", one_run_scenarios("ci"), ids=lambda s: s.name)
def test_dp_sgd_one_run_audit_finds_no_violation(scenario):
    result = audit_one_run(scenario)
    assert result.audit.ceiling > scenario.epsilon, "this audit could not have failed"
    assert {a.score for a in result.audits} >= {"bb_tag", "wb_tag"}
    assert not result.flagged, result.summary()


def test_every_fit_draws_fresh_noise():
    """Runs are independent: two fits on the same table release different noisy measurements (no repeated seed)."""
    from audit_plan import CHEAP

    from dpsynth_core.audit.harness import Scenario, fit_once

    scenario = Scenario("noise", "copula", 1.0, 1, CHEAP["copula"], synthetic_rows=10)
    table = scenario.table()
    first, second = (fit_once(scenario, table, canary=False)[1].measurements for _ in range(2))
    assert len(first) == len(second) > 0
    assert any((a.noisy != b.noisy).any() for a, b in zip(first, second, strict=True))
