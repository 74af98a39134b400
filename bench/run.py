"""Side-by-side benchmark: our DP generators against the private-pgm authors' MST/AIM (`mbi` 2.0) and OpenDP
SmartNoise Synth, one split, one evaluator, and the value-fidelity targets of issue 11.

    python bench/run.py                  # everything available: 7 tables, eps 1 and 10, targets, wide case, scale
    python bench/run.py --quick          # minutes: 3,000-row samples, eps 1, mst/aim/copula vs mbi-mst, 2 seeds
    python bench/run.py --tables CreditCard --epsilons 1 --generators aim,mbi-mst --seeds 3 --no-wide --no-scale
    python bench/run.py --spec codebook --tables nassCDS,HealthInsurance --generators mst,aim,sn-mst,sn-aim
    python bench/run.py --scale-only --scale-rows 1000000

Spec modes. `--spec user` (default): each table gets what a user declares by following the README (identifiers,
numeric codes as categorical; bench/tables.py) and every other domain is DP-discovered inside our release. The
peers then model the same public domain: the one our default generator released for that table and epsilon (the
train rows coded on it, the peers' codes decoded back with our decoder; bench/domain_codes.py). `--spec codebook`
(nassCDS, HealthInsurance): codebook categories and bounds declared public for ours and given to SmartNoise as
before; mbi still models our release's domain.

Every generator runs in its own child process (ours with this interpreter, SmartNoise with
bench/.venv-peers/bin/python, mbi with bench/.venv-mbi/bin/python; both made by bench/peers/setup.sh), so wall time
(spawn to exit) and peak memory (the child's ru_maxrss from wait4) are measured the same way for all, under the same
wall-clock cap mechanism. A child over its cap is killed and recorded as a timeout; an error is recorded with its last
message. Nothing is hidden or retried. Results: printed tables (results, our/peer ratios, targets PASS/FAIL) and JSON
under bench/results/.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import targets as target_checks  # noqa: E402
from child import run_child  # noqa: E402
from domain_codes import decode, encode, load_domain  # noqa: E402
from evaluator import evaluate  # noqa: E402
from tables import CODEBOOK_TABLES, TABLES, independent_columns, load, load_with_source, split, wide_table  # noqa: E402

# peer name -> (venv family, synthesizer)
PEERS = {"mbi-mst": ("mbi", "mst"), "mbi-aim": ("mbi", "aim"),
         "sn-mst": ("smartnoise", "mst"), "sn-aim": ("smartnoise", "aim"), "sn-dpctgan": ("smartnoise", "dpctgan")}
MARGINAL_PEERS = ("mbi-mst", "mbi-aim", "sn-mst", "sn-aim")
OURS = ("mst", "aim", "copula", "dp-ctgan", "dp-tvae")
# our generator -> its like-for-like peers (ratios are also given against the best marginal peer)
COUNTERPART = {"mst": ("mbi-mst", "sn-mst"), "aim": ("mbi-aim", "sn-aim"), "copula": (),
               "dp-ctgan": ("sn-dpctgan",), "dp-tvae": ("sn-dpctgan",)}
PEER_PYTHON = {"smartnoise": HERE / ".venv-peers" / "bin" / "python", "mbi": HERE / ".venv-mbi" / "bin" / "python"}
PEER_RUNNER = {"smartnoise": HERE / "peers" / "runner.py", "mbi": HERE / "peers" / "mbi_runner.py"}
DELTA = 1e-6
SEED = 0
TARGET_EPSILON = 1.0


def default_generator() -> str:
    from dpsynth_core.config import SynthesisConfig

    return SynthesisConfig(epsilon=1.0).generator


# --------------------------------------------------------------------------------------------------------------------
# Which generators exist here
# --------------------------------------------------------------------------------------------------------------------

def our_generators() -> list[str]:
    from dpsynth_core.generators.base import available_generators

    names = set(available_generators())
    out = []
    for g in OURS:
        if g not in names:
            continue
        if g == "aim" and importlib.util.find_spec("dpsynth_core.generators.aim") is None:
            continue   # listed in the registry before its module landed
        out.append(g)
    return out


def ready_peers(peers: list[str]) -> list[str]:
    """Build the venvs the requested peers need (PyPI only; minutes) and keep the peers whose venv exists."""
    families = sorted({PEERS[p][0] for p in peers if not PEER_PYTHON[PEERS[p][0]].exists()})
    if families:
        subprocess.run(["bash", str(HERE / "peers" / "setup.sh"), *families], check=False)
    missing = sorted({PEERS[p][0] for p in peers if not PEER_PYTHON[PEERS[p][0]].exists()})
    for family in missing:
        print(f"note: {PEER_PYTHON[family]} could not be created (see bench/peers/setup.sh); {family} peers skipped")
    return [p for p in peers if PEERS[p][0] not in missing]


# --------------------------------------------------------------------------------------------------------------------
# One table at one epsilon
# --------------------------------------------------------------------------------------------------------------------

class Case:
    """One table at one epsilon: its train/holdout rows, spec, kinds and the files its runs share."""

    def __init__(self, workdir: Path, name: str, table, train: pd.DataFrame, holdout: pd.DataFrame | None,
                 train_csv: Path, spec: dict, kinds: dict, epsilon: float, args):
        self.workdir, self.name, self.table, self.train, self.holdout = workdir, name, table, train, holdout
        self.train_csv, self.spec, self.kinds, self.epsilon, self.args = train_csv, spec, kinds, epsilon, args
        self.domain_path: Path | None = None      # the public domain of our default generator's release
        self._coded: tuple[Path, Path] | None = None

    def tag(self, generator: str, seed: int = SEED) -> str:
        return f"{self.name}-eps{self.epsilon:g}-{generator}" + (f"-seed{seed}" if seed != SEED else "")

    def run_ours(self, generator: str, seed: int = SEED, export_domain: bool = False) -> tuple[dict, Path | None]:
        tag = self.tag(generator, seed)
        out_csv = self.workdir / f"{tag}.csv"
        options = dict(self.args.deep_options) if generator.startswith("dp-") else {}
        cfg = {"train_csv": str(self.train_csv), "out_csv": str(out_csv), "generator": generator,
               "epsilon": self.epsilon, "delta": DELTA, "rows": len(self.train), "seed": seed, "spec": self.spec,
               "options": options, "table": self.name, "target": self.table.target if self.table else None,
               "export_domain": export_domain}
        result = self._run(tag, cfg, [sys.executable, str(HERE / "ours_runner.py")], self.args.timeout, generator,
                           "ours", options)
        if result["status"] == "ok" and export_domain and Path(str(out_csv) + ".domain.json").exists():
            self.domain_path = Path(str(out_csv) + ".domain.json")
        return result, (out_csv if result["status"] == "ok" else None)

    def coded_train(self) -> tuple[Path, Path]:
        """The train rows coded on our release's domain: (.npy of codes, .csv of the same codes)."""
        if self._coded is None:
            codes = encode(load_domain(self.domain_path), self.train)
            npy, csv = self.workdir / f"{self.tag('codes')}.npy", self.workdir / f"{self.tag('codes')}.csv"
            np.save(npy, codes, allow_pickle=False)
            pd.DataFrame(codes, columns=list(load_domain(self.domain_path).attrs)).to_csv(csv, index=False)
            self._coded = (npy, csv)
        return self._coded

    def run_peer(self, peer: str) -> tuple[dict, pd.DataFrame | None]:
        family, synth = PEERS[peer]
        tag = self.tag(peer)
        on_domain = family == "mbi" or self.args.spec == "user"
        if on_domain and self.domain_path is None:
            return ({"table": self.name, "epsilon": self.epsilon, "generator": peer, "side": "peer",
                     "status": "skipped", "error": "no released domain to model (our default generator's run at "
                                                   "this epsilon failed or was not selected)"}, None)
        options = dict(self.args.peer_options.get(peer, {}))
        if family == "mbi":
            npy, _ = self.coded_train()
            domain = load_domain(self.domain_path)
            out = self.workdir / f"{tag}.npy"
            cfg = {"codes_npy": str(npy), "out_npy": str(out), "attrs": list(domain.attrs),
                   "sizes": list(domain.shape), "mechanism": synth, "epsilon": self.epsilon, "delta": DELTA,
                   "rows": len(self.train), "options": options}
        else:
            out = self.workdir / f"{tag}.csv"
            if on_domain:
                _, csv = self.coded_train()
                columns = [{"name": a, "kind": "categorical", "nullable": False}
                           for a in load_domain(self.domain_path).attrs]
            else:
                csv, columns = self.train_csv, self.table.peer_columns(self.train.columns)
            cfg = {"train_csv": str(csv), "out_csv": str(out), "synth": synth, "epsilon": self.epsilon,
                   "delta": DELTA, "rows": len(self.train), "columns": columns, "options": options}
        result = self._run(tag, cfg, [str(PEER_PYTHON[family]), str(PEER_RUNNER[family])], self.args.peer_timeout,
                           peer, "peer", options)
        if result["status"] != "ok":
            return result, None
        try:
            if family == "mbi":
                synthetic = decode(load_domain(self.domain_path), np.load(out, allow_pickle=False), SEED)
            elif on_domain:
                domain = load_domain(self.domain_path)
                codes = pd.read_csv(out)[list(domain.attrs)].to_numpy(dtype=np.int64)
                synthetic = decode(domain, codes, SEED)
            else:
                synthetic = pd.read_csv(out)
        except Exception as exc:   # an unusable peer output is a result too
            return result | {"status": "decode_error", "error": f"{type(exc).__name__}: {exc}"[:500]}, None
        return result, synthetic

    def _run(self, tag: str, cfg: dict, cmd: list[str], timeout: float, generator: str, side: str,
             options: dict) -> dict:
        cfg_path = self.workdir / f"{tag}.json"
        cfg_path.write_text(json.dumps(cfg))
        print(f"  running {tag} ...", end=" ", flush=True)
        result = {"table": self.name, "epsilon": self.epsilon, "generator": generator, "side": side,
                  "options": options} | run_child(cmd + [str(cfg_path)], timeout, self.workdir / tag)
        print(result["status"], f"{result['wall_s']} s", flush=True)
        return result

    def metrics(self, result: dict, synthetic: pd.DataFrame | None, target: str | None, max_sets=None) -> dict:
        if result.get("status") != "ok" or synthetic is None:
            return result
        try:
            result.update(evaluate(self.train, synthetic, self.holdout, self.kinds, target, max_sets=max_sets))
        except Exception as exc:   # an unusable synthetic table is a result too
            result.update(status="eval_error", error=f"{type(exc).__name__}: {exc}"[:500])
        return result


def reference(table_name, real, holdout, kinds, target, max_sets) -> dict:
    shuffled = independent_columns(real)
    return {"table": table_name, "epsilon": None, "generator": "independent-columns (no DP)", "side": "reference",
            "status": "ok"} | evaluate(real, shuffled, holdout, kinds, target, max_sets=max_sets)


def run_targets(case: Case, main_csv: Path | None, main_result: dict, ref: dict, peer_results: list[dict],
                generator: str, n_seeds: int) -> tuple[dict, dict]:
    """Issue 11's targets for one table: per-seed value checks, the 2-way comparisons, the default gates."""
    train_strings = target_checks.read_strings(case.train_csv)
    per_seed, details = [], {}
    for seed in range(n_seeds):
        if seed == SEED:
            csv = main_csv
        else:
            _, csv = case.run_ours(generator, seed=seed)
        if csv is None:
            per_seed.append(None)
            continue
        checks = target_checks.value_checks(case.train, train_strings, pd.read_csv(csv),
                                            target_checks.read_strings(csv), case.kinds)
        per_seed.append(checks)
        details[f"seed{seed}"] = checks
    gates = None
    if main_csv is not None and case.holdout is not None:
        try:
            gates = target_checks.gate_check(case.train, case.holdout, pd.read_csv(main_csv), case.kinds,
                                             case.table.target)
        except Exception as exc:
            gates = {"passed": False, "failures": [{"metric": f"evaluation error: {type(exc).__name__}: {exc}"[:200],
                                                    "value": float("nan"), "threshold": None}]}
        details["gates"] = gates
    return target_checks.table_targets(per_seed, main_result, ref, peer_results, gates), details


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
    """our/peer ratios per (table, epsilon): against the like-for-like peers and against the best marginal peer."""
    out = []
    by_case: dict = {}
    for r in results:
        by_case.setdefault((r["table"], r["epsilon"]), {})[r["generator"]] = r
    for (table, eps), rs in by_case.items():
        if eps is None:
            continue
        marginal = {g: r for g, r in rs.items()
                    if g in MARGINAL_PEERS and r["status"] == "ok" and r.get("tvd2") is not None}
        best = min(marginal, key=lambda g: marginal[g]["tvd2"]) if marginal else None
        for g, r in rs.items():
            if r["side"] != "ours" or r["status"] != "ok":
                continue
            pairs = [("counterpart", p) for p in COUNTERPART.get(g, ())]
            if best is not None and best not in COUNTERPART.get(g, ()):
                pairs.append(("best_marginal_peer", best))
            for label, peer in pairs:
                if peer not in rs or "wall_s" not in rs[peer]:
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
    print("\nour/peer ratios (< 1 is better for ours; auc o-p > 0 is better for ours)")
    print(head + "\n" + "-" * len(head))
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
    p.add_argument("--tables", default=None, help=f"comma list of {list(TABLES)} (default: all for --spec user, "
                                                  f"{CODEBOOK_TABLES} for --spec codebook)")
    p.add_argument("--spec", choices=("user", "codebook"), default="user",
                   help="user: what the README tells a user to declare (default; the targets need it); codebook: "
                        "codebook categories and bounds declared public (nassCDS, HealthInsurance)")
    p.add_argument("--epsilons", default="1,10")
    p.add_argument("--generators", default=None,
                   help=f"comma list of ours {list(OURS)} and peers {list(PEERS)}; default: every one available here")
    p.add_argument("--seeds", type=int, default=5,
                   help="releases of the default generator at epsilon 1 per table for the per-seed targets")
    p.add_argument("--no-targets", action="store_true", help="skip the targets table (and its extra seeds, gates)")
    p.add_argument("--quick", action="store_true",
                   help="tables subsampled to 3,000 train rows, epsilon 1, marginal generators vs mbi-mst, 2 seeds, "
                        "wide case with 50 columns, no scale section")
    p.add_argument("--no-peers", action="store_true", help="skip every peer (no peer venvs needed)")
    p.add_argument("--peer-timeout", type=float, default=300.0, help="wall-clock cap per peer run, seconds")
    p.add_argument("--timeout", type=float, default=600.0, help="wall-clock cap per run of ours, seconds")
    p.add_argument("--no-wide", action="store_true", help="skip the wide-table copula case")
    p.add_argument("--wide-columns", type=int, default=200)
    p.add_argument("--deep-options", type=json.loads, default={},
                   help='JSON options for our deep generators, e.g. \'{"epochs": 5}\'')
    p.add_argument("--peer-options", type=json.loads, default={},
                   help='JSON {peer: options}, e.g. \'{"mbi-aim": {"max_iters": 200}}\' (default: the authors\' '
                        'settings)')
    p.add_argument("--no-scale", action="store_true", help="skip the scale section (bench/scale.py)")
    p.add_argument("--scale-only", action="store_true", help="run only the scale section")
    p.add_argument("--scale-rows", default=None, help="comma list of row counts for the scale section "
                                                      "(default 1000000,3000000,10000000)")
    p.add_argument("--out", default=None, help="results JSON path (default bench/results/bench-<UTC time>.json)")
    return p.parse_args(argv)


def select_generators(args) -> tuple[list[str], list[str]]:
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
        peers = [g for g in peers if g == "mbi-mst"]
    if args.spec == "user" and "sn-dpctgan" in peers:   # a GAN on bin codes is not a like-for-like peer
        print("note: sn-dpctgan runs only with --spec codebook; skipped")
        peers.remove("sn-dpctgan")
    return ours, ready_peers(peers) if peers else []


def scale_args(args) -> list[str]:
    return ["--rows", args.scale_rows] if args.scale_rows else []


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.scale_only:
        import scale

        return scale.main(scale_args(args))
    epsilons = [1.0] if args.quick else [float(e) for e in args.epsilons.split(",")]
    n_seeds = 2 if args.quick and args.seeds == 5 else max(args.seeds, 1)
    names = [t.strip() for t in (args.tables or ",".join(TABLES if args.spec == "user" else CODEBOOK_TABLES))
             .split(",") if t.strip()]
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise SystemExit(f"unknown table(s) {unknown}; use {list(TABLES)}")
    if args.spec == "codebook" and [n for n in names if n not in CODEBOOK_TABLES]:
        raise SystemExit(f"--spec codebook has codebooks for {CODEBOOK_TABLES} only")
    ours, peers = select_generators(args)
    default = default_generator()
    want_targets = not args.no_targets and args.spec == "user" and TARGET_EPSILON in epsilons and default in ours
    if not args.no_targets and not want_targets:
        print(f"note: targets skipped (they need --spec user, epsilon {TARGET_EPSILON:g} and the default generator "
              f"{default!r} among the generators)")
    meta = {"started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "git_commit": _git_commit(), "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                                                     "python": platform.python_version()},
            "delta": DELTA, "seed": SEED, "quick": args.quick, "spec": args.spec, "epsilons": epsilons, "ours": ours,
            "peers": peers, "default_generator": default, "target_seeds": n_seeds if want_targets else 0,
            "peer_timeout_s": args.peer_timeout, "timeout_s": args.timeout, "data_sources": {},
            "evaluator": "bench/evaluator.py: atom bins (each numeric value holding >= 10% of real train rows) + 10 "
                         "quantile bins of the rest, nulls their own bin; mean 1/2/3-way TVD; TSTR via "
                         "dpsynth_core.evaluation",
            "peer_info": {"mbi": "PyPI mbi 2.0.0 (private-pgm authors' estimation library); MST/AIM as in the "
                                 "authors' mechanisms/mst.py and aim.py (bench/peers/mbi_runner.py) on the train rows "
                                 "coded on our default generator's released domain, decoded with our decoder; "
                                 "full epsilon and delta to the mechanism",
                          "smartnoise": "smartnoise-synth 1.0.8; --spec user: on the same coded table (every "
                                        "attribute a LabelTransformer over its codes), decoded with our decoder; "
                                        "--spec codebook: codebook bounds (BinTransformer bins=10 for mst/aim, "
                                        "MinMaxTransformer for dpctgan), preprocessor_eps=0, same delta"}}
    results: list[dict] = []
    targets_by_table: dict[str, dict] = {}
    target_details: dict[str, dict] = {}
    out = Path(args.out) if args.out else HERE / "results" / f"bench-{meta['started'].replace(':', '')[:17]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)

    def save(final: bool = False) -> None:   # after every case, so a long run that is cut short keeps its results
        out.write_text(json.dumps({"meta": meta | {"complete": final}, "results": results, "ratios": ratios(results),
                                   "targets": targets_by_table, "target_details": target_details},
                                  indent=1, default=str))

    with tempfile.TemporaryDirectory(prefix="dpsynth-bench-") as tmp:
        workdir = Path(tmp)
        for name in names:
            table = TABLES[name]
            frame, source = load_with_source(table)
            meta["data_sources"][name] = source
            train, holdout = split(frame)
            if args.quick:
                train = train.sample(n=min(3000, len(train)), random_state=0).reset_index(drop=True)
            train_csv = workdir / f"{name}-train.csv"
            train.to_csv(train_csv, index=False)
            train = pd.read_csv(train_csv)   # what every generator reads
            kinds = table.evaluation_kinds(train)
            print(f"{name}: {len(train)} train rows, {len(holdout)} holdout rows, target {table.target} ({source})")
            ref = reference(name, train, holdout, kinds, table.target, None)
            results.append(ref)
            for eps in epsilons:
                case = Case(workdir, name, table, train, holdout, train_csv, table.spec(args.spec), kinds, eps, args)
                owner = default if default in ours else (ours[0] if ours else None)
                main_csv, main_result = None, None
                for g in ours:
                    r, csv = case.run_ours(g, export_domain=(g == owner))
                    synthetic = pd.read_csv(csv) if csv is not None else None
                    results.append(case.metrics(r, synthetic, table.target))
                    if g == default:
                        main_csv, main_result = csv, results[-1]
                    save()
                peer_results = []
                for peer in peers:
                    r, synthetic = case.run_peer(peer)
                    results.append(case.metrics(r, synthetic, table.target))
                    peer_results.append(results[-1])
                    save()
                if want_targets and eps == TARGET_EPSILON:
                    targets_by_table[name], target_details[name] = run_targets(
                        case, main_csv, main_result or {}, ref, peer_results, default, n_seeds)
                    save()
        if not args.no_wide and "copula" in ours:
            results.extend(wide_case(workdir, args, epsilons))
    meta["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    save(final=True)
    print_table(results)
    print_ratios(ratios(results))
    target_checks.print_targets(targets_by_table, default, TARGET_EPSILON, n_seeds)
    print(f"\nresults: {out}")
    if not args.quick and not args.no_scale:
        import scale

        scale.main(scale_args(args))
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
        case = Case(workdir, name, None, frame, None, train_csv, spec, kinds, eps, args)
        r, csv = case.run_ours("copula")
        out.append(case.metrics(r, pd.read_csv(csv) if csv is not None else None, None, max_sets=300))
    return out


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return None


if __name__ == "__main__":
    sys.exit(main())
