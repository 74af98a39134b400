"""`dpsynth` console script: one module per subcommand, each exposing `register(subparsers)`.

A subcommand module's `register` adds its parser and sets `func(args) -> int`. Modules are listed in SUBCOMMANDS and
registered when present in this package. The CLI needs no dbt: it uses `dpsynth_core` and the engines and ledger of
`dbt_dpsynth`.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from typing import Sequence

SUBCOMMANDS = ("synthesize", "ledger", "budget", "evaluate", "deep_config", "report", "plan", "watermark",
               "scan", "approve")


def build_parser() -> argparse.ArgumentParser:
    from dbt_dpsynth import __version__

    parser = argparse.ArgumentParser(
        prog="dpsynth",
        description="Differentially private synthetic tables from CSV/Parquet files (same engine and accounting as "
                    "the dbt package).")
    parser.add_argument("--version", action="version", version=f"dpsynth {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        module_name = f"{__name__}.{name}"
        if importlib.util.find_spec(module_name) is not None:
            importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 internal error, 2 usage or input/config error, 3 budget refused).

    No traceback reaches the user: our errors print their one-line message (table, column, fix; never a value), any
    other exception only its type (its message can quote private values). `DPSYNTH_TRACEBACK=1` re-raises it for
    debugging on the machine that holds the data.
    """
    from dpsynth_core.errors import BudgetExceededError, DpsynthError, public_message

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BudgetExceededError as err:
        print(f"dpsynth: {err}", file=sys.stderr)
        return 3
    except DpsynthError as err:
        print(f"dpsynth: error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - the last line of defence: type only, never the message
        if os.environ.get("DPSYNTH_TRACEBACK") == "1":
            raise
        print(f"dpsynth: internal error in `dpsynth {args.command}`: {public_message(err)}. This is a bug: please "
              "report the command and the error type (never the data).", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
