"""Progress on stderr for the CLI: AIM rounds, MST stages, DP-SGD epochs, evaluation stages and sampling.

On a terminal one line is rewritten in place (carriage return) with a bar where the event says how far the work is
(AIM: share of rho spent; DP-SGD: epochs); elsewhere (a log file, CI) each event is its own line. stdout keeps the
command's result. The events carry public facts and DP outputs only (see GeneratorContext.report).
"""

from __future__ import annotations

import shutil
import sys
from typing import Any, TextIO

BAR_WIDTH = 24


def _shown(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def fraction_done(event: str, info: dict) -> float | None:
    """How far the work is, in [0, 1], when the event says so."""
    if event == "aim" and isinstance(info.get("spent_share"), (int, float)):
        return float(info["spent_share"])
    if event == "epoch" and info.get("epochs"):
        return float(info.get("epoch", 0)) / float(info["epochs"])
    return None


def describe(event: str, info: dict) -> str:
    if event == "aim":
        return f"aim round {info.get('round')}: selected {info.get('selected')}"
    if event in ("mst", "evaluate") and "stage" in info:
        rest = " ".join(f"{k}={_shown(v)}" for k, v in info.items() if k != "stage" and not isinstance(v, (dict, list)))
        return f"{event}: {info['stage']}" + (f" ({rest})" if rest else "")
    return f"{event} " + " ".join(f"{k}={_shown(v)}" for k, v in info.items() if not isinstance(v, (dict, list)))


class ProgressLine:
    """`progress(event, info)` callback writing to `stream` (default stderr); call `close()` at the end."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        self.in_place = bool(getattr(self.stream, "isatty", lambda: False)())
        self._open = False

    def __call__(self, event: str, info: dict) -> None:
        text = describe(event, info)
        if not self.in_place:
            print(f"dpsynth: {text}", file=self.stream, flush=True)
            return
        done = fraction_done(event, info)
        bar = ""
        if done is not None:
            filled = int(round(max(0.0, min(done, 1.0)) * BAR_WIDTH))
            bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done:4.0%} "
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.stream.write("\r\033[K" + f"dpsynth: {bar}{text}"[:width])
        self.stream.flush()
        self._open = True

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False
