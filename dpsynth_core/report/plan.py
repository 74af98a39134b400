"""The plan report (validation and recommendation before spending), in the release report's style.

Marginal generators (mst, aim, copula): the forecast of `dpsynth_core.forecast` (noise per marginal, expected TVD
against the sampling error of a second sample, an epsilon sweep, the smallest epsilon reaching a target). Deep
generators: the checks of `generators.deep.validation` (sampling rate, steps, reachable epsilon). Public numbers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..config import SynthesisConfig
from ..errors import DpsynthError
from ..forecast import MARGINAL_GENERATORS, Forecast, epsilon_sweep, forecast, smallest_epsilon
from ..schema import TableSpec
from .document import Bullets, Facts, Figure, Report, Section, Table, Text
from .numbers import num, pct
from .sections.common import fact
from .svg import ACCENT, BAD, HOLDOUT, REAL, SYNTHETIC

DEFAULT_TARGET_TVD = 0.05
MAX_PAIR_ROWS = 30


@dataclass(frozen=True)
class PlanRequest:
    """What the user plans: a spec, settings, a row count (public or assumed) and the error they can accept."""

    spec: TableSpec
    config: SynthesisConfig
    rows: int
    rows_public: bool = True
    target_tvd: float = DEFAULT_TARGET_TVD


def _request_section(req: PlanRequest, fc: Forecast | None, errors: list[str]) -> Section:
    c = req.config
    items = [fact("table", req.spec.name, req.spec.name), fact("generator", c.generator, c.generator),
             fact("epsilon", c.epsilon), fact("delta", c.resolved_delta()),
             fact("rows", req.rows, f"{req.rows} ({'public' if req.rows_public else 'assumed'})")]
    blocks: list = []
    if fc is not None:
        items += [fact("rho (zCDP budget)", fc.rho), fact("rho for DP domain discovery", fc.rho_preprocessing),
                  fact("rho for the generator", fc.rho_generator)]
        blocks.append(Facts(tuple(items)))
        blocks.append(Figure("bars", "Planned split of rho", {
            "title": "planned split", "labels": [s for s, _ in fc.split],
            "values": [100 * r / fc.rho for _, r in fc.split],
            "value_texts": [f"{100 * r / fc.rho:.3g}% (rho {num(r)})" for _, r in fc.split], "max": 100,
            "colours": [REAL if s.startswith("preprocessing") else ACCENT for s, _ in fc.split]}))
        blocks.append(Table(("column", "kind", "codes", "domain", "DP preprocessing steps"),
                            tuple((p.name, p.kind, str(p.codes), p.source, ", ".join(p.stages) or "none")
                                  for p in fc.columns), "Codes per column from the declared spec."))
    else:
        blocks.append(Facts(tuple(items)))
    if errors:
        blocks.append(Bullets(tuple(errors), "Errors (the release would be refused before reading data)"))
    return Section("request", "Request", tuple(blocks))


def _noise_section(req: PlanRequest, fc: Forecast) -> Section:
    blocks: list = [Text("Expected error of each noisy marginal at the requested epsilon, before the model's own "
                         "smoothing (which only lowers it on sparse tables), beside the sampling error a second sample "
                         f"of {req.rows} rows would have. Noise std is per cell, in rows.")]
    one = sorted(fc.one_way, key=lambda m: -m.expected_tvd)
    blocks.append(Figure("bars", "Expected TVD of each 1-way marginal from noise", {
        "title": "1-way noise", "labels": ["/".join(m.columns) for m in one], "values": [m.expected_tvd for m in one],
        "value_texts": [f"{num(m.expected_tvd, 3)} (sampling {num(m.sampling_tvd, 3)})" for m in one],
        "colours": [BAD if m.expected_tvd > req.target_tvd else SYNTHETIC for m in one]},
        f"Red: above the target {num(req.target_tvd)}."))
    rows = [(" × ".join(m.columns), str(m.cells), num(m.sigma), num(m.relative_noise, 3), num(m.expected_tvd, 3),
             num(m.sampling_tvd, 3)) for m in (list(one) + list(fc.two_way[:MAX_PAIR_ROWS]))]
    blocks.append(Table(("marginal", "cells", "noise std", "noise / mean cell count", "expected TVD (noise)",
                         "sampling TVD (2nd sample, at most)"), tuple(rows),
                        f"1-way marginals, then the {min(len(fc.two_way), MAX_PAIR_ROWS)} noisiest 2-way marginals.",
                        collapsed=len(rows) > 16))
    if fc.two_way:
        top = fc.two_way[:MAX_PAIR_ROWS]
        blocks.append(Figure("bars", "Expected TVD of the noisiest 2-way marginals", {
            "title": "2-way noise", "labels": [" × ".join(m.columns) for m in top],
            "values": [m.expected_tvd for m in top], "value_texts": [num(m.expected_tvd, 3) for m in top],
            "colours": [BAD if m.expected_tvd > req.target_tvd else SYNTHETIC for m in top]}))
    if fc.discovery_threshold is not None:
        blocks.append(Text(f"DP category discovery: noise std {num(fc.discovery_sigma)} per count; a category needs "
                           f"about {fc.discovery_threshold} rows to be released, rarer ones are pooled.", "note"))
    blocks += [Bullets(fc.notes, "Notes")] if fc.notes else []
    return Section("noise", "Expected noise", tuple(blocks))


def _sweep_section(req: PlanRequest, fc: Forecast, sweep: list[dict[str, Any]], needed: float | None) -> Section:
    key = "median_two_way_tvd" if fc.two_way else "max_one_way_tvd"
    label = "median 2-way" if fc.two_way else "largest 1-way"
    values = [s[key] or 0.0 for s in sweep]
    blocks = [Figure("bars", f"Expected {label} TVD from noise, by epsilon", {
        "title": "epsilon sweep", "labels": [f"ε = {num(s['epsilon'])}" + (" (requested)" if s["requested"] else "")
                                             for s in sweep],
        "values": values, "value_texts": [num(v, 3) for v in values],
        "colours": [ACCENT if s["requested"] else HOLDOUT for s in sweep]},
        "Same spec, rows, delta and options; only epsilon changes.")]
    if needed is None:
        blocks.append(Text(f"The {label} expected TVD stays above the target {num(req.target_tvd)} up to ε = 64 "
                           f"for {req.rows} rows: coarser domains or more rows are needed, not more epsilon.",
                           "warning"))
    else:
        blocks.append(Text(f"Smallest epsilon whose {label} expected TVD from noise is at most the target "
                           f"{num(req.target_tvd)}: ε ≈ {num(needed, 3)} (requested {num(req.config.epsilon)}).",
                           "note"))
    return Section("sweep", "Epsilon sweep", tuple(blocks))


def _recommendations(req: PlanRequest, fc: Forecast, needed: float | None) -> Section:
    items = []
    headline = fc.median_two_way_tvd() if fc.two_way else fc.max_one_way_tvd()
    if headline is not None:
        verdict = "within" if headline <= req.target_tvd else "above"
        items.append(f"At ε = {num(req.config.epsilon)} the headline expected TVD is {num(headline, 3)}, {verdict} "
                     f"the target {num(req.target_tvd)} (the target is yours to set: --target-tvd).")
    if needed is not None and needed > req.config.epsilon:
        items.append(f"Raise epsilon to about {num(needed, 3)}, or lower the error the table needs, or add rows.")
    discovered = [c.name for c in fc.columns if c.stages]
    if discovered and fc.rho_preprocessing:
        items.append(f"Declare domains (categories, lower/upper, bins) for {', '.join(discovered)}: DP discovery "
                     f"then costs nothing and its {pct(fc.rho_preprocessing / fc.rho)} of rho goes to the "
                     f"measurements; declared categories are also never pooled.")
    widest = sorted(fc.columns, key=lambda c: -c.codes)[:3]
    if widest and widest[0].codes > 10:
        items.append("The widest columns drive the 2-way error: " + ", ".join(f"{c.name} ({c.codes} codes)"
                                                                             for c in widest)
                     + "; fewer bins or grouped categories shrink every marginal that contains them.")
    if not items:
        items.append("No change suggested by the forecast.")
    return Section("recommendations", "Checks and recommendations", (
        Bullets(tuple(items)),
        Text("This forecast is noise only: it does not include the model's approximation error (structure the "
             "generator does not measure), which the Utility section of the release report measures after the fact.",
             "note")))


def _deep_sections(req: PlanRequest) -> tuple[tuple[Section, ...], tuple[str, ...]]:
    from ..generators.deep.config import DeepConfig
    from ..generators.deep.validation import validate_deep_config

    options = {k: v for k, v in req.config.options.items()}
    report = validate_deep_config(DeepConfig.from_dict(options), generator=req.config.generator,
                                  plan=req.config.budget_plan(), rows=req.rows)
    derived = dict(report.derived)
    blocks: list = [Facts(tuple(fact(k, v, num(v) if isinstance(v, (int, float)) else str(v))
                                for k, v in sorted(derived.items())))]
    parts = [(k, derived.get(f"{k}_epsilon")) for k in ("preprocessing", "sgd")]
    if all(isinstance(v, (int, float)) for _, v in parts):
        blocks.append(Figure("bars", "Planned split of epsilon", {
            "title": "planned split", "labels": ["zCDP preprocessing (DP histograms, row count)", "DP-SGD training"],
            "values": [v for _, v in parts], "value_texts": [f"epsilon {num(v)}" for _, v in parts],
            "colours": [REAL, ACCENT]}, "Composed by basic composition: the two epsilons add up to the request."))
    if report.errors:
        blocks.append(Bullets(report.errors, "Errors (the release would be refused before reading data)"))
    if report.warnings:
        blocks.append(Bullets(report.warnings, "Warnings"))
    if report.recommended:
        blocks.append(Text(f"Recommended configuration: {report.recommended.get('config_summary')}", "note"))
    return (Section("dpsgd", "DP-SGD configuration checks", tuple(blocks)),), tuple(report.errors)


def plan_report(req: PlanRequest) -> Report:
    """Validation and recommendation report of a planned release (reads no data, spends nothing)."""
    errors: list[str] = []
    fc = None
    sections: list[Section] = []
    try:
        req.config.validate()
    except DpsynthError as err:
        errors.append(str(err))
    if not errors and req.config.generator in MARGINAL_GENERATORS:
        fc = forecast(req.spec, req.config, req.rows, req.rows_public)
        sweep = epsilon_sweep(req.spec, req.config, req.rows, rows_public=req.rows_public)
        needed = smallest_epsilon(req.spec, req.config, req.rows, req.target_tvd, rows_public=req.rows_public)
        sections = [_request_section(req, fc, errors), _noise_section(req, fc), _sweep_section(req, fc, sweep, needed),
                    _recommendations(req, fc, needed)]
    elif not errors:
        deep, deep_errors = _deep_sections(req)
        sections = [_request_section(req, None, errors), *deep]
        errors += deep_errors
    else:
        sections = [_request_section(req, None, errors)]
    banner = Text("Computed from public numbers only (the declared spec, the settings and the row count given): no "
                  "data was read and no budget was spent.", "note")
    return Report("plan", f"Release plan: {req.spec.name} with {req.config.generator} at ε = {num(req.config.epsilon)}",
                  f"validation and recommendation before spending · rows {req.rows} "
                  f"({'public' if req.rows_public else 'assumed'})", banner, tuple(sections),
                  {"renderer": f"dpsynth {__version__}", "generator": req.config.generator},
                  {"forecast": fc.to_dict() if fc else None, "errors": errors})
