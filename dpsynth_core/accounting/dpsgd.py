"""DP-SGD accounting: a small wrapper over Opacus's RDP and PRV accountants with one interface.

DP-SGD composes `steps` Poisson-subsampled Gaussian mechanisms (sample rate q, noise multiplier sigma, clipping norm C;
per-coordinate noise std = sigma * C). Its privacy is tracked here in (epsilon, delta) with an Opacus accountant, on the
share of the release budget the caller gives to training; preprocessing is charged separately in zCDP (see
docs/ARCHITECTURE.md).

Assumptions the guarantees rest on (each enforced by the training loop, not here):
- every step samples each row independently with probability `sample_rate` (Poisson sampling);
- `sample_rate` = batch_size / N where N is public or DP-estimated, never the private row count;
- each row's contribution to a step is clipped to L2 norm C (add/remove-one-row adjacency).
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import numpy as np
from opacus.accountants import create_accountant
from opacus.accountants.analysis import rdp as rdp_analysis
from opacus.accountants.utils import MAX_SIGMA

from dpsynth_core.errors import ConfigError

ACCOUNTANTS = ("rdp", "prv")

# Opacus's default RDP orders stop at 63; small epsilons over many steps want larger orders. We extend the grid and
# refuse a result whose optimal order sits at the grid's edge (dp-correctness.md, failure 7).
RDP_ORDERS: tuple[float, ...] = tuple(
    [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)) + list(range(64, 257, 8)) + [384, 512, 768, 1024]
)
PRV_EPSILON_ERROR = 0.01


def check_accountant(name: str) -> str:
    """Return `name` if it is a supported accountant, else raise ConfigError naming the choices."""
    if name not in ACCOUNTANTS:
        raise ConfigError(f"Unknown DP-SGD accountant {name!r}.", fix=f"Use one of {', '.join(ACCOUNTANTS)}.")
    return name


@functools.lru_cache(maxsize=4096)
def _rdp_curve(sample_rate: float, noise_multiplier: float) -> tuple[float, ...]:
    """RDP of ONE Poisson-subsampled Gaussian step at every order of RDP_ORDERS (cached: steps just multiply it)."""
    return tuple(rdp_analysis.compute_rdp(q=sample_rate, noise_multiplier=noise_multiplier, steps=1,
                                          orders=list(RDP_ORDERS)).tolist())


def _rdp_spent(accountant, delta: float) -> tuple[float, float]:
    """(epsilon, optimal order) of an RDP accountant's history over RDP_ORDERS.

    The same computation as `RDPAccountant.get_privacy_spent` (RDP adds up over steps and history entries), with the
    per-step curve cached. Opacus's 'largest alpha' warning is replaced by `order_at_edge`.
    """
    rdp = np.zeros(len(RDP_ORDERS))
    for noise_multiplier, sample_rate, steps in accountant.history:
        rdp += steps * np.asarray(_rdp_curve(float(sample_rate), float(noise_multiplier)))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        epsilon, best_order = rdp_analysis.get_privacy_spent(orders=list(RDP_ORDERS), rdp=rdp, delta=delta)
    return max(float(epsilon), 0.0), float(best_order)


def _epsilon_of(accountant, delta: float) -> float:
    """Epsilon of an Opacus accountant's history at `delta` (an upper bound; never negative).

    An RDP optimum at the largest order of the grid still gives a valid upper bound, only a loose one; reports flag it
    through `DpSgdAccountant.order_at_edge`.
    """
    if accountant.mechanism() == "rdp":
        return _rdp_spent(accountant, delta)[0]
    return max(float(accountant.get_epsilon(delta=delta, eps_error=PRV_EPSILON_ERROR)), 0.0)


def epsilon_for(*, noise_multiplier: float, sample_rate: float, steps: int, delta: float,
                accountant: str = "rdp") -> float:
    """Epsilon (at `delta`) of `steps` Poisson-subsampled Gaussian steps; 0 for no steps or q = 0; inf for sigma 0."""
    check_accountant(accountant)
    if steps <= 0 or sample_rate <= 0:
        return 0.0
    if noise_multiplier <= 0:
        return math.inf
    opacus_accountant = create_accountant(mechanism=accountant)
    opacus_accountant.history = [(float(noise_multiplier), float(sample_rate), int(steps))]
    return _epsilon_of(opacus_accountant, delta)


@dataclass(frozen=True)
class DpSgdPlan:
    """The calibrated DP-SGD schedule: `steps` steps at `sample_rate` with `noise_multiplier` (sigma).

    `planned_epsilon` is the accountant's epsilon at `delta` after all steps; it never exceeds `target_epsilon`.
    """

    accountant: str
    sample_rate: float
    steps: int
    noise_multiplier: float
    target_epsilon: float
    delta: float
    planned_epsilon: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@functools.lru_cache(maxsize=256)
def calibrate_noise_multiplier(*, target_epsilon: float, delta: float, sample_rate: float, steps: int,
                               accountant: str = "rdp", tolerance: float = 0.01) -> DpSgdPlan:
    """Smallest noise multiplier (to `tolerance` in epsilon) whose epsilon after `steps` is <= `target_epsilon`.

    A bisection like `opacus.accountants.utils.get_noise_multiplier` (same bracket and MAX_SIGMA), but using this
    module's accountant settings (extended RDP orders, PRV error) so calibration and reporting agree exactly.
    Raises ConfigError when no sigma <= MAX_SIGMA reaches the target (the epsilon is unreachable for this schedule).
    """
    check_accountant(accountant)
    if not (target_epsilon > 0 and math.isfinite(target_epsilon)):
        raise ConfigError(f"DP-SGD epsilon must be a positive finite number, got {target_epsilon!r}.",
                          fix="Give the deep generator a positive share of epsilon.")
    if not (0 < delta < 1):
        raise ConfigError(f"DP-SGD delta must be in (0, 1), got {delta!r}.",
                          fix="Set delta well below 1/N (e.g. 1e-6).")
    if not (0 < sample_rate <= 1) or steps < 1:
        raise ConfigError(f"DP-SGD needs 0 < sample_rate <= 1 and steps >= 1 (got q={sample_rate}, steps={steps}).",
                          fix="Use a positive batch size no larger than the table and at least one epoch.")

    def eps(sigma: float) -> float:
        return epsilon_for(noise_multiplier=sigma, sample_rate=sample_rate, steps=steps, delta=delta,
                           accountant=accountant)

    low, high, eps_high = 0.0, 10.0, eps(10.0)
    while eps_high > target_epsilon:
        low, high = high, 2 * high
        if high > MAX_SIGMA:
            raise ConfigError(
                f"epsilon={target_epsilon:g} is unreachable for DP-SGD with {steps} steps at sample rate "
                f"{sample_rate:.4g} (delta={delta:g}): no noise multiplier <= {MAX_SIGMA:g} suffices.",
                fix="Increase epsilon, or train fewer epochs / use a smaller batch (see `dpsynth recommend-config`).")
        eps_high = eps(high)
    while target_epsilon - eps_high > tolerance:
        middle = (low + high) / 2
        eps_middle = eps(middle)
        if eps_middle < target_epsilon:
            high, eps_high = middle, eps_middle
        else:
            low = middle
    return DpSgdPlan(accountant=accountant, sample_rate=float(sample_rate), steps=int(steps),
                     noise_multiplier=float(high), target_epsilon=float(target_epsilon), delta=float(delta),
                     planned_epsilon=float(eps_high))


class DpSgdAccountant:
    """Tracks the steps a DPOptimizer really took and reports the epsilon spent so far.

    Wraps an Opacus accountant. Attach with `optimizer.attach_step_hook(tracker.step_hook(sample_rate))`; the hook
    fires on every optimizer step that added noise (Opacus skips it for accumulation-only calls). Opacus merges
    consecutive identical (sigma, q) steps into one history entry, so `len(opacus.history)` counts distinct
    (sigma, q) segments and `steps` (the sum of their step counts) equals the number of optimizer steps.
    """

    def __init__(self, accountant: str = "rdp", opacus_accountant=None):
        self.name = check_accountant(accountant)
        self.opacus = opacus_accountant if opacus_accountant is not None else create_accountant(mechanism=accountant)
        if self.opacus.mechanism() != self.name:
            raise ConfigError(f"Accountant mismatch: {self.opacus.mechanism()!r} is not {self.name!r}.")

    def step_hook(self, sample_rate: float):
        """The optimizer step hook charging one step at `sample_rate` (must be the public/DP rate, never n/len(df))."""
        return self.opacus.get_optimizer_hook_fn(sample_rate=sample_rate)

    @property
    def steps(self) -> int:
        return int(sum(entry[2] for entry in self.opacus.history))

    def epsilon(self, delta: float) -> float:
        """Epsilon spent so far at `delta` (0 before the first step)."""
        if not self.opacus.history:
            return 0.0
        return _epsilon_of(self.opacus, delta)

    def order_at_edge(self, delta: float) -> bool:
        """True when the RDP conversion's optimal order is the largest in the grid (the bound may be loose)."""
        if self.name != "rdp" or not self.opacus.history:
            return False
        return _rdp_spent(self.opacus, delta)[1] >= RDP_ORDERS[-1]

    def epsilon_other(self, delta: float) -> float | None:
        """The same history under the other accountant (for the report); None when that accountant fails."""
        other = "prv" if self.name == "rdp" else "rdp"
        replay = create_accountant(mechanism=other)
        replay.history = list(self.opacus.history)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return _epsilon_of(replay, delta) if replay.history else 0.0
        except (ConfigError, ValueError, OverflowError, RuntimeError):
            return None
