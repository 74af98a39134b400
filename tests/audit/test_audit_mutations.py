"""Every deliberately broken variant (tests/audit/mutations.py) is flagged by the audit that targets it.

A harness that cannot catch these proves nothing. `audit_plan.mutation_checks` names, per mutation, the generator
scenarios and the mechanism audit that must flag it; the real-code twins of the same scenarios pass in
test_audit_generators.py / test_audit_mechanisms.py.
"""

from __future__ import annotations

import pytest
from audit_plan import mutation_checks
from mutations import _ORIGINAL, _ORIGINAL_SPLIT, MUTATIONS, mutation

import dpsynth_core.api
from dpsynth_core.audit.harness import audit_one_run, audit_scenario
from dpsynth_core.audit.mechanisms import audit_discovery, audit_measure, audit_selection
from dpsynth_core.measurement import holdout, private_table

pytestmark = pytest.mark.filterwarnings("ignore")
MECHANISM_AUDITS = {"measure": audit_measure, "selection": audit_selection, "discovery": audit_discovery}


def _targets():
    for check in mutation_checks("ci"):
        by_name = {s.name: s for s in check.scenarios + check.one_run}
        for target in check.must_flag:
            yield pytest.param(check, by_name.get(target), id=f"{check.mutation}:{target}")


@pytest.mark.parametrize("check, scenario", list(_targets()))
def test_mutation_is_flagged(check, scenario):
    with mutation(check.mutation):
        if scenario is None:
            result = MECHANISM_AUDITS[check.mechanism]()
            assert result.flagged, result.summary()
        elif hasattr(scenario, "canaries"):
            result = audit_one_run(scenario)
            assert result.flagged, result.summary()
        else:
            result = audit_scenario(scenario)
            assert result.flagged, result.summary()


def test_every_mutation_has_a_check_and_each_check_can_flag():
    checks = {c.mutation: c for c in mutation_checks("ci")}
    assert set(checks) == set(MUTATIONS)
    assert all(c.must_flag for c in checks.values())


def test_mutations_patch_the_live_seams_and_restore_them():
    for name in MUTATIONS:
        with mutation(name):
            patched = {n: getattr(private_table, n) for n in _ORIGINAL}
            if name == "seed_split":   # the function synthesize_table actually calls is replaced
                assert dpsynth_core.api.split_holdout is not _ORIGINAL_SPLIT
                assert holdout.split_holdout is not _ORIGINAL_SPLIT
            else:
                assert patched != _ORIGINAL
        assert {n: getattr(private_table, n) for n in _ORIGINAL} == _ORIGINAL
        assert dpsynth_core.api.split_holdout is _ORIGINAL_SPLIT and holdout.split_holdout is _ORIGINAL_SPLIT
