"""Gate calibration (issue 10 item 4): how often do the default gates fail a good release by chance, and do they
still catch a 5% row leak and a column-shuffled table?

Two steps, so the metric code can change without refitting:
  python bench/gate_calibration.py fit --runs 12 [--tables nassCDS,...] [--generator mst]   # epsilon 1, secret salt
  python bench/gate_calibration.py evaluate [--out bench/results/gate_calibration.json]

`fit` saves, per table and run, the training part, the holdout and the synthetic table (Parquet) under
bench/results/gate_calibration/ (not committed). Each run is a fresh release: a new secret salt for the split and OS
noise. `evaluate` scores three candidates per run with the default GateConfig: the AIM table; "leak" = the AIM table
with 5% of its rows replaced by training rows; "shuffle" = the training part with every column permuted
independently (exact 1-way marginals, no dependence). It prints the failure rate per metric and candidate.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.tables import TABLES, independent_columns, load  # noqa: E402

DATA = ROOT / "bench" / "results" / "gate_calibration"
LEAK_SHARE = 0.05


def fit(args) -> None:
    from dpsynth_core.api import synthesize_table
    from dpsynth_core.config import SynthesisConfig
    from dpsynth_core.measurement.pandas_engine import PandasEngine

    for name in args.tables.split(","):
        table = TABLES[name]
        frame = load(table)
        folder = name if args.generator == "aim" else f"{name}@{args.generator}"
        for run in range(args.runs):
            where = DATA / folder / f"run{run:02d}"
            if (where / "synthetic.parquet").exists():
                continue
            t0 = time.time()
            release = synthesize_table(PandasEngine(frame, name), table.spec("user"),
                                       SynthesisConfig(epsilon=args.epsilon, generator=args.generator, holdout=0.2,
                                                       seed=run))
            where.mkdir(parents=True, exist_ok=True)
            release.evaluation.train.to_parquet(where / "train.parquet")
            release.evaluation.holdout.to_parquet(where / "holdout.parquet")
            release.data.to_parquet(where / "synthetic.parquet")
            print(f"{name} run {run}: {time.time() - t0:.0f}s", flush=True)


def candidates(train: pd.DataFrame, synthetic: pd.DataFrame, run: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(1000 + run)
    leak = synthetic.copy()
    k = int(round(LEAK_SHARE * len(leak)))
    rows = rng.choice(len(leak), size=k, replace=False)
    copies = train.iloc[rng.choice(len(train), size=k, replace=False)].reset_index(drop=True)
    for c in leak.columns:
        leak[c] = leak[c].astype(object)
        leak.loc[rows, c] = copies[c].to_numpy()
    leak = leak.astype(train.dtypes.to_dict(), errors="ignore")
    return {"aim": synthetic, "leak": leak, "shuffle": independent_columns(train, seed=run)}


def evaluate_all(args) -> None:
    from dpsynth_core.evaluation import EvaluationOptions, evaluate

    out = []
    for name in args.tables.split(","):
        table = TABLES[name.split("@")[0]]      # `nassCDS@mst`: the runs of another generator
        for where in sorted((DATA / name).glob("run*"))[:args.max_runs]:
            run = int(where.name[3:])
            train = pd.read_parquet(where / "train.parquet")
            holdout = pd.read_parquet(where / "holdout.parquet")
            synthetic = pd.read_parquet(where / "synthetic.parquet")
            kinds = table.evaluation_kinds(train)
            for label, candidate in candidates(train, synthetic, run).items():
                if args.only and label not in args.only.split(","):
                    continue
                report = evaluate(train, holdout, candidate, kinds=kinds, target=table.target,
                                  options=EvaluationOptions(n_attacks=args.n_attacks))
                out.append({"table": name, "run": run, "candidate": label,
                            "metrics": [r.to_dict() for r in report.results]})
                print(f"{name} run {run} {label}: failing {[r.metric for r in report.failures()]}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    summarise(out)


def summarise(out: list[dict]) -> None:
    fails: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    any_fail: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for row in out:
        key = (row["table"], row["candidate"])
        failed = [m["metric"] for m in row["metrics"] if m["passed"] is False]
        any_fail[key][0] += bool(failed)
        any_fail[key][1] += 1
        for m in row["metrics"]:
            fails[(row["candidate"], m["metric"])][0] += m["passed"] is False
            fails[(row["candidate"], m["metric"])][1] += 1
    print("\nruns failing any gate (table, candidate): failed/runs")
    for key, (f, n) in sorted(any_fail.items()):
        print(f"  {key[0]:16s} {key[1]:8s} {f}/{n}")
    print("\nper metric (candidate, metric): failed/runs")
    for key, (f, n) in sorted(fails.items()):
        if f:
            print(f"  {key[0]:8s} {key[1]:26s} {f}/{n}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("fit")
    p.add_argument("--runs", type=int, default=12)
    p.add_argument("--epsilon", type=float, default=1.0)
    p.add_argument("--generator", default="aim")
    p.add_argument("--tables", default=",".join(TABLES))
    p.set_defaults(func=fit)
    p = sub.add_parser("evaluate")
    p.add_argument("--tables", default=",".join(TABLES))
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "gate_calibration.json"))
    p.add_argument("--only", default="", help="candidates to score (aim,leak,shuffle; default all)")
    p.add_argument("--max-runs", type=int, default=None, help="score the first N runs per table only")
    p.add_argument("--n-attacks", type=int, default=500)
    p.set_defaults(func=evaluate_all)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
