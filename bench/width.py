"""Cost of width (issue 14 item 4): AIM at epsilon 1 on a 10,000-row x 55-column table of mixed kinds with a
high-cardinality text column (~5,000 distinct values), through the DuckDB engine with no spec.

    python bench/width.py                       # aim, epsilon 1; prints wall time, peak RSS, warnings
    python bench/width.py --generator mst --rows 20000

The table is generated (seeded) with the shapes of warehouse tables: small integer codes, zero-inflated amounts,
yes/no flags, categories of 3 to 50 values, nulls in some columns, dates, and one free-text-like column with about one
distinct value per two rows. Each run is a child process (wall time spawn to exit, peak RSS from wait4), like the
other benchmarks. Target: minutes, not hours; a clear warning for the high-cardinality column, no out-of-memory.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


def wide_frame(rows: int = 10_000, seed: int = 0):
    """55 columns: 10 integer codes, 10 zero-inflated amounts, 10 yes/no flags, 10 categoricals (3..50 values),
    5 nullable numerics, 5 dates, 4 continuous, 1 high-cardinality text column (~rows/2 distinct values)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    for i in range(10):
        cols[f"code_{i}"] = rng.choice([12, 24, 36, 48, 60][: 2 + i % 4], rows)
    for i in range(10):
        amount = rng.lognormal(6 + i % 3, 1.2, rows).round(2)
        cols[f"amount_{i}"] = np.where(rng.random(rows) < 0.3 + 0.06 * i, 0.0, amount)
    for i in range(10):
        cols[f"flag_{i}"] = np.where(rng.random(rows) < 0.1 + 0.08 * i, "yes", "no")
    for i in range(10):
        k = [3, 5, 8, 12, 20, 30, 40, 50, 7, 15][i]
        p = rng.dirichlet(np.full(k, 0.7))
        cols[f"cat_{i}"] = rng.choice([f"c{i}_{j}" for j in range(k)], rows, p=p)
    for i in range(5):
        x = rng.normal(40 + 5 * i, 10, rows).round(1)
        cols[f"measure_{i}"] = pd.array(np.where(rng.random(rows) < 0.05 * (i + 1), np.nan, x), dtype="Float64")
    for i in range(5):
        cols[f"date_{i}"] = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 3000, rows), unit="D")
    for i in range(4):
        cols[f"score_{i}"] = rng.gamma(2.0, 10.0 + i, rows)
    cols["free_text"] = [f"note {v}" for v in rng.integers(0, rows // 2, rows)]
    return pd.DataFrame(cols)


def child(config_path: str) -> None:
    cfg = json.loads(Path(config_path).read_text())
    import duckdb

    from dbt_dpsynth.engines import engine_for
    from dpsynth_core.api import synthesize_table
    from dpsynth_core.config import SynthesisConfig

    con = duckdb.connect(cfg["db"], read_only=True)
    engine = engine_for(con.table("wide"), con, relation_name="wide")
    t0 = time.perf_counter()
    release = synthesize_table(engine, {}, SynthesisConfig(epsilon=cfg["epsilon"], generator=cfg["generator"],
                                                           seed=0), sample=False)
    t1 = time.perf_counter()
    sample = release.model.sample(min(release.record.rows, 10_000), seed=0)
    print(json.dumps({"ok": True, "fit_s": round(t1 - t0, 1), "rows": release.record.rows,
                      "columns": len(sample.columns), "warnings": release.record.warnings}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--generator", default="aim")
    p.add_argument("--epsilon", type=float, default=1.0)
    p.add_argument("--timeout", type=float, default=3600.0)
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child)
        return
    import duckdb

    with tempfile.TemporaryDirectory(prefix="dpsynth-width-") as tmp:
        db = str(Path(tmp) / "wide.duckdb")
        con = duckdb.connect(db)
        con.register("frame", wide_frame(args.rows))
        con.execute("CREATE TABLE wide AS SELECT * FROM frame")
        con.close()
        cfg = Path(tmp) / "cfg.json"
        cfg.write_text(json.dumps({"db": db, "generator": args.generator, "epsilon": args.epsilon}))
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, "--child", str(cfg)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            print(json.dumps({"ok": False, "error": f"timed out after {args.timeout:.0f} s"}))
            return
        wall = time.perf_counter() - t0
        import resource

        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        result = json.loads(out.strip().splitlines()[-1]) if proc.returncode == 0 else {
            "ok": False, "error": err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}"}
        result.update(wall_s=round(wall, 1), peak_mb=round(peak_mb), table=f"{args.rows} x 55",
                      generator=args.generator)
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
