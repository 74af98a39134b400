"""`dpsynth evaluate REAL SYNTH [--holdout H] [--target T] [--gates gates.yml]`: the release gates outside dbt.

Prints the metrics as JSON on stdout and exits 1 when a gate fails (0 when all pass). REAL is the table the generator
was trained on; HOLDOUT rows from the same population that it never saw. Without --holdout, REAL is split at random
(fixed seed) and a note says so: the privacy metrics then only mean something if the generator was trained on the
same train part. The metrics are exact statistics of real rows: NOT differentially private.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from dpsynth_core.errors import InputError
from dpsynth_core.evaluation import EvaluationOptions, GateConfig, evaluate, load_gates
from dpsynth_core.evaluation.columns import KINDS
from dpsynth_core.progress import reporting

from .progress import ProgressLine


def _read_csv(path: str) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip")   # floats exactly as written (pandas 2's fast parser is not)


_READERS = {".csv": _read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help="utility and privacy gates of a synthetic table against real data (JSON; exit 1 on failure)",
        description=__doc__.split("\n\n")[0],
        epilog="Thresholds and options come from --gates (YAML with `thresholds:` and `options:`; see docs/gates.md). "
               "The report reads real rows and is not differentially private: share it with reviewers only.")
    p.add_argument("real", help="real table the generator was trained on (.csv or .parquet)")
    p.add_argument("synthetic", help="synthetic table (.csv or .parquet)")
    p.add_argument("--holdout", default=None, help="real rows the generator never saw (.csv or .parquet)")
    p.add_argument("--holdout-fraction", type=float, default=0.2,
                   help="share of REAL split off as holdout when --holdout is not given (default 0.2)")
    p.add_argument("--target", default=None, help="column for TSTR, subgroup fidelity and attribute inference")
    p.add_argument("--gates", default=None, help="gates.yml with `thresholds:` and `options:`")
    p.add_argument("--kind", action="append", default=[], metavar="COLUMN=KIND",
                   help=f"column kind hint, KIND one of {', '.join(KINDS)} (repeatable; e.g. --kind caseid=identifier)")
    p.add_argument("--seed", type=int, default=0, help="seed of the holdout split and the metric subsamples")
    p.set_defaults(func=run)


def read_table(path: str, role: str) -> pd.DataFrame:
    reader = _READERS.get(Path(path).suffix.lower())
    if reader is None:
        raise InputError(f"{role} {path!r} has an unsupported extension.", table=Path(path).stem,
                         fix=f"use one of {sorted(_READERS)}.")
    if not Path(path).exists():
        raise InputError(f"{role} {path!r} does not exist.", table=Path(path).stem, fix="check the path.")
    return reader(path)


def parse_kinds(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        column, sep, kind = pair.partition("=")
        if not sep or not column or kind not in KINDS:
            raise InputError(f"--kind {pair!r} is not COLUMN=KIND.", column=column or None,
                             fix=f"write e.g. --kind caseid=identifier (KIND one of {', '.join(KINDS)}).")
        out[column] = kind
    return out


def split_holdout(real: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not 0.0 < fraction < 1.0:
        raise InputError(f"--holdout-fraction {fraction} is not in (0, 1).", fix="use e.g. 0.2.")
    order = np.random.default_rng(seed).permutation(len(real))
    cut = int(round(fraction * len(real)))
    return real.iloc[order[cut:]].reset_index(drop=True), real.iloc[order[:cut]].reset_index(drop=True)


def run(args) -> int:
    gates, options = load_gates(args.gates) if args.gates else (GateConfig(), EvaluationOptions())
    options = dataclasses.replace(options, seed=args.seed, target=args.target or options.target)
    real = read_table(args.real, "REAL")
    synthetic = read_table(args.synthetic, "SYNTH")
    notes = []
    if args.holdout:
        holdout = read_table(args.holdout, "HOLDOUT")
    else:
        real, holdout = split_holdout(real, args.holdout_fraction, args.seed)
        notes.append(f"no --holdout: REAL split at random (seed {args.seed}) into {len(real)} train and {len(holdout)} "
                     f"holdout rows; privacy metrics assume the generator never saw the holdout rows")
        print(f"dpsynth evaluate: {notes[-1]}", file=sys.stderr)
    progress = ProgressLine()
    try:
        with reporting(progress):             # evaluation stages on stderr
            report = evaluate(real, holdout, synthetic, kinds=parse_kinds(args.kind), gates=gates, options=options,
                              table=Path(args.synthetic).stem)
    finally:
        progress.close()
    report = dataclasses.replace(report, notes=tuple(notes) + report.notes)
    print(report.to_json())
    for failure in report.failures():
        print(f"dpsynth evaluate: {failure.kind} gate failed: {failure.metric} = {failure.value:.4g} "
              f"(threshold {failure.threshold:.4g})", file=sys.stderr)
    return 0 if report.passed else 1
