"""What the audit runs, at CI size and at full size: the real generators, and each mutation with the audits that must
flag it. Shared by the pytest tests (size "ci") and `make audit` (tests/audit/full_audit.py, size "full").

Settings are chosen so that each check can fail: the claimed epsilon of every threshold audit sits below the ceiling a
perfect attack reaches with its runs, and every mutation is flagged with high probability (figures in
docs/privacy_audit.md). Generator options only change run time (privacy does not depend on them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dpsynth_core.audit.harness import OneRunScenario, Scenario

DEEP_OPTIONS = {"epochs": 2, "batch_size": 100, "device": "cpu", "cpu_threads": 1}
# The mu audit compares the measured noise with the charged noise; a larger epsilon means larger mu per run and more
# standard errors between "as charged" and "half the noise": at 16, 50 runs per world put them ~6 SE apart (MST).
MU_EPSILON = 16.0
CHEAP = {"mst": {"iters": 50}, "aim": {"iters": 30, "final_iters": 100}, "copula": {}}


def _runs(size: str, ci: int, full: int) -> int:
    return ci if size == "ci" else full


def real_scenarios(size: str) -> list[Scenario]:
    """The real generators at claimed epsilon 1 (plus the two controls of the mutation checks)."""
    n = _runs(size, 50, 500)
    options = CHEAP if size == "ci" else {"mst": {}, "aim": {"iters": 30, "final_iters": 100}, "copula": {}}
    runs = {"mst": n, "aim": _runs(size, 30, 500), "copula": _runs(size, 30, 500)}
    return [Scenario(g, g, 1.0, runs[g], options[g]) for g in ("mst", "aim", "copula")] + controls(size)


def controls(size: str) -> list[Scenario]:
    """Real-code twins of the mutation scenarios (same audit, same settings): these must pass."""
    return [
        Scenario("copula-discovered", "copula", 1.0, _runs(size, 30, 500), discovered=True),
        Scenario("copula-holdout", "copula", 1.0, _runs(size, 120, 500), holdout=0.3, table_rows=2000),
        Scenario("mst-mu", "mst", MU_EPSILON, _runs(size, 50, 500), CHEAP["mst"], mu_audit=True,
                 scores=("wb_llr",), synthetic_rows=100),
    ]


def one_run_scenarios(size: str) -> list[OneRunScenario]:
    m, guesses, base = (300, 100, 600) if size == "ci" else (2000, 400, 2000)
    epochs = {"epochs": 1} if size == "ci" else {"epochs": 5}
    return [OneRunScenario(g, g, 1.0, m, guesses, base, DEEP_OPTIONS | epochs) for g in ("dp-tvae", "dp-ctgan")]


@dataclass(frozen=True)
class MutationCheck:
    """A mutation, the generator scenarios run under it, the mechanism audit run under it, and which must flag."""

    mutation: str
    scenarios: tuple[Scenario, ...] = ()
    one_run: tuple[OneRunScenario, ...] = ()
    mechanism: str | None = None          # "measure" | "selection" | "discovery"
    must_flag: tuple[str, ...] = field(default_factory=tuple)   # names of scenarios / "mechanism" that must flag


def mutation_checks(size: str) -> list[MutationCheck]:
    ci = size == "ci"
    n = _runs(size, 40, 200)
    gens = ("copula",) if ci else ("mst", "aim", "copula")

    def per_gen(prefix: str, runs: int = n, **settings) -> tuple[Scenario, ...]:
        return tuple(Scenario(f"{prefix}-{g}", g, 1.0, runs, CHEAP[g], **settings) for g in gens)

    zero = per_gen("zero_noise")
    domain = per_gen("domain_from_data", discovered=True, runs=_runs(size, 30, 200))
    seed = (Scenario("seed_split-copula", "copula", 1.0, _runs(size, 120, 200), holdout=0.3, table_rows=2000),)
    half = tuple(Scenario(f"half_sensitivity-{g}", g, MU_EPSILON, _runs(size, 60, 200), CHEAP[g], mu_audit=True,
                          scores=("wb_llr",), synthetic_rows=100) for g in (("mst",) if ci else gens))
    uncharged = () if ci else tuple(Scenario(f"uncharged_selection-{g}", g, 1.0, 200, CHEAP[g], mu_audit=True)
                                    for g in ("mst", "aim"))
    deep = ("dp-ctgan",) if ci else ("dp-ctgan", "dp-tvae")
    m, guesses, base = (300, 100, 600) if ci else (2000, 400, 2000)
    zero_one_run = tuple(OneRunScenario(f"zero_noise-{g}", g, 1.0, m, guesses, base, DEEP_OPTIONS | {"epochs": 1})
                         for g in deep)
    return [
        MutationCheck("zero_noise", zero, zero_one_run, "measure",
                      tuple(s.name for s in zero + zero_one_run) + ("mechanism",)),
        MutationCheck("half_sensitivity", half, (), "measure", tuple(s.name for s in half) + ("mechanism",)),
        MutationCheck("uncharged_selection", uncharged, (), "selection", ("mechanism",)),
        MutationCheck("domain_from_data", domain, (), "discovery", tuple(s.name for s in domain) + ("mechanism",)),
        MutationCheck("seed_split", seed, (), None, tuple(s.name for s in seed)),
    ]
