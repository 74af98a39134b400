"""Run one of our generators on a CSV (child process of bench/run.py, project venv).

Usage: ours_runner.py CONFIG.json
CONFIG: {"train_csv", "out_csv", "generator", "epsilon", "delta", "rows", "seed", "spec", "options", "table",
         "target", "export_domain"}
Writes the synthetic CSV, `out_csv + ".release.json"` and, with "export_domain", `out_csv + ".domain.json"` (the
public domain the model was fitted on, for the peers that model coded tables; see domain_codes.py); prints one JSON
line {"ok", "fit_s", "epsilon_spent", ...}.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pandas as pd  # noqa: E402

from dpsynth_core.api import synthesize_table  # noqa: E402
from dpsynth_core.config import SynthesisConfig  # noqa: E402
from dpsynth_core.measurement import PandasEngine  # noqa: E402


def main(path: str) -> None:
    cfg = json.load(open(path))
    data = pd.read_csv(cfg["train_csv"])
    config = SynthesisConfig(epsilon=cfg["epsilon"], delta=cfg["delta"], generator=cfg["generator"],
                             rows=cfg["rows"], seed=cfg["seed"], target=cfg.get("target"),
                             options=dict(cfg.get("options", {})), table=cfg.get("table", "bench"))
    t0 = time.perf_counter()
    release = synthesize_table(PandasEngine(data, cfg.get("table", "bench")), cfg["spec"], config)
    t1 = time.perf_counter()
    release.data.to_csv(cfg["out_csv"], index=False)
    record = release.record.to_dict() if hasattr(release.record, "to_dict") else vars(release.record)
    with open(cfg["out_csv"] + ".release.json", "w") as fh:
        json.dump(record, fh, default=str)
    if cfg.get("export_domain"):
        from domain_codes import domain_state

        with open(cfg["out_csv"] + ".domain.json", "w") as fh:
            json.dump(domain_state(release), fh)
    print(json.dumps({"ok": True, "fit_s": t1 - t0, "rows": len(release.data),
                      "epsilon_spent": release.record.epsilon_spent, "rho_spent": release.record.rho_spent,
                      "rho": release.record.rho}))


if __name__ == "__main__":
    main(sys.argv[1])
