"""Privacy evaluation: exact copies, DCR share, NNDR, membership-inference AUC against the DP bound, singling-out /
linkability / attribute-inference risks, each with its interval and gate outcome. Empirical and NOT DP: marked so."""

from __future__ import annotations

from ..document import Figure, Heading, Section, Table, Text
from ..numbers import membership_auc_bound, num
from ..svg import HOLDOUT, SYNTHETIC
from .common import NON_DP_WARNING, f, gate_text, where_written

# metric -> (label, what a generator that did not memorise its training rows scores)
METRICS = {
    "exact_copy_rate": ("exact copies of training rows", "the holdout's own copy rate against train"),
    "dcr_share": ("DCR: share closer to train than to holdout", "0.5"),
    "nndr_below_holdout_p05": ("NNDR below the holdout's 5th percentile", "0.05"),
    "membership_auc_distance": ("membership AUC (distance attack)", "0.5"),
    "membership_auc_density": ("membership AUC (density-ratio attack)", "0.5"),
    "singling_out_risk": ("singling-out risk", "0"),
    "linkability_risk": ("linkability risk", "0"),
    "attribute_inference_risk": ("attribute-inference risk", "0"),
}
_MEMBERSHIP = ("membership_auc_distance", "membership_auc_density")


def _interval(detail) -> tuple[float | None, float | None]:
    ci = detail.get("ci95")
    if isinstance(ci, (list, tuple)) and len(ci) == 2:
        return f(ci[0]), f(ci[1])
    return None, None


def build(evidence) -> Section:
    title = "Privacy evaluation"
    if not evidence.evaluated:
        return Section("privacy_evaluation", title, (Text("Not evaluated: no metrics were stored for this release, so "
                                                          "there are no empirical privacy measurements."),))
    r = evidence.record
    eps, delta = f(r.get("epsilon_spent")) or 0.0, f(r.get("delta")) or 0.0
    bound = membership_auc_bound(eps, delta)
    blocks: list = [Text(NON_DP_WARNING + " " + where_written(evidence), "warning")]
    rows, plot_rows = [], []
    for m in evidence.metrics:
        if m.get("kind") != "privacy":
            continue
        name = m["metric"]
        detail = evidence.metric_detail(name)
        label, ideal = METRICS.get(name, (name, "—"))
        lo, hi = _interval(detail)
        extra = []
        if name in _MEMBERSHIP:
            extra.append(f"DP bound {num(bound)}")
        if detail.get("not_significant"):
            extra.append("over threshold, but its 95% lower bound is not")
        if name == "exact_copy_rate" and detail.get("holdout_baseline") is not None:
            ideal = f"{num(detail['holdout_baseline'])} (holdout vs train)"
        rows.append((label, num(m.get("value")), f"[{num(lo)}, {num(hi)}]" if lo is not None else "—",
                     num(m.get("threshold")), gate_text(m.get("passed")), ideal, "; ".join(extra)))
        plot_rows.append({"label": label, "metric": name, "value": f(m.get("value")), "lo": lo, "hi": hi,
                          "threshold": f(m.get("threshold")), "passed": m.get("passed"),
                          "bound": bound if name in _MEMBERSHIP else None})
    blocks.append(Table(("measurement", "value", "95% interval", "threshold", "gate", "no-memorisation reference",
                         "note"), tuple(rows), "Gate outcomes are this project's release gates (docs/gates.md), not "
                                               "an assessment under any law."))
    blocks.append(Figure("intervals", "Measurements with 95% intervals", {
        "title": "privacy measurements", "rows": plot_rows, "min": 0.0, "max": 1.0},
        "Dot: measured value (green: gate passed, red: failed, grey: not gated); line: 95% interval; red tick: gate "
        "threshold; purple triangle: the largest membership-inference AUC the (epsilon, delta) guarantee allows."))
    members = [m for m in evidence.metrics if m.get("metric") in _MEMBERSHIP]
    if members:
        measured = ", ".join(f"{m['metric']} {num(m.get('value'))}" for m in members)
        blocks.append(Text(f"Membership inference: measured {measured}; the DP guarantee (ε = {num(eps)}, δ = "
                           f"{num(delta)}) caps the AUC of any attack at {num(bound)}. A measured AUC is one attack's "
                           f"score on one sample, a lower estimate of the risk, never a proof that it is small."))
    dcr = (evidence.details or {}).get("dcr")
    if dcr:
        edges = dcr["edges"]
        bins = [f"[{num(a, 3)}, {num(b, 3)})" for a, b in zip(edges[:-1], edges[1:], strict=True)]
        blocks += [Heading("Distance to closest record"), Figure("histogram", "Distance of synthetic rows to their "
                   "closest training row and closest holdout row", {
                       "title": "DCR distribution", "bins": bins,
                       "series": {"to train": dcr["hist_train"], "to holdout": dcr["hist_holdout"]},
                       "colours": {"to train": SYNTHETIC, "to holdout": HOLDOUT}, "width": 720},
                   f"Quantiles {dcr['quantiles']}: to train {dcr['to_train']}, to holdout {dcr['to_holdout']} "
                   f"({dcr['n']} synthetic rows). Memorisation shows as mass near 0 for train only.")]
    return Section("privacy_evaluation", title, tuple(blocks))
