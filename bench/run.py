"""Side-by-side benchmark: our DP generators against OpenDP SmartNoise Synth, one split, one evaluator.

    python bench/run.py                        # everything available, epsilon 1 and 10, both tables, wide case
    python bench/run.py --quick                # minutes: subsampled tables, epsilon 1, mst/aim/copula vs sn-mst
    python bench/run.py --tables nassCDS --epsilons 1 --generators mst,copula,sn-mst --peer-timeout 300

Every generator runs in its own child process (ours with this interpreter, peers with bench/.venv-peers/bin/python,
made by bench/peers/setup.sh), so wall time (spawn to exit: imports, reading the CSV, fit, sample, writing) and peak
memory (the child's ru_maxrss from wait4) are measured the same way for all. A child over its wall-clock cap is killed
and recorded as a timeout; an error is recorded with its last message. Nothing is hidden or retried.
Results: a printed table with our/peer ratios, and JSON under bench/results/.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import pandas as pd  # noqa: E402

from evaluator import evaluate  # noqa: E402
from tables import TABLES, independent_columns, load, split, wide_table  # noqa: E402

PEERS = {"sn-mst": "mst", "sn-aim": "aim", "sn-dpctgan": "dpctgan"}
OURS = ("mst", "aim", "copula", "dp-ctgan", "dp-tvae")
# our generator -> its like-for-like peer (ratios are also given against the best marginal peer)
COUNTERPART = {"mst": "sn-mst", "aim": "sn-aim", "copula": None, "dp-ctgan": "sn-dpctgan", "dp-tvae": "sn-dpctgan"}
PEER_PYTHON = HERE / ".venv-peers" / "bin" / "python"
DELTA = 1e-6
SEED = 0


# --------------------------------------------------------------------------------------------------------------------
# Which generators exist here
# --------------------------------------------------------------------------------------------------------------------

def our_generators() -> list[str]:
    from ours_runner import ensure_registered

    from dpsynth_core.generators.base import available_generators

    ensure_registered()
    names = set(available_generators())
    out = []
    for g in OURS:
        if g not in names:
            continue
        if g == "aim" and importlib.util.find_spec("dpsynth_core.generators.aim") is None:
            continue   # listed in the registry before its module landed
        out.append(g)
    return out


def peers_ready() -> bool:
    return PEER_PYTHON.exists()


# --------------------------------------------------------------------------------------------------------------------
# Child processes: wall time and peak RSS measured the same way for everyone
# --------------------------------------------------------------------------------------------------------------------

def run_child(cmd: list[str], timeout_s: float, log_prefix: Path) -> dict:
    """Run `cmd`; wall seconds, the child's peak RSS (MiB, ru_maxrss of wait4) and its last stdout JSON line."""
    out_path, err_path = Path(str(log_prefix) + ".out"), Path(str(log_prefix) + ".err")
    env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"))
    with open(out_path, "w") as out, open(err_path, "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT, env=env, start_new_session=True)
        status, rusage, timed_out = None, None, False
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout_s:
                os.killpg(proc.pid, signal.SIGKILL)
                _, status, rusage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            time.sleep(0.05)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = {"wall_s": round(wall, 2), "peak_rss_mb": round(rusage.ru_maxrss / 1024, 1)}
    if timed_out:
        return result | {"status": "timeout", "error": f"killed after the {timeout_s:.0f} s wall-clock cap"}
    lines = [ln for ln in out_path.read_text().splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = [ln for ln in err_path.read_text().splitlines() if ln.strip()]
        return result | {"status": "error", "error": (tail[-1] if tail else f"exit code {proc.returncode}")[:500]}
    return result | {"status": "ok", "child": json.loads(lines[-1])}


# --------------------------------------------------------------------------------------------------------------------
# One benchmark case
# --------------------------------------------------------------------------------------------------------------------

def run_case(workdir: Path, table_name: str, train_csv: Path, columns: list[str], spec: dict, peer_columns: list,
             rows: int, epsilon: float, generator: str, args, target: str | None) -> dict:
    tag = f"{table_name}-eps{epsilon:g}-{generator}"
    out_csv = workdir / f"{tag}.csv"
    cfg_path = workdir / f"{tag}.json"
    if generator in PEERS:
        options = {}
        cfg = {"train_csv": str(train_csv), "out_csv": str(out_csv), "synth": PEERS[generator], "epsilon": epsilon,
               "delta": DELTA, "rows": rows, "columns": peer_columns, "options": options}
        cmd = [str(PEER_PYTHON), str(HERE / "peers" / "runner.py"), str(cfg_path)]
        timeout = args.peer_timeout
    else:
        options = dict(args.deep_options) if generator.startswith("dp-") else {}
        cfg = {"train_csv": str(train_csv), "out_csv": str(out_csv), "generator": generator, "epsilon": epsilon,
               "delta": DELTA, "rows": rows, "seed": SEED, "spec": spec, "options": options, "table": table_name,
               "target": target}
        cmd = [sys.executable, str(HERE / "ours_runner.py"), str(cfg_path)]
        timeout = args.timeout
    cfg_path.write_text(json.dumps(cfg))
    print(f"  running {tag} ...", end=" ", flush=True)
    result = {"table": table_name, "epsilon": epsilon, "generator": generator,
              "side": "peer" if generator in PEERS else "ours", "options": options} | \
        run_child(cmd, timeout, workdir / tag)
    print(result["status"], f"{result['wall_s']} s", flush=True)
    if result["status"] == "ok":
        result["synthetic_csv"] = out_csv
    return result


def attach_metrics(result: dict, real, holdout, kinds, target, max_sets) -> dict:
    if result.get("status") != "ok":
        return result
    synthetic = pd.read_csv(result.pop("synthetic_csv"))
    try:
        result.update(evaluate(real, synthetic, holdout, kinds, target, max_sets=max_sets))
    except Exception as exc:   # an unusable synthetic table is a result too
        result.update(status="eval_error", error=f"{type(exc).__name__}: {exc}"[:500])
    return result


def reference(table_name, real, holdout, kinds, target, max_sets) -> dict:
    shuffled = independent_columns(real)
    return {"table": table_name, "epsilon": None, "generator": "independent-columns (no DP)", "side": "reference",
            "status": "ok"} | evaluate(real, shuffled, holdout, kinds, target, max_sets=max_sets)


# --------------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------------

def _f(x, nd=3):
    return "-" if x is None else (f"{x:.{nd}f}" if isinstance(x, float) else str(x))


def print_table(results: list[dict]) -> None:
    head = f"{'table':<16}{'eps':>5} {'generator':<28}{'status':<9}{'wall_s':>8}{'peak_MB':>9}" \
           f"{'tvd1':>7}{'tvd2':>7}{'tvd3':>7}{'auc':>7}{'auc_real':>9}"
    print("\n" + head + "\n" + "-" * len(head))
    for r in results:
        print(f"{r['table']:<16}{_f(r['epsilon'], 0) if r['epsilon'] is not None else '-':>5} "
              f"{r['generator']:<28}{r['status']:<9}{_f(r.get('wall_s'), 1):>8}{_f(r.get('peak_rss_mb'), 0):>9}"
              f"{_f(r.get('tvd1')):>7}{_f(r.get('tvd2')):>7}{_f(r.get('tvd3')):>7}{_f(r.get('auc')):>7}"
              f"{_f(r.get('auc_real')):>9}")
        if r["status"] not in ("ok",):
            print(f"{'':<22}-> {r.get('error', '')[:110]}")


def ratios(results: list[dict]) -> list[dict]:
    """our/peer ratios per (table, epsilon): against the like-for-like peer and against the best marginal peer."""
    out = []
    by_case: dict = {}
    for r in results:
        by_case.setdefault((r["table"], r["epsilon"]), {})[r["generator"]] = r
    for (table, eps), rs in by_case.items():
        if eps is None:
            continue
        ok_peers = {g: r for g, r in rs.items() if r["side"] == "peer" and r["status"] == "ok"}
        marginal = {g: r for g, r in ok_peers.items() if g in ("sn-mst", "sn-aim") and r.get("tvd2") is not None}
        best = min(marginal, key=lambda g: marginal[g]["tvd2"]) if marginal else None
        for g, r in rs.items():
            if r["side"] != "ours" or r["status"] != "ok":
                continue
            pairs = [("counterpart", COUNTERPART.get(g))]
            if best is not None and best != COUNTERPART.get(g):
                pairs.append(("best_marginal_peer", best))
            for label, peer in pairs:
                if peer is None or peer not in rs:
                    continue
                p = rs[peer]
                row = {"table": table, "epsilon": eps, "ours": g, "peer": peer, "vs": label,
                       "peer_status": p["status"]}
                if p["status"] == "ok":
                    for k in ("tvd1", "tvd2", "tvd3"):
                        if r.get(k) is not None and p.get(k):
                            row[f"{k}_ratio"] = round(r[k] / p[k], 3)
                    if r.get("auc") is not None and p.get("auc") is not None:
                        row["auc_diff"] = round(r["auc"] - p["auc"], 4)
                row["wall_ratio"] = round(r["wall_s"] / p["wall_s"], 4)
                if p["status"] == "timeout":
                    row["note"] = f"peer timed out at {p['wall_s']:.0f} s: the true ratio is lower"
                row["peak_mem_ratio"] = round(r["peak_rss_mb"] / p["peak_rss_mb"], 3)
                out.append(row)
    return out


def print_ratios(rows: list[dict]) -> None:
    if not rows:
        return
    head = f"{'table':<16}{'eps':>5} {'ours':<10}{'peer':<12}{'tvd1 o/p':>9}{'tvd2 o/p':>9}{'tvd3 o/p':>9}" \
           f"{'auc o-p':>9}{'wall o/p':>10}{'mem o/p':>9}"
    print("\nour/peer ratios (< 1 is better for ours; auc o-p > 0 is better for ours)\n" + head + "\n" + "-" * len(head))
    for r in rows:
        print(f"{r['table']:<16}{r['epsilon']:>5g} {r['ours']:<10}{r['peer']:<12}{_f(r.get('tvd1_ratio'), 2):>9}"
              f"{_f(r.get('tvd2_ratio'), 2):>9}{_f(r.get('tvd3_ratio'), 2):>9}{_f(r.get('auc_diff'), 3):>9}"
              f"{_f(r.get('wall_ratio'), 3):>10}{_f(r.get('peak_mem_ratio'), 2):>9}"
              + (f"  ({r['note']})" if r.get("note") else "") + ("" if r["peer_status"] == "ok" and not r.get("note")
                                                                 else f"  [peer {r['peer_status']}]"))


# --------------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tables", default="nassCDS,HealthInsurance")
    p.add_argument("--epsilons", default="1,10")
    p.add_argument("--generators", default=None,
                   help="comma list of ours (mst, aim, copula, dp-ctgan, dp-tvae) and peers (sn-mst, sn-aim, "
                        "sn-dpctgan); default: every one available here")
    p.add_argument("--quick", action="store_true",
                   help="tables subsampled to 3,000 train rows, epsilon 1, marginal generators and sn-mst only, "
                        "wide case with 50 columns")
    p.add_argument("--no-peers", action="store_true", help="skip SmartNoise (no peers venv needed)")
    p.add_argument("--peer-timeout", type=float, default=300.0, help="wall-clock cap per peer run, seconds")
    p.add_argument("--timeout", type=float, default=600.0, help="wall-clock cap per run of ours, seconds")
    p.add_argument("--no-wide", action="store_true", help="skip the wide-table copula case")
    p.add_argument("--wide-columns", type=int, default=200)
    p.add_argument("--deep-options", type=json.loads, default={},
                   help='JSON options for our deep generators, e.g. \'{"epochs": 5}\'')
    p.add_argument("--out", default=None, help="results JSON path (default bench/results/bench-<UTC time>.json)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    epsilons = [1.0] if args.quick else [float(e) for e in args.epsilons.split(",")]
    ours = our_generators()
    peers = [] if args.no_peers else list(PEERS)
    if args.generators:
        wanted = [g.strip() for g in args.generators.split(",") if g.strip()]
        unknown = [g for g in wanted if g not in OURS and g not in PEERS]
        if unknown:
            raise SystemExit(f"unknown generator(s) {unknown}; use {list(OURS) + list(PEERS)}")
        missing = [g for g in wanted if g in OURS and g not in ours]
        if missing:
            print(f"note: {missing} not available in this checkout; skipped")
        ours = [g for g in wanted if g in ours]
        peers = [g for g in wanted if g in PEERS and not args.no_peers]
    elif args.quick:
        ours = [g for g in ours if not g.startswith("dp-")]
        peers = [g for g in peers if g == "sn-mst"]
    if peers and not peers_ready():   # a fresh clone: build the peers venv (PyPI only; a few minutes)
        subprocess.run(["bash", str(HERE / "peers" / "setup.sh")], check=False)
    if peers and not peers_ready():
        print(f"note: {PEER_PYTHON} could not be created (see bench/peers/setup.sh); peers skipped")
        peers = []
    meta = {"started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "git_commit": _git_commit(), "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                                                     "python": platform.python_version()},
            "delta": DELTA, "seed": SEED, "quick": args.quick, "epsilons": epsilons, "ours": ours, "peers": peers,
            "peer_timeout_s": args.peer_timeout, "timeout_s": args.timeout,
            "evaluator": "dpsynth_core.evaluation (prepare, mean_marginal_tvd, train_synthetic_test_real)",
            "peer_info": "smartnoise-synth 1.0.8: categorical columns as LabelTransformer (category lists read off "
                         "the data), numeric columns with the bench spec's public bounds (BinTransformer bins=10 "
                         "for mst/aim, MinMaxTransformer for dpctgan), preprocessor_eps=0, same delta; "
                         "ours: the same categories declared public, the same bounds declared public"}
    results: list[dict] = []
    out = Path(args.out) if args.out else HERE / "results" / f"bench-{meta['started'].replace(':', '')[:17]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)

    def save(final: bool = False) -> None:   # after every case, so a long run that is cut short keeps its results
        done = [r for r in results if "synthetic_csv" not in r]
        out.write_text(json.dumps({"meta": meta | {"complete": final}, "results": done, "ratios": ratios(done)},
                                  indent=1, default=str))

    with tempfile.TemporaryDirectory(prefix="dpsynth-bench-") as tmp:
        workdir = Path(tmp)
        for name in [t.strip() for t in args.tables.split(",") if t.strip()]:
            table = TABLES[name]
            train, holdout = split(load(table))
            if args.quick:
                train = train.sample(n=min(3000, len(train)), random_state=0).reset_index(drop=True)
            train_csv = workdir / f"{name}-train.csv"
            train.to_csv(train_csv, index=False)
            kinds = table.evaluation_kinds()
            print(f"{name}: {len(train)} train rows, {len(holdout)} holdout rows, target {table.target}")
            results.append(reference(name, train, holdout, kinds, table.target, None))
            for eps in epsilons:
                for g in ours + peers:
                    r = run_case(workdir, name, train_csv, list(train.columns), table.spec,
                                 table.peer_columns(train.columns), len(train), eps, g, args, table.target)
                    results.append(attach_metrics(r, train, holdout, kinds, table.target, None))
                    save()
        if not args.no_wide and "copula" in ours:
            results += wide_case(workdir, args, epsilons)
    meta["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    save(final=True)
    print_table(results)
    print_ratios(ratios(results))
    print(f"\nresults: {out}")
    return 0


def wide_case(workdir: Path, args, epsilons) -> list[dict]:
    """Copula on a wide table built from the real ones (speed target: under a minute for 200 columns)."""
    n_cols = 50 if args.quick else args.wide_columns
    nass_train, _ = split(load(TABLES["nassCDS"]))
    health = load(TABLES["HealthInsurance"])
    frame, spec, kinds = wide_table(nass_train, health, n_cols)
    if args.quick:
        frame = frame.sample(n=3000, random_state=0).reset_index(drop=True)
    name = f"wide{n_cols}"
    train_csv = workdir / f"{name}-train.csv"
    frame.to_csv(train_csv, index=False)
    print(f"{name}: {len(frame)} rows x {frame.shape[1]} columns (nassCDS train + HealthInsurance, replicated)")
    out = [reference(name, frame, None, kinds, None, 300) | {"note": "1/2/3-way TVD on 300 column sets"}]
    for eps in epsilons:
        r = run_case(workdir, name, train_csv, list(frame.columns), spec, [], len(frame), eps, "copula", args, None)
        out.append(attach_metrics(r, frame, None, kinds, None, 300))
    return out


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
