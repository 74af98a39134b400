"""Privacy: the (epsilon, delta) guarantee, what it means in numbers, the budget split, the budget key's cumulative
spend against its cap, public vs DP-discovered domains, the privacy unit, and what the guarantee does not cover."""

from __future__ import annotations

import math
from typing import Any

from ...accounting.composition import compose
from ..budget import budget_split
from ..document import Bullets, Facts, Figure, Heading, Section, Table, Text
from ..numbers import membership_auc_bound, num, pct, posterior_bound, tpr_bound, trade_off_curve
from ..svg import ACCENT, REAL, SYNTHETIC
from .common import f, fact

PRIORS = (0.01, 0.1, 0.5)
FPRS = (0.001, 0.01)
CHARGED = ("reserved", "released", "failed")


def key_total(evidence) -> dict[str, Any] | None:
    """The budget key's composed spend over every charged ledger row (the ledger's own arithmetic)."""
    if evidence.budget_key is None:
        return None
    rows = [r for r in evidence.ledger_rows if r.get("status") in CHARGED]
    total = compose([{k: r.get(k) for k in ("rho", "delta", "delta_conversion", "epsilon", "accountant",
                                            "epsilon_other")} for r in rows])
    cap = evidence.cap
    return {"epsilon": total.epsilon, "delta": total.delta, "rho": total.rho, "releases": total.releases,
            "epsilon_naive_sum": total.epsilon_naive_sum, "cap": cap,
            "remaining": None if cap is None else max(cap - total.epsilon, 0.0)}


def _guarantee(evidence) -> list:
    r, row = evidence.record, evidence.release_row or {}
    items = [
        fact("epsilon (requested)", f(r.get("epsilon"))),
        fact("epsilon spent", f(r.get("epsilon_spent"))),
        fact("delta (total)", f(r.get("delta")),
             f"{num(r.get('delta'))} (conversion {num(r.get('delta_conversion'))} + domain-discovery threshold "
             f"{num(r.get('delta_threshold'))})"),
        fact("rho (zCDP budget)", f(r.get("rho"))),
        fact("rho spent", f(r.get("rho_spent"))),
        fact("accountant", r.get("accountant"), str(r.get("accountant"))),
    ]
    if f(r.get("epsilon_other")):
        items.append(fact("epsilon accounted outside zCDP (DP-SGD, basic composition)", f(r.get("epsilon_other"))))
    items += [
        fact("privacy unit", r.get("neighbouring"), f"{r.get('neighbouring')} of {r.get('relation')}"),
        fact("rows released", r.get("rows"), f"{r.get('rows')} ({r.get('rows_source')})"),
        fact("budget key", row.get("budget_key"), str(row.get("budget_key") or "none")),
    ]
    total = key_total(evidence)
    if total is not None:
        items += [
            fact("cap of the budget key (epsilon)", total["cap"], num(total["cap"]) if total["cap"] else "no cap"),
            fact("composed epsilon of the key, all charged ledger rows", total["epsilon"],
                 f"{num(total['epsilon'])} over {total['releases']} rows (delta {num(total['delta'])}; plain sum of "
                 f"epsilons {num(total['epsilon_naive_sum'])})"),
            fact("remaining epsilon of the key", total["remaining"],
                 num(total["remaining"]) if total["remaining"] is not None else "no cap"),
        ]
    return [Facts(tuple(items))]


def _meaning(evidence) -> list:
    r = evidence.record
    eps, delta = f(r.get("epsilon_spent")) or 0.0, f(r.get("delta")) or 0.0
    auc_pure, auc = membership_auc_bound(eps), membership_auc_bound(eps, delta)
    odds = math.exp(min(eps, 700))
    post = ", ".join(f"from {pct(p)} to at most {pct(posterior_bound(eps, p))}" for p in PRIORS)
    tprs = "; ".join(f"at a false-positive rate of {pct(a)} it finds at most {pct(tpr_bound(eps, delta, a))} of the "
                     f"rows that were in" for a in FPRS)
    blocks = [Heading("What epsilon means for this release"), Bullets((
        f"Membership inference: no attack on this synthetic table can tell whether one given row was in "
        f"{r.get('relation')} with an AUC above {num(auc)} (e^ε/(1+e^ε) = {num(auc_pure)} at ε = {num(eps)}; the "
        f"value with δ = {num(delta)} is the area under the (ε, δ) trade-off boundary). 0.5 is a coin toss.",
        f"Error rates of any such attack: {tprs}.",
        f"Posterior belief (pure ε-DP reading): the odds that a given row was in the source can grow at most "
        f"e^ε = {num(odds)} times, so a belief can move {post}. With δ = {num(delta)} these bounds may fail with a "
        f"probability of the order of δ.",
    ))]
    series = [{"name": f"this release (ε={num(eps, 3)}, δ={num(delta, 2)})", "points": trade_off_curve(eps, delta),
               "colour": ACCENT}]
    total = key_total(evidence)
    if total is not None and total["releases"] > 1 and total["delta"] < 1:
        e2, d2 = total["epsilon"], total["delta"]
        blocks.append(Text(f"All {total['releases']} charged releases of budget key {evidence.budget_key} together: "
                           f"composed ε = {num(e2)}, δ = {num(d2)}; membership-inference AUC bound "
                           f"{num(membership_auc_bound(e2, d2))}."))
        series.append({"name": f"budget key, all releases (ε={num(e2, 3)})", "points": trade_off_curve(e2, d2),
                       "colour": SYNTHETIC})
    blocks.append(Figure("curves", "Largest true-positive rate of any membership test, by false-positive rate",
                         {"title": "membership-inference trade-off bound", "series": series, "diagonal": True,
                          "x_label": "false-positive rate", "y_label": "true-positive rate (bound)"},
                         "Any membership-inference attack's (FPR, TPR) lies on or below the curve; the dashed "
                         "diagonal is guessing."))
    return blocks


def _split(evidence) -> list:
    r = evidence.record
    source, rows = budget_split(r)
    delta = f(r.get("delta_conversion"))
    zcdp = [s for s in rows if s.rho is not None and (s.leaf or source == "spend")]
    labels = [("  " * s.depth) + s.label + (f" ({s.steps} steps)" if s.steps > 1 else "") for s in zcdp]
    total_rho = f(r.get("rho")) or 0.0
    # share of the release's whole zCDP rho (a tree node's own `share` is of its parent)
    shares = [(s.rho / total_rho) if total_rho > 0 and source == "budget_tree"
              else (s.share if s.share is not None else 0.0) for s in zcdp]
    blocks: list = [Heading("Budget split")]
    caption = ("Leaves of the release's budget tree" if source == "budget_tree"
               else "Charged steps of the release, grouped by step")
    blocks.append(Figure("bars", "Share of the release's zCDP budget (rho) per step", {
        "title": "budget split", "labels": labels, "values": [100 * x for x in shares],
        "value_texts": [f"{100 * x:.3g}% (rho {num(s.rho)})" for x, s in zip(shares, zcdp, strict=True)],
        "colours": [REAL if s.label.startswith("preprocessing") else ACCENT for s in zcdp], "max": 100,
        "source": source}, caption + "; preprocessing (DP domain discovery) in blue."))
    others = [s for s in rows if s.rho is None]
    for s in others:
        blocks.append(Text(f"{s.label}: epsilon {num(s.epsilon)} at delta {num(s.delta)} ({s.accountant}), outside "
                           f"the zCDP budget; composed with it by basic composition."))
    if source == "budget_tree":
        table_rows = tuple((("  " * s.depth) + s.label, s.accountant, num(s.rho), num(s.epsilon), num(s.delta),
                            pct(s.share)) for s in rows)
        blocks.append(Table(("node", "accountant", "rho", "epsilon", "delta", "share"), table_rows,
                            "Budget tree (leaves add up to the request)."))
    spend = list(r.get("spend") or [])
    total = f(r.get("rho")) or 0.0
    table_rows = tuple((str(s.get("step")), str(s.get("mechanism")), num(s.get("rho")),
                        pct(f(s.get("rho")) / total) if f(s.get("rho")) is not None and total > 0 else "n/a",
                        num(s.get("epsilon_equivalent") if s.get("rho") is not None else s.get("epsilon")),
                        num((s.get("detail") or {}).get("sigma") if isinstance(s.get("detail"), dict) else None))
                       for s in spend)
    blocks.append(Table(("step", "mechanism", "rho", "share of rho", "epsilon alone", "noise sigma"), table_rows,
                        f"Every charged step ({len(spend)}). 'epsilon alone' is what the step would amount to on its "
                        f"own at delta {num(delta)}; steps compose in rho, not by adding these.",
                        collapsed=len(spend) > 12))
    return blocks


def _cumulative(evidence) -> list:
    blocks: list = [Heading("Cumulative spend of the budget key")]
    if evidence.budget_key is None:
        blocks.append(Text("This release has no budget key: the ledger does not compose it with other releases. "
                           "Its own (epsilon, delta) above is its whole guarantee only if no other release used the "
                           "same rows."))
        return blocks
    points = []
    for row in evidence.ledger_rows:
        when = str(row.get("started_at") or "")[:19]
        points.append({"label": f"{row.get('model') or row.get('target_relation') or ''} {when}".strip(),
                       "value": f(row.get("cumulative_epsilon")), "status": row.get("status"),
                       "cap": f(row.get("cap_epsilon")), "release_id": row.get("release_id"),
                       "current": str(row.get("release_id")) == evidence.release_id})
    blocks.append(Figure("cumulative", f"Composed epsilon of budget key {evidence.budget_key}, release after release",
                         {"title": "cumulative spend vs cap", "points": points, "cap": evidence.cap},
                         "One point per ledger row in the order it was reserved (every status is charged); the "
                         "larger point is this release; dashed red line: the key's cap."))
    blocks.append(Table(("reserved at", "model", "status", "epsilon", "cumulative epsilon", "cap at the time"),
                        tuple((str(r.get("started_at"))[:19], str(r.get("model") or r.get("target_relation")),
                               str(r.get("status")), num(r.get("epsilon")), num(r.get("cumulative_epsilon")),
                               num(r.get("cap_epsilon"))) for r in evidence.ledger_rows),
                        "Ledger rows of the key.", collapsed=len(evidence.ledger_rows) > 12))
    return blocks


def _domains(evidence) -> list:
    columns = dict(evidence.record.get("columns") or {})
    blocks: list = [Heading("Public vs DP-discovered domains")]
    counts = {"public": 0, "dp_discovered": 0, "surrogate_keys": 0}
    for c in columns.values():
        counts[c.get("domain", "public")] = counts.get(c.get("domain", "public"), 0) + 1
    blocks.append(Text(f"Columns with a declared (public) domain: {counts['public']}; with categories or bounds found "
                       f"by a DP mechanism charged above: {counts['dp_discovered']}; identifier columns never learned "
                       f"(fresh surrogate keys): {counts['surrogate_keys']}."))
    modelled = [(n, c) for n, c in columns.items() if c.get("domain") != "surrogate_keys"]
    blocks.append(Figure("bars", "Codes per modelled column", {
        "title": "domain sizes", "labels": [n for n, _ in modelled],
        "values": [c.get("codes") or 0 for _, c in modelled],
        "colours": [SYNTHETIC if c.get("domain") == "dp_discovered" else REAL for _, c in modelled],
        "legend": {"public domain": REAL, "DP-discovered": SYNTHETIC}},
        "Number of codes (categories or bins, plus other/null codes) each column is modelled with."))
    blocks.append(Table(("column", "kind", "domain", "codes"),
                        tuple((n, str(c.get("kind")), str(c.get("domain")), num(c.get("codes")))
                              for n, c in columns.items())))
    return blocks


def _not_covered(evidence) -> list:
    r = evidence.record
    unit = r.get("privacy_unit") or {}
    if unit.get("column"):
        person = (f"Rows beyond the unit. The unit is {r.get('neighbouring')}: rows past "
                  f"{unit.get('max_rows_per_unit')} per {unit.get('column')} were dropped at random before "
                  "measurement, so the model sees at most that many rows of each; the synthetic keys are surrogates "
                  "(one per row), so how many rows a unit has and how its rows relate are not modelled. An "
                  "individual spread over several key values (two patient ids for one person) is protected per key "
                  "value only.")
    else:
        person = (f"Persons with several rows. The unit is {r.get('neighbouring')}; a person with k rows is protected "
                  f"at k² times rho in zCDP terms (group privacy). Declare `privacy_unit` (the person's key column) "
                  f"and `max_rows_per_unit` when persons have several rows.")
    items = [
        person,
        "What was declared public is not protected: the schema (column names and types), the declared domains, the "
        "settings (epsilon, rows, seed) and which releases happened (the ledger).",
        "The evaluation: the Utility and Privacy evaluation sections of this report, the metrics table and the "
        "evaluation details are exact statistics of real rows, outside the DP guarantee.",
        "Budget caps are bookkeeping, not a wall: reading the source directly, deleting ledger rows, or releasing "
        "outside the ledger (the CLI, another project) bypasses them; budgets of different keys over overlapping data "
        "are not composed automatically.",
        "The seed drives sampling from the fitted model only; the noise comes from OS entropy.",
        "This is a research-grade implementation of published DP algorithms, tested against closed forms and with "
        "noise checks, not externally audited. Whether a release meets a legal or contractual standard is a separate "
        "assessment.",
    ]
    if r.get("generator") == "copula":
        items.append("The copula's correlation noise is continuous floating-point noise; floating-point attacks in "
                     "the style of Mironov (2012) are not ruled out for that step.")
    blocks: list = [Heading("What the guarantee does not cover"), Bullets(tuple(items))]
    if r.get("warnings"):
        blocks.append(Bullets(tuple(str(w) for w in r["warnings"]), "Warnings recorded with this release"))
    return blocks


def build(evidence) -> Section:
    blocks = (_guarantee(evidence) + _meaning(evidence) + _split(evidence) + _cumulative(evidence)
              + _domains(evidence) + _not_covered(evidence))
    return Section("privacy", "Privacy", tuple(blocks))


