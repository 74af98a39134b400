"""Timing script (not a test): DP-CTGAN / DP-TVAE on nassCDS at a total epsilon with the recommended config.

    .venv/bin/python tests/deep/timing_nasscds.py [--generator dp-ctgan] [--epsilon 1] [--goal balanced]

Budget split as a release would do it: (epsilon, delta) -> preprocessing share (zCDP: DP domains for columns without
declared bounds + the generator's 1-way histograms) and DP-SGD share (Opacus accountant). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np
import pandas as pd

from dpsynth_core.accounting.budget import PrivacyBudget
from dpsynth_core.accounting.zcdp import cdp_eps, cdp_rho
from dpsynth_core.generators.deep.config import DeepConfig, default_delta, split_budget
from dpsynth_core.generators.deep.ctgan import DPCTGAN
from dpsynth_core.generators.deep.tvae import DPTVAE
from dpsynth_core.generators.deep.validation import recommend_deep_config
from dpsynth_core.measurement.pandas_engine import PandasEngine
from dpsynth_core.measurement.private_table import PrivateTable
from dpsynth_core.preprocessing.domains import resolve_domains
from dpsynth_core.schema import TableSpec

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
    parser.add_argument("--generator", default="dp-ctgan", choices=["dp-ctgan", "dp-tvae"])
    parser.add_argument("--epsilon", type=float, default=1.0)
    parser.add_argument("--goal", default="balanced")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    frame = pd.read_csv(DATA)
    engine = PandasEngine(frame, "nassCDS")
    spec = TableSpec.from_dict("nassCDS", NASS_SPEC, engine.schema())
    delta = default_delta(PUBLIC_ROWS)
    recommended = recommend_deep_config(goal=args.goal, generator=args.generator, rows=PUBLIC_ROWS,
                                        epsilon=args.epsilon, delta=delta)
    config = {**recommended["config"], "device": args.device}
    shares = split_budget(args.epsilon, delta, DeepConfig.from_dict(config).preprocessing_share)
    rho = cdp_rho(shares["preprocessing_epsilon"], shares["preprocessing_delta"] * 0.9)
    budget = PrivacyBudget(rho, shares["preprocessing_delta"] * 0.9)
    private = PrivateTable(engine, budget)
    started = time.perf_counter()
    domain = resolve_domains(private, spec, rho / 2, shares["preprocessing_delta"] * 0.1)
    cls = DPCTGAN if args.generator == "dp-ctgan" else DPTVAE
    generator = cls(sgd_epsilon=shares["sgd_epsilon"], sgd_delta=shares["sgd_delta"], seed=0, **config,
                    progress=lambda kind, info: print(json.dumps({kind: info}), flush=True))
    fitted = generator.fit(private, domain, budget.remaining, None)
    fit_seconds = time.perf_counter() - started
    sample = fitted.sample(PUBLIC_ROWS, seed=0)
    total_seconds = time.perf_counter() - started
    tvd = {c: 0.5 * float(np.abs(frame[c].astype(str).value_counts(normalize=True)
                                 .subtract(sample[c].astype(str).value_counts(normalize=True), fill_value=0)).sum())
           for c in ["dead", "airbag", "seatbelt", "sex", "dvcat", "abcat", "occRole"]}
    print(json.dumps({
        "generator": args.generator, "goal": args.goal, "config_summary": recommended["config_summary"],
        "fit_seconds": round(fit_seconds, 1), "fit_and_sample_seconds": round(total_seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "epsilon_preprocessing": cdp_eps(budget.spent, budget.delta_conversion),
        "epsilon_training": fitted.training["epsilon"], "delta_total": delta,
        "noise_multiplier": fitted.training["noise_multiplier"], "steps": fitted.training["steps"],
        "one_way_tvd": tvd,
    }, indent=2))


if __name__ == "__main__":
    main()
