"""Each PrivateTable mechanism leaks no more than its own budget charge stands for (cheap: no generator fit)."""

from __future__ import annotations

from dpsynth_core.audit.mechanisms import audit_discovery, audit_measure, audit_selection


def test_measure_applies_the_noise_it_charges():
    audit = audit_measure()
    assert not audit.flagged, audit.summary()
    assert abs(audit.detail.z) < 4, audit.detail.to_dict()      # mu_hat matches the claim: noise as charged


def test_selection_leaks_less_than_the_epsilon_it_charges():
    audit = audit_selection()
    assert audit.detail.ceiling > audit.claimed, "this audit could not have failed"
    assert 0 < audit.measured <= audit.claimed, audit.summary()      # the canary moves the choice, within epsilon


def test_discovery_does_not_release_a_value_held_by_one_row():
    audit = audit_discovery()
    assert audit.detail.ceiling > audit.claimed, "this audit could not have failed"
    assert not audit.flagged and audit.detail.tpr == 0, audit.summary()
