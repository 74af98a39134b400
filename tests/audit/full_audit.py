"""`make audit`: the full-size empirical privacy audit; prints its tables and writes docs/privacy_audit.md.

    python tests/audit/full_audit.py                     # full size (500 fits per world per marginal generator)
    python tests/audit/full_audit.py --scale 0.2         # the same plan with a fifth of the runs
    python tests/audit/full_audit.py --jobs 2            # two worker processes (each task applies its own mutation)

Runs: the real generators (threshold audits and DP-SGD one-run audits), the PrivateTable mechanism audits, and every
mutation of tests/audit/mutations.py with the audits that must flag it (tests/audit/audit_plan.py). Exit status 1 when a
real generator or mechanism is flagged, or a mutation that must be flagged is not.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import multiprocessing
import platform
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

from audit_plan import controls, mutation_checks, one_run_scenarios, real_scenarios  # noqa: E402
from mutations import mutation  # noqa: E402

from dpsynth_core.audit.harness import audit_one_run, audit_scenario, finite  # noqa: E402
from dpsynth_core.audit.mechanisms import audit_discovery, audit_measure, audit_selection  # noqa: E402

MECHANISMS = {"measure": audit_measure, "selection": audit_selection, "discovery": audit_discovery}
MARK_START, MARK_END = "<!-- figures:start -->", "<!-- figures:end -->"


# ------------------------------------------------------------------------------------------------------ tasks

def _scaled(scenario, scale: float):
    if hasattr(scenario, "canaries") or scale == 1:
        return scenario
    return dataclasses.replace(scenario, runs=max(10, int(round(scenario.runs * scale))))


def tasks(size: str, scale: float) -> list[dict]:
    """Every audit to run, as picklable task descriptions."""
    out = []
    for s in real_scenarios(size):
        out.append({"group": "control" if s in controls(size) else "real", "mutation": None,
                    "scenario": _scaled(s, scale), "must_flag": False})
    for s in one_run_scenarios(size):
        out.append({"group": "real", "mutation": None, "scenario": s, "must_flag": False})
    for name in MECHANISMS:
        out.append({"group": "mechanism", "mutation": None, "mechanism": name, "scale": scale, "must_flag": False})
    for check in mutation_checks(size):
        for s in check.scenarios + check.one_run:
            out.append({"group": "mutation", "mutation": check.mutation, "scenario": _scaled(s, scale),
                        "must_flag": s.name in check.must_flag})
        if check.mechanism:
            out.append({"group": "mutation", "mutation": check.mutation, "mechanism": check.mechanism,
                        "scale": scale, "must_flag": "mechanism" in check.must_flag})
    return out


def run_task(task: dict) -> dict:
    """Run one task under its mutation (None: the real code); returns a flat summary."""
    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    with mutation(task["mutation"]):
        if "mechanism" in task:
            draws = {"measure": 2000, "selection": 2000, "discovery": 200}[task["mechanism"]]
            result = MECHANISMS[task["mechanism"]](max(int(draws * max(task["scale"], 1.0)), 50))
            row = result.summary() | {"kind": "mechanism", "name": f"mechanism:{task['mechanism']}"}
        elif hasattr(task["scenario"], "canaries"):
            result = audit_one_run(task["scenario"])
            row = result.summary() | {"kind": "one_run", "name": task["scenario"].name}
        else:
            result = audit_scenario(task["scenario"])
            row = result.summary() | {"kind": "threshold", "name": task["scenario"].name}
    row |= {"group": task["group"], "mutation": task["mutation"], "must_flag": task["must_flag"],
            "seconds": time.perf_counter() - start}
    row["ok"] = row["flagged"] if task["must_flag"] else (not row["flagged"] or task["group"] == "mutation")
    return row


# ------------------------------------------------------------------------------------------------------ report

def _num(x) -> str:
    return finite(float(x)) if isinstance(x, (int, float)) else str(x)


def _verdict(row: dict) -> str:
    if row["group"] == "mutation":
        if row["must_flag"]:
            return "flagged (required)" if row["flagged"] else "**NOT FLAGGED** (required)"
        return "flagged" if row["flagged"] else "not flagged (expected: see text)"
    return "**VIOLATION**" if row["flagged"] else "pass"


def _mu(row: dict) -> str:
    if "mu_hat" not in row:
        return ""
    return f"{_num(row['mu_hat'])} ± {_num(row['mu_se'])} (claim {_num(row['mu_claimed'])})"


def tables(rows: list[dict]) -> str:
    lines = []
    threshold = [r for r in rows if r["kind"] == "threshold" and r["group"] != "mutation"]
    lines += ["### Generators: threshold audits on D and D + {canary}", "",
              "| scenario | generator | claimed ε | runs/world | ε_LB | score | TPR / FPR (bound half) "
              "| ceiling (all runs) | ceiling (bound half) | μ̂ ± SE (claim) | time (s) | verdict |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in threshold:
        lines.append(f"| {r['name']} | {r['generator']} | {_num(r['claimed_epsilon'])} | {r['runs_per_world']} "
                     f"| {_num(r['eps_lb'])} | {r['score']} | {_num(r['tpr'])} / {_num(r['fpr'])} "
                     f"| {_num(r['ceiling'])} | {_num(r['ceiling_split'])} | {_mu(r)} | {r['seconds']:.0f} "
                     f"| {_verdict(r)} |")
    one_run = [r for r in rows if r["kind"] == "one_run" and r["group"] != "mutation"]
    lines += ["", "### DP-SGD generators: one-run audits (one training run, many canaries)", "",
              "| scenario | generator | claimed ε | canaries (included) | guesses | correct | score | ε_LB "
              "| ceiling (all correct) | time (s) | verdict |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in one_run:
        lines.append(f"| {r['name']} | {r['generator']} | {_num(r['claimed_epsilon'])} | {r['canaries']} "
                     f"({r['included']}) | {r['guesses']} | {r['correct']} | {r['score']} | {_num(r['eps_lb'])} "
                     f"| {_num(r['ceiling'])} | {r['seconds']:.0f} | {_verdict(r)} |")
    mech = [r for r in rows if r["kind"] == "mechanism" and r["group"] != "mutation"]
    lines += ["", "### PrivateTable mechanisms against their own charge", "",
              "| mechanism | quantity | claimed (from the charge) | measured (lower bound) | draws/world | verdict |",
              "|---|---|---|---|---|---|"]
    for r in mech:
        lines.append(f"| {r['mechanism']} | {r['quantity']} | {_num(r['claimed'])} | {_num(r['measured'])} "
                     f"| {r['draws_per_world']} | {_verdict(r)} |")
    mutations = [r for r in rows if r["group"] == "mutation"]
    lines += ["", "### Mutations: each broken variant and the audits run on it", "",
              "| mutation | audit | runs/world or draws | claimed | measured (ε_LB, or μ lower bound) | ceiling "
              "| verdict |", "|---|---|---|---|---|---|---|"]
    for r in mutations:
        if r["kind"] == "mechanism":
            runs, claimed, measured, ceiling = r["draws_per_world"], r["claimed"], r["measured"], ""
            label = f"{r['quantity']} of {r['mechanism']}"
        elif r["kind"] == "one_run":
            runs, claimed, measured, ceiling = f"1 run, {r['canaries']} canaries", r["claimed_epsilon"], \
                r["eps_lb"], _num(r["ceiling"])
            label = f"one-run ε, {r['generator']}"
        else:
            runs, claimed, ceiling = r["runs_per_world"], r["claimed_epsilon"], _num(r["ceiling_split"])
            measured = r["eps_lb"]
            label = f"ε, {r['generator']} ({r['score']})"
            if "mu_hat" in r:
                label += f"; μ: {_mu(r)}"
                if r.get("mu_lower", 0) > r["mu_claimed"]:
                    claimed, measured, label = r["mu_claimed"], r["mu_lower"], f"μ, {r['generator']} ({_mu(r)})"
        lines.append(f"| {r['mutation']} | {label} | {runs} | {_num(claimed)} | {_num(measured)} | {ceiling} "
                     f"| {_verdict(r)} |")
    return "\n".join(lines)


def write_doc(path: Path, body: str, header: str) -> None:
    """Replace the figures block of the doc (between the markers); the prose around it is kept."""
    doc = path.read_text() if path.exists() else f"# Privacy audit\n\n{MARK_START}\n{MARK_END}\n"
    start, end = doc.index(MARK_START), doc.index(MARK_END)
    path.write_text(doc[:start + len(MARK_START)] + "\n" + header + "\n\n" + body + "\n" + doc[end:])


def repeat(todo: list[dict], times: int) -> int:
    """Flag counts of each task over `times` independent repetitions."""
    print("| audit | mutation | flagged | required | measured (min / median / max) | s per repetition |")
    print("|---|---|---|---|---|---|")
    for task in todo:
        rows = [run_task(task) for _ in range(times)]
        key = "measured" if rows[0]["kind"] == "mechanism" else "eps_lb"
        if "mu_lower" in rows[0] and task["mutation"] in (None, "half_sensitivity"):
            key = "mu_lower"
        values = sorted(float(r[key]) for r in rows)
        print(f"| {rows[0]['name']} ({key}) | {task['mutation'] or 'real'} | {sum(r['flagged'] for r in rows)}/{times} "
              f"| {'yes' if task['must_flag'] else 'no'} | {_num(values[0])} / {_num(values[len(values) // 2])} / "
              f"{_num(values[-1])} | {sum(r['seconds'] for r in rows) / times:.1f} |", flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("full", "ci"), default="full")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the runs per world (one-run unscaled)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (the machine is shared: keep low)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "privacy_audit.md"))
    parser.add_argument("--json", default=None, help="also write every row as JSON")
    parser.add_argument("--only", default=None, help="run only tasks whose name contains this")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each selected task this many times and print how often it was flagged "
                             "(catch rate of a mutation, false-alarm rate of the real code); writes no doc")
    args = parser.parse_args(argv)

    todo = tasks(args.size, args.scale)
    if args.only:
        todo = [t for t in todo if args.only in (t.get("scenario").name if "scenario" in t else t["mechanism"])]
    if args.repeat > 1:
        return repeat(todo, args.repeat)
    start = time.perf_counter()
    if args.jobs > 1:
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            rows = pool.map(run_task, todo, chunksize=1)
    else:
        rows = []
        for task in todo:
            rows.append(run_task(task))
            r = rows[-1]
            print(f"[{time.perf_counter() - start:7.0f}s] {r['name']:<32} {r['mutation'] or 'real':<20} "
                  f"{_verdict(r)}", flush=True)
    elapsed = time.perf_counter() - start
    body = tables(rows)
    command = "python tests/audit/full_audit.py " + " ".join(argv if argv is not None else sys.argv[1:])
    header = (f"Run {dt.date.today().isoformat()}: `{command.strip()}` (size {args.size}, scale {args.scale}, "
              f"{args.jobs} process(es)) on {platform.machine()} / Python {platform.python_version()}: "
              f"{len(rows)} audits in {elapsed / 60:.1f} min.")
    print(body)
    if args.out:
        write_doc(Path(args.out), body, header)
        print(f"wrote {args.out}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    bad = [r["name"] + (f" under {r['mutation']}" if r["mutation"] else "") for r in rows if not r["ok"]]
    if bad:
        print("AUDIT FAILED: " + ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
