"""Timing script (not a test): DP-CTGAN / DP-TVAE on nassCDS at a total epsilon with the recommended config.

    .venv/bin/python bench/timing_deep_nasscds.py [--generator dp-ctgan] [--epsilon 1] [--goal balanced] [CSV]

One release as `synthesize_table` runs it: the release's BudgetPlan splits (epsilon, delta) into the zCDP part (DP
domains for columns without declared bounds + the generator's 1-way histograms) and the DP-SGD part (Opacus
accountant); `max_rows` is the documented public row count, so the default delta is the one a user would get.
Prints JSON: wall times, peak RSS, the spend per accountant, the DP-SGD calibration and the 1-way TVD of a few columns.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dpsynth_core.accounting.plan import default_delta  # noqa: E402
from dpsynth_core.api import synthesize_table  # noqa: E402
from dpsynth_core.config import SynthesisConfig  # noqa: E402
from dpsynth_core.generators.deep.validation import recommend_deep_config  # noqa: E402
from dpsynth_core.measurement.pandas_engine import PandasEngine  # noqa: E402

DATA = "/work/shared/data/nassCDS.csv"
PUBLIC_ROWS = 26217   # the documented size of the public data set (README), not counted from the file
# The integration project's public column specs (integration_tests/models/synthetic/schema.yml, from the codebook).
NASS_SPEC = {
    "dvcat": {"kind": "categorical", "categories": ["1-9km/h", "10-24", "25-39", "40-54", "55+"], "nullable": False},
    "dead": {"kind": "categorical", "categories": ["alive", "dead"], "nullable": False},
    "airbag": {"kind": "categorical", "categories": ["airbag", "none"], "nullable": False},
    "seatbelt": {"kind": "categorical", "categories": ["belted", "none"], "nullable": False},
    "frontal": {"kind": "categorical", "categories": [0, 1], "nullable": False},
    "sex": {"kind": "categorical", "categories": ["f", "m"], "nullable": False},
    "ageOFocc": {"kind": "integer", "lower": 0, "upper": 100, "bins": 20, "nullable": False},
    "yearacc": {"kind": "categorical", "categories": [1997, 1998, 1999, 2000, 2001, 2002], "nullable": False},
    "occRole": {"kind": "categorical", "categories": ["driver", "pass"], "nullable": False},
    "deploy": {"kind": "categorical", "categories": [0, 1], "nullable": False},
    "caseid": {"kind": "identifier"},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("csv", nargs="?", default=DATA)
    parser.add_argument("--generator", default="dp-ctgan", choices=["dp-ctgan", "dp-tvae"])
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--goal", default="balanced")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    frame = pd.read_csv(args.csv)
    recommended = recommend_deep_config(goal=args.goal, generator=args.generator, rows=PUBLIC_ROWS,
                                        epsilon=args.epsilon, delta=default_delta(PUBLIC_ROWS))
    config = SynthesisConfig(epsilon=args.epsilon, generator=args.generator, max_rows=PUBLIC_ROWS, rows=PUBLIC_ROWS,
                             seed=0, options={**recommended["config"], "device": args.device})
    started = time.perf_counter()
    release = synthesize_table(PandasEngine(frame, "nassCDS"), NASS_SPEC, config,
                               progress=lambda kind, info: print(json.dumps({kind: info}), flush=True))
    total_seconds = time.perf_counter() - started
    record, training, sample = release.record, release.model.training, release.data
    tvd = {c: 0.5 * float(np.abs(frame[c].astype(str).value_counts(normalize=True)
                                 .subtract(sample[c].astype(str).value_counts(normalize=True), fill_value=0)).sum())
           for c in ["dead", "airbag", "seatbelt", "sex", "dvcat", "abcat", "occRole"] if c in frame.columns}
    print(json.dumps({
        "generator": args.generator, "goal": args.goal, "config_summary": recommended["config_summary"],
        "fit_seconds": record.fit_seconds, "release_seconds": round(total_seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "epsilon_requested": record.epsilon, "epsilon_spent": record.epsilon_spent,
        "epsilon_training": training["epsilon"], "delta_total": record.delta, "accountant": record.accountant,
        "noise_multiplier": training["noise_multiplier"], "steps": training["steps"],
        "budget_tree": record.budget_tree, "one_way_tvd": tvd,
    }, indent=2, default=str))


if __name__ == "__main__":
    main()
