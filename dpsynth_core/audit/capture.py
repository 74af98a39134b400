"""White-box capture: record what each `PrivateTable` mechanism released and what it was charged, during a fit.

`capture_private_reads()` wraps `PrivateTable.measure`, `select_worst_approximated` and `discover_categories` for the
duration of a `with` block. The wrappers call the current implementation unchanged and only copy its output and the
budget's spend before/after, so the charge recorded is what the ledger would show, whatever the mechanism did.
For audits only: the records hold noisy outputs, which are DP releases, and never raw data.
"""

from __future__ import annotations

import contextlib
import inspect
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from ..measurement.private_table import PrivateTable


@dataclass(frozen=True)
class MeasurementRecord:
    step: str
    binnings: tuple
    noisy: np.ndarray
    rho: float            # charged by this call


@dataclass(frozen=True)
class SelectionRecord:
    step: str
    epsilon: float        # the mechanism's parameter (what it actually ran with)
    rho: float            # charged by this call
    chosen: int
    candidates: int


@dataclass(frozen=True)
class DiscoveryRecord:
    step: str
    column: str
    released: tuple
    rho: float


@dataclass
class Capture:
    measurements: list[MeasurementRecord] = field(default_factory=list)
    selections: list[SelectionRecord] = field(default_factory=list)
    discoveries: list[DiscoveryRecord] = field(default_factory=list)


def _arguments(method, self, args, kwargs) -> dict:
    bound = inspect.signature(method).bind(self, *args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


@contextlib.contextmanager
def capture_private_reads() -> Iterator[Capture]:
    """Record every measurement, selection and discovery made through `PrivateTable` inside the block."""
    capture = Capture()
    originals = {name: getattr(PrivateTable, name)
                 for name in ("measure", "select_worst_approximated", "discover_categories")}

    def measure(self, *args, **kwargs):
        spent = self.budget.spent
        noisy = originals["measure"](self, *args, **kwargs)
        a = _arguments(originals["measure"], self, args, kwargs)
        capture.measurements.append(MeasurementRecord(str(a.get("step", "")), tuple(a["binnings"]),
                                                      np.array(noisy, copy=True), self.budget.spent - spent))
        return noisy

    def select(self, *args, **kwargs):
        spent = self.budget.spent
        chosen = originals["select_worst_approximated"](self, *args, **kwargs)
        a = _arguments(originals["select_worst_approximated"], self, args, kwargs)
        capture.selections.append(SelectionRecord(str(a.get("step", "")), float(a["epsilon"]),
                                                  self.budget.spent - spent, int(chosen), len(a["candidates"])))
        return chosen

    def discover(self, *args, **kwargs):
        spent = self.budget.spent
        released = originals["discover_categories"](self, *args, **kwargs)
        a = _arguments(originals["discover_categories"], self, args, kwargs)
        capture.discoveries.append(DiscoveryRecord(str(a.get("step", "")), str(a["column"]), tuple(released),
                                                   self.budget.spent - spent))
        return released

    PrivateTable.measure = measure
    PrivateTable.select_worst_approximated = select
    PrivateTable.discover_categories = discover
    try:
        yield capture
    finally:
        for name, method in originals.items():
            setattr(PrivateTable, name, method)
