"""Model card: generator, options, library version, training time, data source (the relation, never values), intended
and out-of-scope uses, the generator's known limitations, the seed, which marginals the model measured, and the
release's governance: release type, approval, expiry, usage terms and watermark (`record['governance']`)."""

from __future__ import annotations

import datetime as _dt
import itertools
import json
from typing import Any

from ..document import Bullets, Facts, Figure, Heading, Section, Text
from ..numbers import num
from .common import f, fact

_BINNING = ("Numeric and datetime columns are modelled in bins (DP quantile bins or declared edges); values are drawn "
            "inside a bin from a DP fine histogram, so detail finer than the bins is approximate.")
_RARE = ("Rare categories whose noisy count does not clear the discovery threshold do not appear in the synthetic "
         "table: their rows are pooled (re-spread over the released categories by default, or one explicit other "
         "bucket with other_label), never turned into nulls; the release record gives the DP estimate of the share.")

KNOWN_LIMITATIONS: dict[str, tuple[str, ...]] = {
    "mst": ("Preserves the 1-way marginals and the 2-way marginals of one maximum spanning tree (d-1 column pairs); "
            "other pairs and all higher-order interactions are only what the tree implies, not measured.",
            _BINNING, _RARE),
    "aim": ("Preserves the marginals AIM selected (see the graph; chosen from all 2-way marginals and the 3-way "
            "marginals containing the target); marginals beyond the selected cliques are not preserved, and the model "
            "size cap (max_model_size) limits how many can be.", _BINNING, _RARE),
    "copula": ("Preserves each column's 1-way distribution and a Gaussian-copula correlation of normal scores: "
               "non-monotone dependence and interactions between three or more columns are not preserved.",
               "Strong correlations are shrunk slightly towards 0 (row-norm clipping).", _BINNING, _RARE),
    "dp-ctgan": ("A GAN trained with DP-SGD: no marginal is guaranteed to be preserved; quality depends on epochs, "
                 "batch size and the noise multiplier, and varies between runs.",
                 "Rare categories and small subgroups are the first to be lost under DP-SGD noise.", _RARE),
    "dp-tvae": ("A variational autoencoder trained with DP-SGD: no marginal is guaranteed to be preserved; quality "
                "depends on epochs, batch size and the noise multiplier.",
                "Rare categories and small subgroups are the first to be lost under DP-SGD noise.", _RARE),
}
_GENERIC_LIMITS = ("Only the structure the generator measured is preserved; check the Utility section before use.",
                   _RARE)

INTENDED_USES = (
    "Development, testing and CI of pipelines and dashboards without access to the source rows.",
    "Exploratory analysis and prototyping of aggregate statistics and models, to be confirmed on real data (or with "
    "a DP query system) before decisions.",
    "Sharing a realistic table with people who may not see the source rows, within the guarantee stated in Privacy.",
)
OUT_OF_SCOPE = (
    "Decisions about, or contact with, any individual: synthetic rows are not real persons.",
    "Linking synthetic rows back to source rows or to other data sets.",
    "Statistics of structures the model did not measure (see known limitations) taken as estimates of the source.",
    "Inference (confidence intervals, p-values) that ignores the DP noise and the model error.",
    "Estimates for small subgroups or rare categories.",
)


def _seconds(row) -> float | None:
    if not row:
        return None
    a, b = row.get("started_at"), row.get("finished_at")
    try:
        a = a if isinstance(a, _dt.datetime) else _dt.datetime.fromisoformat(str(a))
        b = b if isinstance(b, _dt.datetime) else _dt.datetime.fromisoformat(str(b))
    except (TypeError, ValueError):
        return None
    return (b - a).total_seconds()


def measured_marginals(record) -> list[list[Any]]:
    """[a, b, times] for each pair of columns measured together by a Gaussian mechanism (the model's structure)."""
    weight: dict[tuple[str, str], int] = {}
    for s in record.get("spend") or []:
        detail = s.get("detail") if isinstance(s.get("detail"), dict) else {}
        cols = detail.get("columns") or []
        if "gaussian" not in str(s.get("mechanism", "")) or len(cols) < 2:
            continue
        for a, b in itertools.combinations(cols, 2):
            weight[(a, b)] = weight.get((a, b), 0) + 1
    return [[a, b, w] for (a, b), w in weight.items()]


def governance_blocks(record) -> list:
    """Heading + facts of the release's governance block (usage terms first); [] when none was configured."""
    gov = record.get("governance") or {}
    if not any(gov.get(k) for k in ("release_type", "require_approval", "expires_at", "terms", "watermark")):
        return []
    terms = gov.get("terms") or {}
    mark = gov.get("watermark") or {}
    items = [fact("purpose", terms.get("purpose"), str(terms.get("purpose") or "not stated")),
             fact("allowed recipients", terms.get("recipients"), ", ".join(terms.get("recipients") or []) or
                  "not stated"),
             fact("contract reference", terms.get("contract"), str(terms.get("contract") or "not stated")),
             fact("terms expire", terms.get("expires"), str(terms.get("expires") or "not stated")),
             fact("release type", gov.get("release_type"), str(gov.get("release_type") or "not set")),
             fact("approval before publication", gov.get("require_approval"),
                  "required (dpsynth_approvals; see the audit narrative)" if gov.get("require_approval")
                  else "not required"),
             fact("release expires at (UTC)", gov.get("expires_at"), str(gov.get("expires_at") or "never")),
             fact("watermark", mark.get("key_fingerprint"),
                  f"{mark.get('scheme')}, key fingerprint {mark.get('key_fingerprint')}"
                  + (f" (recipient {mark['recipient']})" if mark.get("recipient") else "")
                  + f", {mark.get('values_marked', 0)} values marked in "
                  + (", ".join(mark.get("columns") or []) or "no column")
                  + "; post-processing, no privacy cost" if mark.get("key_fingerprint") else "none")]
    return [Heading("Governance and usage terms"), Facts(tuple(items)),
            Text("Usage terms, approval, expiry and watermark are contract and operational controls; they do not "
                 "change the privacy guarantee (see Privacy), which holds for whoever holds the table.", "note")]


def build(evidence) -> Section:
    r, row = evidence.record, evidence.release_row or {}
    generator = str(r.get("generator"))
    options = r.get("options")
    fit = f(r.get("fit_seconds") if r.get("fit_seconds") is not None else r.get("training_seconds"))
    wall = _seconds(row)
    if fit is not None:
        time_fact = fact("training time (seconds)", fit)
    elif wall is not None:
        time_fact = fact("wall time of the release, reservation to record (seconds)", wall)
    else:
        time_fact = fact("training time", None, "not recorded")
    holdout = r.get("holdout") or {}
    items = [
        fact("generator", generator, generator),
        fact("options", options, json.dumps(options, sort_keys=True, default=str) if options is not None
             else "not recorded in the release record"),
        fact("library version", r.get("library_version"), str(r.get("library_version") or "not recorded")),
        time_fact,
        fact("data source (relation)", r.get("relation"), str(r.get("relation"))),
        fact("synthetic table", row.get("target_relation"), str(row.get("target_relation") or row.get("model")
                                                                 or "not recorded")),
        fact("rows generated", r.get("rows"), f"{r.get('rows')} ({r.get('rows_source')})"),
        fact("seed", r.get("seed"), f"{r.get('seed')} (drives sampling from the fitted model only, never the noise)"),
        fact("holdout", holdout.get("fraction"),
             f"{num(holdout.get('fraction'))} of the source rows, for evaluation only; never seen by the generator"
             if holdout.get("used") else "none"),
        fact("release created at", r.get("created_at"), str(r.get("created_at"))),
    ]
    columns = dict(r.get("columns") or {})
    nodes = [{"name": n, "discovered": c.get("domain") == "dp_discovered"} for n, c in columns.items()
             if c.get("domain") != "surrogate_keys"]
    edges = measured_marginals(r)
    caption = (f"{len(edges)} column pairs measured together (line width: how often)." if edges else
               "No multi-column marginal was measured with a Gaussian mechanism (e.g. a DP-SGD model learns the joint "
               "distribution with a network).")
    blocks = [Facts(tuple(items)),
              Heading("Structure the model measured"),
              Figure("graph", "Columns (nodes) and the marginals measured together (edges)",
                     {"title": "measured marginals", "nodes": nodes, "edges": edges}, caption),
              Heading("Intended use"), Bullets(INTENDED_USES),
              Heading("Out of scope"), Bullets(OUT_OF_SCOPE),
              Heading(f"Known limitations of {generator}"),
              Bullets(KNOWN_LIMITATIONS.get(generator, _GENERIC_LIMITS))] + governance_blocks(r)
    if not options:
        blocks.append(Text("The generator options are not part of the release record yet; the dbt model's config "
                           "holds them.", "note"))
    return Section("model_card", "Model card", tuple(blocks))
