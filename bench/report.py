"""Render a bench/results/*.json file as Markdown tables (for docs/benchmarks.md).

Usage: python bench/report.py bench/results/FILE.json   (a bench-*.json or a scale-*.json file)
"""

from __future__ import annotations

import json
import sys


def _f(x, nd=3):
    return "–" if x is None else (f"{x:.{nd}f}" if isinstance(x, float) else str(x))


def markdown(doc: dict) -> str:
    meta = doc["meta"]
    lines = [f"Run {meta['started']} → {meta.get('finished', '?')} (commit `{(meta.get('git_commit') or '?')[:7]}`), "
             f"{meta['machine']['cpus']} CPUs, Python {meta['machine']['python']}, delta {meta['delta']}, "
             f"peer cap {meta['peer_timeout_s']:.0f} s{'' if meta.get('complete', True) else ' (INCOMPLETE run)'}.",
             "",
             "| table | eps | generator | status | wall s | peak MB | TVD 1-way | TVD 2-way | TVD 3-way | TSTR AUC | "
             "train-on-real AUC |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in doc["results"]:
        status = r["status"] if r["status"] == "ok" else f"**{r['status']}**"
        lines.append(f"| {r['table']} | {_f(r['epsilon'], 0) if r['epsilon'] is not None else '–'} | "
                     f"{r['generator']} | {status} | {_f(r.get('wall_s'), 1)} | {_f(r.get('peak_rss_mb'), 0)} | "
                     f"{_f(r.get('tvd1'))} | {_f(r.get('tvd2'))} | {_f(r.get('tvd3'))} | {_f(r.get('auc'))} | "
                     f"{_f(r.get('auc_real'))} |")
    errors = [r for r in doc["results"] if r["status"] != "ok"]
    if errors:
        lines += ["", "Failures and timeouts (recorded as results):", ""]
        lines += [f"- {r['table']} eps {_f(r['epsilon'], 0)} {r['generator']}: {r['status']} — {r.get('error', '')}"
                  for r in errors]
    if doc.get("ratios"):
        lines += ["", "our/peer ratios (< 1 favours ours; AUC difference > 0 favours ours; a peer timeout makes the "
                      "wall ratio an upper bound):", "",
                  "| table | eps | ours | peer | TVD1 o/p | TVD2 o/p | TVD3 o/p | AUC o−p | wall o/p | peak mem o/p |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in doc["ratios"]:
            peer = r["peer"] + ("" if r["peer_status"] == "ok" else f" ({r['peer_status']})")
            lines.append(f"| {r['table']} | {r['epsilon']:g} | {r['ours']} | {peer} | {_f(r.get('tvd1_ratio'), 2)} | "
                         f"{_f(r.get('tvd2_ratio'), 2)} | {_f(r.get('tvd3_ratio'), 2)} | {_f(r.get('auc_diff'))} | "
                         f"{_f(r.get('wall_ratio'), 3)} | {_f(r.get('peak_mem_ratio'), 2)} |")
    if doc.get("targets"):
        generator = meta.get("default_generator", "aim")
        lines += ["", f"Targets (issue 11): default generator `{generator}`, epsilon 1, user spec, "
                      f"{meta.get('target_seeds', '?')} seed(s):", "",
                  "| table | target | status | value |", "|---|---|---|---|"]
        for table, targets in doc["targets"].items():
            for name, t in targets.items():
                status = t["status"] if t["status"] != "FAIL" else "**FAIL**"
                lines.append(f"| {table} | {name} | {status} | {t['value'].replace('|', '/')} |")
    return "\n".join(lines)


def scale_markdown(doc: dict) -> str:
    """A bench/results/scale-*.json file (bench/scale.py) as a Markdown table."""
    meta = doc["meta"]
    lines = [f"Scale run {meta['started']} → {meta.get('finished', '?')}, {meta['machine']['cpus']} CPUs, "
             f"epsilon {meta['epsilon']}, spec {{}}, source {meta['source']}.", "",
             "| engine | generator | rows | status | wall s | s per 1M rows | peak RSS MB |",
             "|---|---|---|---|---|---|---|"]
    for r in doc["results"]:
        wall = r.get("wall_s")
        per_m = None if wall is None else wall / (r["rows"] / 1e6)
        lines.append(f"| {r['engine']} | {r['generator']} | {r['rows']:,} | {r['status']} | {_f(wall, 1)} | "
                     f"{_f(per_m, 1)} | {_f(r.get('peak_rss_mb'), 0)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    doc = json.load(open(sys.argv[1]))
    print(scale_markdown(doc) if "source" in doc.get("meta", {}) else markdown(doc))
