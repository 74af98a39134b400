"""Deliberately broken variants of the DP machinery, each a context manager, for the audit's mutation tests.

Every mutation monkeypatches one stable seam only, so re-pointing after a refactor means editing this file alone:
- module-level names inside `dpsynth_core.measurement.private_table` (looked up at call time by `PrivateTable`):
  `discrete_gaussian`, `exponential_rho`, `threshold_for`;
- `dpsynth_core.measurement.holdout.split_holdout` (and every dpsynth_core module that imported that function by name).
An audit that cannot flag these proves nothing (tests/audit/test_audit_mutations.py).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

import numpy as np

from dpsynth_core.audit.harness import PUBLIC_SEED
from dpsynth_core.measurement import holdout as holdout_module
from dpsynth_core.measurement import private_table

_ORIGINAL = {name: getattr(private_table, name) for name in ("discrete_gaussian", "exponential_rho", "threshold_for")}
_ORIGINAL_SPLIT = holdout_module.split_holdout


@contextlib.contextmanager
def _patched(module, name: str, value) -> Iterator[None]:
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


@contextlib.contextmanager
def zero_noise() -> Iterator[None]:
    """Counts released exactly: the discrete Gaussian returns zeros (the charge is unchanged)."""
    def no_noise(shape, sigma, rng):
        return np.zeros(shape, dtype=np.int64)
    with _patched(private_table, "discrete_gaussian", no_noise):
        yield


@contextlib.contextmanager
def half_sensitivity() -> Iterator[None]:
    """Noise std sigma/2 while the full rho = 1/(2 sigma^2) is charged (a sensitivity taken as 1/2 instead of 1)."""
    original = _ORIGINAL["discrete_gaussian"]

    def half(shape, sigma, rng):
        return original(shape, sigma / 2, rng)
    with _patched(private_table, "discrete_gaussian", half):
        yield


@contextlib.contextmanager
def uncharged_selection() -> Iterator[None]:
    """The exponential mechanism charges nothing while it runs with its epsilon (a generator that sizes later steps by
    what was charged, like AIM's rounds, then spends more than the release claims)."""
    with _patched(private_table, "exponential_rho", lambda epsilon: 0.0):
        yield


@contextlib.contextmanager
def domain_from_data() -> Iterator[None]:
    """Category discovery without its threshold: every value present in the data is released (the canary's too)."""
    original = private_table.threshold_for
    modules = [m for name, m in list(sys.modules.items())
               if name.startswith("dpsynth_core") and getattr(m, "threshold_for", None) is original]
    with contextlib.ExitStack() as stack:
        for module in modules:     # every module that imported it (the resolver picks thresholds too)
            stack.enter_context(_patched(module, "threshold_for", lambda sigma, delta_threshold, *unit: -(2 ** 62)))
        yield


def positional_split(seed: int) -> Callable:
    """The old holdout split: `default_rng(seed)` draws one uniform per row BY POSITION, so one row inserted early
    moves every later row between train and holdout."""
    from dpsynth_core.measurement.pandas_engine import PandasEngine

    def split(engine, fraction: float, unit=None):
        frame = getattr(engine, "frame", None)
        if frame is None:
            frame = engine.fetch_rows([c.name for c in engine.schema()])
        held = np.random.default_rng(seed).random(len(frame)) < fraction
        return (PandasEngine(frame.loc[~held].reset_index(drop=True), engine.relation_name),
                PandasEngine(frame.loc[held].reset_index(drop=True), engine.relation_name + " (holdout)"))
    return split


@contextlib.contextmanager
def seed_split(seed: int = PUBLIC_SEED) -> Iterator[None]:
    """The holdout split driven by the public `seed` (default: the seed the audit configs publish)."""
    replacement = positional_split(seed)
    modules = [m for name, m in list(sys.modules.items())
               if name.startswith("dpsynth_core") and getattr(m, "split_holdout", None) is _ORIGINAL_SPLIT]
    with contextlib.ExitStack() as stack:
        for module in modules:
            stack.enter_context(_patched(module, "split_holdout", replacement))
        yield


MUTATIONS: dict[str, Callable[[], contextlib.AbstractContextManager]] = {
    "zero_noise": zero_noise,
    "half_sensitivity": half_sensitivity,
    "uncharged_selection": uncharged_selection,
    "domain_from_data": domain_from_data,
    "seed_split": seed_split,
}


@contextlib.contextmanager
def mutation(name: str | None) -> Iterator[None]:
    """The named mutation, or nothing for None (the real code)."""
    if name is None:
        yield
        return
    with MUTATIONS[name]():
        yield
