"""Progress events from code that has no `GeneratorContext` (the evaluation): a callback set for the current context.

    with reporting(callback):      # e.g. the dbt glue's logger, the CLI's progress line
        evaluate(...)              # calls report("evaluate", stage=...) at each stage

`callback(event, info)` has the signature of `GeneratorContext.progress`. Nothing is reported when no callback is set.
A context variable, so parallel dbt models (threads) each see their own callback. Events carry stage names and
public counts only, never a metric value computed on raw rows.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator

ProgressCallback = Callable[[str, dict], None]
_CURRENT: ContextVar[ProgressCallback | None] = ContextVar("dpsynth_progress", default=None)


@contextmanager
def reporting(callback: ProgressCallback | None) -> Iterator[None]:
    """Send `report(...)` events of this context to `callback` while the block runs."""
    token = _CURRENT.set(callback)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def report(event: str, **info: Any) -> None:
    callback = _CURRENT.get()
    if callback is not None:
        callback(event, info)
