"""What leaves when reading raw rows fails: the exception's type, the step and the columns — never its message.

Engines quote the offending value in their errors (DuckDB: `Could not convert string 'SSN-123-45-6789' to DOUBLE`; its
CSV reader: `Original Line: ...`; pandas and numpy do the same). Those messages are outputs too: they reach stderr,
the dbt log and the ledger's `error` column. So every call from the measurement layer into an engine goes through
`engine_call`, and everything that runs on raw rows after the first read (domain discovery, fitting, the evaluation
rows) through `guarded`: any exception that is not one of ours (`DpsynthError`, whose messages never quote a value)
is replaced by an `EngineError` that names only public facts. The original exception is dropped (raised outside the
`except` block, so it is not even chained as `__context__`).
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

from ..errors import DpsynthError, EngineError

T = TypeVar("T")

# Fix hints by (a part of) the withheld exception's class name; the first match wins.
_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Conversion", "Cast", "NumberFormat", "Arithmetic", "OutOfRange", "Overflow"),
     "the column holds values that do not fit its declared kind or type: declare the kind that matches the column's "
     "type (see docs/bad_input.md), or clean/cast the column upstream."),
    (("InvalidInput", "Parser", "CSV", "Sniff", "Unicode"),
     "the input could not be read as a table: check its delimiter, header, encoding and that every row has the same "
     "number of fields (or convert it to Parquet)."),
    (("Memory", "OutOfMemory"),
     "the step ran out of memory: declare domains (categories, bounds) for wide columns, lower `rows`, or run where "
     "more memory is available."),
)
_DEFAULT_HINT = ("check the column's declared kind against its type; if the input is valid this is a bug in "
                 "dbt-dpsynth: report the step and exception type (never the data).")


def hint_for(error_type: str) -> str:
    for needles, hint in _HINTS:
        if any(n.lower() in error_type.lower() for n in needles):
            return hint
    return _DEFAULT_HINT


def guarded(fn: Callable[[], T], *, step: str | Callable[[], str], table: str | None,
            columns: Sequence[str] | Callable[[], Sequence[str]] = ()) -> T:
    """`fn()`, with any exception that is not a `DpsynthError` replaced by a scrubbed `EngineError`.

    Args:
        fn: the work (reads raw rows).
        step: the step's name, or a callable giving it at failure time (for multi-stage work).
        table: the relation's public name.
        columns: the columns the step reads (public names), or a callable giving them.
    Returns:
        What `fn` returns.
    Raises:
        EngineError: `fn` raised anything but a DpsynthError (KeyboardInterrupt and other BaseExceptions pass).
    """
    try:
        return fn()
    except DpsynthError:
        raise
    except Exception as err:  # noqa: BLE001 - replaced below by a message without the error's text
        error_type = type(err).__name__
    # raised outside the except block: the original exception is neither chained nor kept as __context__
    name = step() if callable(step) else step
    cols = tuple(columns() if callable(columns) else columns)
    raise EngineError(step=name, error_type=error_type, table=table, columns=cols, fix=hint_for(error_type))

