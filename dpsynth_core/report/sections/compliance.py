"""Compliance evidence: for each legal or regulatory requirement, which parameters and measurements of this release
bear on it and what a human must still assess. Evidence only: no requirement is declared met or failed, and no
epsilon "privacy level" table appears (none of these texts names an epsilon; vendor tables that do are not evidence).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..document import Bullets, Figure, Heading, Section, Text
from ..numbers import membership_auc_bound, num
from .common import f

# evidence items (matrix columns): (name, "parameter" = DP parameter or ledger record, "measurement" = empirical)
EPS, UNIT, DOMAINS, IDS, LEDGER, AUDIT = ("epsilon, delta, accountant", "privacy unit", "public vs DP domains",
                                          "identifiers replaced", "budget key and cap", "audit narrative")
MIA, COPIES, SINGLING, LINK, INFER = ("membership AUC", "exact copies, DCR, NNDR", "singling-out risk",
                                      "linkability risk", "attribute-inference risk")
ITEMS = {EPS: "parameter", UNIT: "parameter", DOMAINS: "parameter", IDS: "parameter", LEDGER: "parameter",
         AUDIT: "parameter", MIA: "measurement", COPIES: "measurement", SINGLING: "measurement", LINK: "measurement",
         INFER: "measurement"}


@dataclass(frozen=True)
class Requirement:
    name: str
    asks: str
    uses: tuple[str, ...]          # evidence items that bear on it
    human: tuple[str, ...]         # what a person must still assess


REQUIREMENTS = (
    Requirement("GDPR Art. 5(1)(c) data minimisation",
                "Personal data shall be adequate, relevant and limited to what is necessary for the purposes.",
                (IDS, DOMAINS, UNIT),
                ("Whether each released column is necessary for the stated purpose, and whether an aggregate or a "
                 "smaller table would serve it.",)),
    Requirement("GDPR Art. 25 data protection by design and by default",
                "Appropriate technical and organisational measures, designed to implement the data-protection "
                "principles effectively, and by default only the personal data necessary for each purpose.",
                (EPS, LEDGER, DOMAINS, AUDIT),
                ("Whether the chosen epsilon and budget caps are appropriate to the risks of this processing and the "
                 "state of the art, and who may change them.",)),
    Requirement("GDPR Art. 32 security of processing",
                "A level of security appropriate to the risk (pseudonymisation and encryption are named examples), "
                "with regular testing of the measures' effectiveness.",
                (EPS, MIA, COPIES, LEDGER),
                ("Access control of the source relation, the ledger, the metrics table and this report, which remain "
                 "personal data.", "Whether the empirical tests above are repeated often enough to count as regular "
                                   "testing.")),
    Requirement("GDPR Art. 35 data protection impact assessment",
                "Before processing likely to result in a high risk: a description of the processing, an assessment of "
                "necessity, proportionality and risks, and the measures to address them.",
                (EPS, UNIT, MIA, SINGLING, LINK, INFER, AUDIT),
                ("Whether a DPIA is required, and the DPIA itself: this report is an input to it, not one.",)),
    Requirement("GDPR Recital 26 identifiability",
                "Anonymous information falls outside the GDPR; identifiability is judged by all the means reasonably "
                "likely to be used, such as singling out, by the controller or another person (costs, time, "
                "technology).",
                (EPS, UNIT, MIA, SINGLING, LINK, INFER),
                ("Whether the remaining risk, bounded by epsilon and delta for each row, makes identification "
                 "reasonably unlikely in this release's context (who receives it, what else they hold).",
                 "Persons with several rows are protected less (group privacy): whether the privacy unit matches "
                 "the persons in the data.")),
    Requirement("WP29 Opinion 05/2014 (WP216): singling out",
                "Can one isolate some or all records that identify an individual? (The Article 29 Working Party is "
                "the EDPB's predecessor.)",
                (EPS, SINGLING, COPIES),
                ("Whether the attack model of the singling-out test (predicates on the synthetic rows) covers the "
                 "adversaries that matter here.",)),
    Requirement("WP29 Opinion 05/2014 (WP216): linkability",
                "Can one link at least two records concerning the same person or group, in this or other data sets?",
                (EPS, LINK, IDS),
                ("Which auxiliary data sets an adversary could link to, beyond the column split the test used.",)),
    Requirement("WP29 Opinion 05/2014 (WP216): inference",
                "Can one deduce, with significant probability, the value of an attribute from other attributes?",
                (EPS, INFER, MIA),
                ("Whether population-level inferences the table is meant to support (which DP does not prevent) are "
                 "acceptable for the sensitive attributes involved.",)),
    Requirement("HIPAA §164.514(b)(1) expert determination",
                "A qualified expert determines, applying statistical and scientific principles, that the risk is very "
                "small that the information could be used, alone or with other reasonably available information, by "
                "an anticipated recipient to identify an individual, and documents the methods and results.",
                (EPS, UNIT, MIA, SINGLING, LINK, INFER, AUDIT),
                ("The determination itself, by a qualified expert: who the anticipated recipients are, what other "
                 "information is reasonably available to them, and whether the risk is very small.",
                 "The safe-harbor route (§164.514(b)(2)) is a different method and is not evaluated here.")),
    Requirement("CCPA §1798.140(m) deidentified",
                "Information that cannot reasonably be used to infer information about, or be linked to, a particular "
                "consumer, provided the business takes reasonable measures, publicly commits not to reidentify, and "
                "contractually binds recipients.",
                (EPS, UNIT, MIA, LINK, INFER, LEDGER),
                ("Whether the measures are reasonable for this data; the public commitment and the recipients' "
                 "contracts, which no technical parameter provides.",)),
    Requirement("UK ICO anonymisation guidance: motivated intruder test",
                "Could a reasonably competent person without prior knowledge, with resources such as the internet, "
                "libraries and public documents, identify an individual in the released data?",
                (EPS, SINGLING, LINK, INFER, COPIES),
                ("What an intruder could realistically bring (public registers, social media, prior knowledge of "
                 "someone in the data), and the release model (open publication or controlled access).",)),
)


def _evidence_lines(evidence) -> dict[str, str]:
    r = evidence.record
    eps, delta = f(r.get("epsilon_spent")) or 0.0, f(r.get("delta")) or 0.0
    columns = dict(r.get("columns") or {})
    public = sum(c.get("domain") == "public" for c in columns.values())
    found = sum(c.get("domain") == "dp_discovered" for c in columns.values())
    ids = [n for n, c in columns.items() if c.get("domain") == "surrogate_keys"]
    row = evidence.release_row or {}
    lines = {
        EPS: f"(ε, δ) = ({num(eps)}, {num(delta)}) for the whole release, accountant {r.get('accountant')}; any "
             f"membership-inference attack is capped at AUC {num(membership_auc_bound(eps, delta))}.",
        UNIT: f"Privacy unit: {r.get('neighbouring')} of {r.get('relation')}.",
        DOMAINS: f"Columns released: {len(columns)}; with declared public domains: {public}; with domains found by "
                 f"DP (charged to the budget): {found}.",
        IDS: (f"Identifier columns {', '.join(ids)} replaced by fresh surrogate keys (never learned)." if ids
              else "No identifier column was declared."),
        LEDGER: (f"Budget key {row.get('budget_key')} with cap {num(evidence.cap)}; the ledger reserves before any "
                 f"data is read and refuses releases over the cap." if row.get("budget_key")
                 else "No budget key: the ledger does not compose this release with others."),
        AUDIT: f"The audit narrative lists {len(evidence.ledger_rows) or 1} ledger rows in order.",
    }
    for item, names in ((MIA, ("membership_auc_distance", "membership_auc_density")),
                        (COPIES, ("exact_copy_rate", "dcr_share", "nndr_below_holdout_p05")),
                        (SINGLING, ("singling_out_risk",)), (LINK, ("linkability_risk",)),
                        (INFER, ("attribute_inference_risk",))):
        parts = []
        for name in names:
            m = evidence.metric(name)
            if m is None:
                continue
            ci = evidence.metric_detail(name).get("ci95")
            ci_text = f" [95%: {num(ci[0])}, {num(ci[1])}]" if isinstance(ci, list) and len(ci) == 2 else ""
            parts.append(f"{name} {num(m.get('value'))}{ci_text}")
        if parts:
            lines[item] = "Measured (empirical, not DP): " + "; ".join(parts) + "."
    return lines


def build(evidence) -> Section:
    lines = _evidence_lines(evidence)
    blocks: list = [Text("Evidence for a human assessment, not a verdict. For each requirement below: what it asks "
                         "(paraphrased), which parameters and measurements of this release bear on it, and what a "
                         "person must still assess. Whether the synthetic table counts as anonymous, de-identified "
                         "or deidentified under a given law is a legal judgement this report does not make; no "
                         "requirement is marked as met or failed.", "note")]
    marks = []
    for req in REQUIREMENTS:
        available = [u for u in req.uses if u in lines]
        missing = [u for u in req.uses if u not in lines]
        blocks.append(Heading(req.name))
        blocks.append(Text(f"What it asks: {req.asks}"))
        blocks.append(Bullets(tuple(lines[u] for u in available), "Evidence from this release"))
        human = req.human + ((f"Not measured for this release: {', '.join(missing)} (no holdout evaluation).",)
                             if missing else ())
        blocks.append(Bullets(human, "A human must still assess"))
        marks += [[req.name, u, ITEMS[u]] for u in available]
    blocks.insert(1, Figure("evidence_matrix", "Which evidence bears on which requirement", {
        "title": "evidence matrix", "rows": [r.name for r in REQUIREMENTS], "columns": list(ITEMS), "marks": marks},
        "Purple: DP parameters and ledger records of this release; orange: empirical measurements (absent when the "
        "release was not evaluated). A mark means 'is evidence towards'; it decides nothing."))
    return Section("compliance", "Compliance evidence", tuple(blocks))
