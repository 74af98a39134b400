"""Utility (when a holdout was evaluated): every utility metric beside what a second real sample (the holdout)
achieves, per-column distributions worst first, the 2-way TVD heatmap, the dependence matrices side by side, TSTR
against train-on-real, subgroup fidelity and rare categories."""

from __future__ import annotations

from ..document import Bullets, Facts, Figure, Heading, Row, Section, Table, Text
from ..numbers import num
from ..svg import REAL, SYNTHETIC
from .common import NON_DP_WARNING, fact, gate_text, where_written

MAX_COLUMN_PLOTS = 24

# What "the same metric for the holdout" is, per metric (None: no holdout counterpart)
_HOLDOUT_COUNTERPART = {
    "marginal_tvd_1way": "holdout_baseline", "marginal_tvd_2way": "holdout_baseline",
    "marginal_tvd_3way": "holdout_baseline", "dependence_diff": "holdout_baseline",
}


def _metric_table(evidence) -> Table:
    rows = []
    for m in evidence.metrics:
        if m.get("kind") != "utility":
            continue
        detail = evidence.metric_detail(m["metric"])
        key = _HOLDOUT_COUNTERPART.get(m["metric"])
        holdout = num(detail.get(key)) if key and detail.get(key) is not None else "—"
        if m["metric"] == "tstr_auc_gap":
            holdout = f"AUC train-on-real {num(detail.get('auc_real'))} vs train-on-synthetic " \
                      f"{num(detail.get('auc_synthetic'))}"
        rows.append((m["metric"], num(m.get("value")), holdout, num(m.get("threshold")), gate_text(m.get("passed"))))
    return Table(("metric", "synthetic vs train", "holdout vs train (a second real sample)", "threshold", "gate"),
                 tuple(rows), "Lower is better for every distance; the holdout column is the sampling noise a fresh "
                              "real sample of the same population shows, so the gap to it is what the generator lost.")


def _column_plots(details) -> list:
    columns = list(details.get("columns") or [])[:MAX_COLUMN_PLOTS]
    if not columns:
        return []
    figures = tuple(Figure("histogram",
                           f"{c['column']}: TVD {num(c.get('tvd'), 3)} (holdout {num(c.get('tvd_holdout'), 3)})",
                           {"title": c["column"], "bins": c["bins"],
                            "series": {"real": c.get("real"), "holdout": c.get("holdout"),
                                       "synthetic": c.get("synthetic")}})
                    for c in columns)
    return [Heading("Per-column distributions, worst first"),
            Text("Share of rows per bin: real training rows (blue), holdout (grey), synthetic (orange); the title "
                 "gives the column's 1-way TVD against the training rows, and the holdout's for comparison."),
            Row(figures)]


def _matrices(details) -> list:
    blocks: list = []
    tvd = details.get("tvd_2way")
    if tvd and tvd.get("synthetic") is not None:
        values = [v for m in (tvd.get("synthetic"), tvd.get("holdout")) if m for row in m for v in row if v is not None]
        top = max(values + [1e-9])
        figs = [Figure("heatmap", "2-way TVD, synthetic vs train", {"title": "2-way TVD synthetic", "labels":
                       tvd["columns"], "matrix": tvd["synthetic"], "vmin": 0.0, "vmax": top})]
        if tvd.get("holdout") is not None:
            figs.append(Figure("heatmap", "2-way TVD, holdout vs train", {"title": "2-way TVD holdout", "labels":
                               tvd["columns"], "matrix": tvd["holdout"], "vmin": 0.0, "vmax": top}))
        blocks += [Heading("2-way marginal TVD"), Row(tuple(figs)),
                   Text("Each cell is the total variation distance of one pair's joint histogram (same colour scale "
                        "on both sides).")]
    dep = details.get("dependence")
    if dep and dep.get("real") is not None:
        figs = [Figure("heatmap", f"{which}", {"title": f"dependence {which}", "labels": dep["columns"],
                                               "matrix": dep[which], "vmin": -1.0, "vmax": 1.0, "diverging": True})
                for which in ("real", "synthetic", "holdout") if dep.get(which) is not None]
        blocks += [Heading("Correlation and Cramér's V"), Row(tuple(figs)),
                   Text(f"{dep.get('rule')}; real = training rows.")]
    return blocks


def _tstr_subgroup_rare(evidence) -> list:
    blocks: list = []
    tstr = evidence.metric("tstr_auc_gap")
    if tstr is not None:
        d = evidence.metric_detail("tstr_auc_gap")
        blocks += [Heading("Train on synthetic, test on real (TSTR)"),
                   Figure("bars", f"AUC on the holdout, target {d.get('target')}", {
                       "title": "TSTR", "labels": ["trained on real (train rows)", "trained on synthetic"],
                       "values": [d.get("auc_real") or 0.0, d.get("auc_synthetic") or 0.0], "max": 1.0,
                       "colours": [REAL, SYNTHETIC]},
                       f"Gap {num(tstr.get('value'))} (threshold {num(tstr.get('threshold'))}); both models are "
                       f"scored on the holdout.")]
    sub = evidence.metric("subgroup_tvd")
    if sub is not None:
        d = evidence.metric_detail("subgroup_tvd")
        levels = d.get("levels") or {}
        blocks += [Heading("Subgroup fidelity"),
                   Figure("bars", f"Mean 1-way TVD within each level of {d.get('by')}", {
                       "title": "subgroup fidelity", "labels": list(levels), "values": list(levels.values()),
                       "colours": [SYNTHETIC] * len(levels)},
                       f"Metric value {num(sub.get('value'))} (threshold {num(sub.get('threshold'))}).")]
    rare = evidence.metric("rare_category_miss_rate")
    if rare is not None:
        d = evidence.metric_detail("rare_category_miss_rate")
        blocks += [Heading("Rare categories"), Facts((
            fact("rare categories in the training rows", d.get("n_rare")),
            fact("of them present in the synthetic table", d.get("n_present")),
            fact("miss rate", rare.get("value")))),
            Text("DP domain discovery drops categories whose noisy count does not clear its threshold, by design: "
                 "their rows are pooled (re-spread over the released categories by default, or one explicit other "
                 "bucket with other_label), never turned into nulls.", "note")]
        if d.get("missing"):
            blocks.append(Bullets(tuple(str(x) for x in d["missing"]), "Missing (real values, sensitive)"))
    return blocks


def build(evidence) -> Section:
    if not evidence.evaluated:
        held = (evidence.record.get("holdout") or {}).get("used")
        why = ("a holdout was kept but no metrics were stored for this release" if held
               else "the release kept no holdout (set `holdout:` to evaluate)")
        return Section("utility", "Utility", (Text(f"Not evaluated: {why}."),))
    blocks: list = [Text(NON_DP_WARNING + " " + where_written(evidence), "warning"), _metric_table(evidence)]
    details = evidence.details or {}
    if not details:
        blocks.append(Text("No evaluation details were stored with the metrics: distribution plots and matrices are "
                           "not available.", "note"))
    blocks += _column_plots(details) + _matrices(details) + _tstr_subgroup_rare(evidence)
    return Section("utility", "Utility", tuple(blocks))


