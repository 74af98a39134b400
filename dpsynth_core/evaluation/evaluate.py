"""`evaluate(real_train, holdout, synthetic, ...)`: every utility and privacy metric, gated by a `GateConfig`.

NOT differentially private. The metrics are exact statistics of the real train sample and the holdout; they are
release evidence for reviewers, and reading them leaks information about real rows. The synthetic table's DP guarantee
does not extend to this report.
"""

from __future__ import annotations

import math
from typing import Mapping

import pandas as pd

from ..progress import report
from .anonymeter import RiskEstimate, linkability_risk, singling_out_risk
from .copies import exact_copies
from .coverage import column_checks, rare_categories
from .dependence import mean_dependence_difference
from .details import plot_details
from .gates import EvaluationOptions, GateConfig
from .inference import attribute_inference
from .marginals import mean_marginal_tvd
from .membership import density_ratio_membership_auc
from .neighbours import (
    dcr_neighbours,
    dcr_share,
    distance_membership_auc,
    neighbour_samples,
    nndr_check,
    one_sided_bound,
)
from .prepared import Prepared, prepare
from .result import EvaluationReport, MetricResult
from .subgroup import subgroup_tvd
from .tstr import train_synthetic_test_real

PRIVACY, UTILITY = "privacy", "utility"


def evaluate(real_train: pd.DataFrame, holdout: pd.DataFrame | None, synthetic: pd.DataFrame,
             kinds: Mapping[str, str] | None = None, target: str | None = None,
             gates: GateConfig | None = None, options: EvaluationOptions | None = None,
             table: str = "synthetic", details: bool = False) -> EvaluationReport:
    """Compare `synthetic` with the rows its generator was trained on (`real_train`) and with `holdout` (rows it never
    saw, from the same population). `kinds` hints column kinds ('categorical'|'numeric'|'datetime'|'identifier';
    identifiers are excluded). `target` (or `options.target`) enables TSTR, subgroup fidelity and attribute inference.
    Without a holdout only utility metrics and the exact-copy rate are computed (a note says so).
    `details=True` also returns the plot data of a release report in `EvaluationReport.details` (see `details`);
    the metric values are the same either way. `gates` (None: `GateConfig()`, the default thresholds) sets the
    pass/fail thresholds of the gated metrics."""
    gates = gates if gates is not None else GateConfig()
    options = options or EvaluationOptions()
    target = target or options.target
    report("evaluate", stage="prepare", rows_synthetic=len(synthetic))
    prepared = prepare(real_train, synthetic, holdout, kinds, n_bins=options.n_bins, table=table)
    notes = [f"columns compared: {', '.join(prepared.columns)}"]
    only_real = [c for c in real_train.columns if c not in synthetic.columns]
    only_synthetic = [c for c in synthetic.columns if c not in real_train.columns]
    if only_real or only_synthetic:
        notes.append(f"not compared (missing on one side): real only {only_real}, synthetic only {only_synthetic}")
    identifiers = [c for c, k in prepared.kinds.items() if k == "identifier"]
    if identifiers:
        notes.append(f"identifier columns excluded: {', '.join(identifiers)}")
    report("evaluate", stage="utility metrics")
    results = _utility(prepared, gates, options, target)
    distances: list = []
    results += _privacy(prepared, gates, options, target, notes, distances)
    report("evaluate", stage="done", metrics=len(results))
    plots = plot_details(prepared, results, distances[0] if distances else None) if details else None
    return EvaluationReport(tuple(results), notes=tuple(notes), details=plots)


def _utility(p: Prepared, g: GateConfig, o: EvaluationOptions, target: str | None) -> list[MetricResult]:
    out = []
    thresholds = {1: g.marginal_tvd_1way, 2: g.marginal_tvd_2way, 3: g.marginal_tvd_3way}
    for order in (1, 2, 3):
        value, worst = mean_marginal_tvd(p, order, o.max_3way_sets, o.seed)
        if math.isnan(value):
            continue
        floor = mean_marginal_tvd(p, order, o.max_3way_sets, o.seed, against_holdout=True)[0] \
            if p.holdout is not None else None
        out.append(_floored_result(f"marginal_tvd_{order}way", value, thresholds[order], floor, g,
                                   worst=[[list(c), v] for c, v in worst]))
    value, worst = mean_dependence_difference(p)
    if not math.isnan(value):
        floor = mean_dependence_difference(p, "holdout")[0] if p.holdout is not None else None
        out.append(_floored_result("dependence_diff", value, g.dependence_diff, floor, g,
                                   worst=[[list(c), v] for c, v in worst]))
    if target and p.holdout is not None:
        t = train_synthetic_test_real(p, target, o.seed)
        out.append(MetricResult.gated("tstr_auc_gap", t.gap, g.tstr_auc_gap, UTILITY, lower_bound=t.gap_lower,
                                      rule="configured; fails when the 95% lower bound exceeds it", baseline=0.0,
                                      target=target, auc_real=t.auc_real, auc_synthetic=t.auc_synthetic,
                                      n_classes=t.n_classes))
    by = o.subgroup or target
    if by:
        value, levels = subgroup_tvd(p, by)
        if not math.isnan(value):
            out.append(MetricResult.gated("subgroup_tvd", value, g.subgroup_tvd, UTILITY, by=by, levels=levels))
    checks = column_checks(p)
    out.append(MetricResult.gated(
        "range_violation_rate", max(c.out_of_range_rate for c in checks), g.range_violation_rate, UTILITY,
        per_column={c.column: c.out_of_range_rate for c in checks if c.out_of_range_rate > 0}))
    out.append(MetricResult.gated(
        "null_rate_diff", max(c.null_rate_diff for c in checks), g.null_rate_diff, UTILITY,
        per_column={c.column: [c.null_rate_real, c.null_rate_synthetic] for c in checks if c.null_rate_diff > 0}))
    rare = rare_categories(p)
    if rare.n_rare:
        out.append(MetricResult.gated("rare_category_miss_rate", 1.0 - rare.recall, g.rare_category_miss_rate,
                                      UTILITY, n_rare=rare.n_rare, n_present=rare.n_rare_present,
                                      missing=rare.missing))
    out.append(MetricResult.gated("novel_category_rate", rare.novel_rate, g.novel_category_rate, UTILITY))
    return out


def _risk_result(metric: str, estimate: RiskEstimate, threshold: float | None, **detail) -> MetricResult:
    """An anonymeter-style risk: it fails only when its 95% lower bound is above the threshold (see docs/gates.md)."""
    return MetricResult.gated(metric, estimate.value, threshold, PRIVACY, lower_bound=estimate.ci[0],
                              rule="configured; fails when the 95% lower bound exceeds it", baseline=0.0,
                              ci95=list(estimate.ci), main_rate=estimate.main_rate,
                              control_rate=estimate.control_rate, n_attacks=estimate.n_attacks, **detail)


def _floored_result(metric: str, value: float, threshold: float | None, floor: float | None, g: GateConfig,
                    **detail) -> MetricResult:
    """A small table's sampling noise alone can exceed an absolute threshold: never ask for less than
    `noise_floor_factor` times what a fresh real sample (the holdout) scores against train."""
    if threshold is None or floor is None or g.noise_floor_factor is None or math.isnan(floor):
        return MetricResult.gated(metric, value, threshold, UTILITY, baseline=floor, holdout_baseline=floor,
                                  configured_threshold=threshold, **detail)
    return MetricResult.gated(metric, value, max(threshold, g.noise_floor_factor * floor), UTILITY,
                              rule=f"max({threshold:g}, {g.noise_floor_factor:g} x holdout)", baseline=floor,
                              data_dependent=True, holdout_baseline=floor, configured_threshold=threshold, **detail)


def _privacy(p: Prepared, g: GateConfig, o: EvaluationOptions, target: str | None, notes: list,
             distances: list) -> list[MetricResult]:
    """Privacy metrics; appends the DCR distances to `distances` (for the plot data) when a holdout exists."""
    out = []
    copies = exact_copies(p)
    margin = g.exact_copy_rate
    threshold = None if margin is None else (copies.baseline or 0.0) + margin
    out.append(MetricResult.gated("exact_copy_rate", copies.rate, threshold, PRIVACY,
                                  rule=f"holdout + {margin:g}" if margin is not None else "configured",
                                  baseline=copies.baseline, data_dependent=True, margin=margin,
                                  holdout_baseline=copies.baseline,
                                  n_synthetic=copies.n_synthetic))
    if p.holdout is None:
        notes.append("no holdout: DCR, NNDR, membership, singling-out, linkability and inference metrics skipped")
        return out
    report("evaluate", stage="privacy metrics: distances to closest records")
    samples = neighbour_samples(p, o.max_distance_rows, o.seed)
    neighbours = dcr_neighbours(samples)
    distances.append(neighbours[:2])
    dcr = dcr_share(samples, neighbours)
    out.append(MetricResult.gated(
        "dcr_share", dcr.share, None if g.dcr_z is None else 0.5 + g.dcr_z * dcr.standard_error, PRIVACY,
        rule=f"0.5 + {g.dcr_z:g} x clustered standard error" if g.dcr_z is not None else "configured",
        baseline=0.5, data_dependent=True, n=dcr.n, n_effective=dcr.n_effective,
        median_dcr_train=dcr.median_dcr_train, median_dcr_holdout=dcr.median_dcr_holdout))
    nn = nndr_check(samples)
    nndr_threshold = None if g.nndr_z is None else one_sided_bound(0.05, nn.n_effective, g.nndr_z)
    out.append(MetricResult.gated(
        "nndr_below_holdout_p05", nn.share_below, nndr_threshold, PRIVACY,
        rule=f"0.05 + {g.nndr_z:g} sqrt(0.0475/n_eff)" if g.nndr_z is not None else "configured", baseline=0.05,
        data_dependent=True, holdout_p05=nn.holdout_p05, synthetic_p05=nn.synthetic_p05))
    auc, lo, hi = distance_membership_auc(samples)
    out.append(MetricResult.gated("membership_auc_distance", auc, g.membership_auc_distance, PRIVACY, baseline=0.5,
                                  ci95=[lo, hi]))
    report("evaluate", stage="privacy metrics: membership inference")
    auc, lo, hi = density_ratio_membership_auc(p, o.max_distance_rows, o.seed)
    out.append(MetricResult.gated("membership_auc_density", auc, g.membership_auc_density, PRIVACY, baseline=0.5,
                                  ci95=[lo, hi]))
    report("evaluate", stage="privacy metrics: singling out, linkability, inference")
    out.append(_risk_result("singling_out_risk", singling_out_risk(p, o.n_attacks, seed=o.seed),
                            g.singling_out_risk))
    cols = o.link_columns or (None, None)
    out.append(_risk_result("linkability_risk", linkability_risk(p, cols[0], cols[1], o.n_attacks, seed=o.seed),
                            g.linkability_risk))
    sensitive = o.sensitive or target
    if sensitive:
        ai = attribute_inference(p, sensitive, o.quasi_identifiers, seed=o.seed)
        out.append(_risk_result("attribute_inference_risk", ai.risk, g.attribute_inference_risk,
                                sensitive=sensitive, quasi_identifiers=list(ai.quasi_identifiers),
                                accuracy_train=ai.accuracy_train, accuracy_holdout=ai.accuracy_holdout,
                                majority_baseline_holdout=ai.baseline_holdout))
    else:
        notes.append("no target/sensitive column: TSTR, subgroup fidelity and attribute inference skipped")
    return out
