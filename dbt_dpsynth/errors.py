"""How a dbt-dpsynth error reaches the dbt console: one line, no Python traceback.

dbt-duckdb reports a failed Python model as `Python model failed:` followed by
`traceback.format_exception(err)`, so a one-line `ConfigError` arrives wrapped in ~30 lines of stack. The errors
raised on purpose (`DpsynthError`: config, spec, input, budget) already say what is wrong and how to fix it; their
stack only helps a developer. `one_line(err)` returns the same error (same class, message and attributes, still
caught by `except ConfigError`) of a subclass whose `__traceback__` reads as None, so `format_exception` prints just
`dpsynth.ConfigError: <message>`. dbt's own debug log keeps its stack trace. Errors that are not DpsynthError (bugs)
keep their traceback.
"""

from __future__ import annotations

from functools import lru_cache

from dpsynth_core.errors import DpsynthError


def _no_traceback(self):
    return None


def _ignore(self, value):   # the interpreter stores the real traceback in C; Python code sees None
    pass


@lru_cache(maxsize=None)
def _quiet_class(cls: type) -> type:
    return type(cls.__name__, (cls,), {"__module__": "dpsynth", "__qualname__": cls.__name__,
                                       "__traceback__": property(_no_traceback, _ignore), "quiet": True})


def one_line(err: DpsynthError) -> DpsynthError:
    """`err` as an instance of its one-line subclass (see the module docstring)."""
    if getattr(type(err), "quiet", False):
        return err
    quiet = _quiet_class(type(err))
    out = quiet.__new__(quiet, *err.args)
    out.__dict__.update(err.__dict__)
    return out
