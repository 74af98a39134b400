"""Wall time of one full evaluation on nassCDS (not a test; run by hand):

    .venv/bin/python bench/timing_evaluate_nasscds.py [CSV]

Real = nassCDS split 80/20 into train (20,974 rows) and holdout (5,243); synthetic = 26,217 rows from MST at
epsilon 1 trained on the train part. Prints the evaluation's wall time, the machine's load and the report's verdicts.
"""

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dpsynth_core.api import synthesize_table  # noqa: E402
from dpsynth_core.config import SynthesisConfig  # noqa: E402
from dpsynth_core.evaluation import evaluate  # noqa: E402
from dpsynth_core.measurement.pandas_engine import PandasEngine  # noqa: E402


def main(path: str = "/work/shared/data/nassCDS.csv") -> None:
    df = pd.read_csv(path)
    order = np.random.default_rng(0).permutation(len(df))
    cut = int(0.2 * len(df))
    holdout, train = df.iloc[order[:cut]].reset_index(drop=True), df.iloc[order[cut:]].reset_index(drop=True)
    release = synthesize_table(PandasEngine(train, "nassCDS"), {"caseid": {"kind": "identifier"}},
                               SynthesisConfig(epsilon=1.0, seed=0, rows=len(df)))
    start = time.perf_counter()
    report = evaluate(train, holdout, release.data, kinds={"caseid": "identifier"}, target="dead")
    wall = time.perf_counter() - start
    print(f"evaluate(): {wall:.1f} s wall for real {len(train)} + holdout {len(holdout)} vs synthetic "
          f"{len(release.data)} rows, {len(report.results)} metrics; cpus={os.cpu_count()} "
          f"load={os.getloadavg()[0]:.1f}")
    print(f"privacy passed={report.passed_kind('privacy')} utility passed={report.passed_kind('utility')}")


if __name__ == "__main__":
    main(*sys.argv[1:])
