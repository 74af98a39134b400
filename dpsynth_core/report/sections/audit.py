"""Audit narrative: a fixed template filled from the ledger rows of the budget key, in ledger order (reserved at,
spent, released or failed, gates, approvals when present, publications and drops of expired tables). Same rows in, same
sentences out: no generated prose."""

from __future__ import annotations

from typing import Any, Mapping

from ..budget import spent_by_phase
from ..document import Bullets, Figure, Heading, Section, Text
from ..numbers import num
from .common import eps_of_rho, f

APPROVAL_KEYS = ("approved_by", "approved_at", "approval_note")


def _when(value: Any) -> str:
    return str(value)[:19].replace("T", " ") if value is not None else "an unrecorded time"


def _who(row: Mapping[str, Any]) -> str:
    return str(row.get("model") or row.get("target_relation") or row.get("source_relation") or "an unnamed model")


def _row_sentences(row: Mapping[str, Any], cap_known: bool) -> list[tuple[str, str, str]]:
    """(when, status, sentence) for one ledger row."""
    cap = f"of cap {num(row.get('cap_epsilon'))}" if row.get("cap_epsilon") is not None else "(no cap recorded)"
    key = row.get("budget_key")
    if row.get("status") == "published":
        approval = f"; {row.get('error')}" if row.get("error") else ""
        return [(_when(row.get("started_at")), "published",
                 f"{_when(row.get('started_at'))}: published release {str(row.get('release_id'))[:12]} as "
                 f"{row.get('target_relation')} (a released model; not charged){approval}.")]
    if row.get("status") == "withdrawn":
        return [(_when(row.get("started_at")), "withdrawn",
                 f"{_when(row.get('started_at'))}: release {str(row.get('release_id'))[:12]} "
                 f"{row.get('error') or 'withdrawn'} ({row.get('target_relation')} dropped); never served again, "
                 "and nothing is refunded: the release's privacy loss stays in the key's lifetime spend.")]
    if row.get("status") == "dropped":
        return [(_when(row.get("started_at")), "dropped",
                 f"{_when(row.get('started_at'))}: dropped {row.get('target_relation')}, which carried release "
                 f"{str(row.get('release_id'))[:12]} ({row.get('error') or 'expired'}); nothing is refunded: the "
                 "release's privacy loss stays in the key's lifetime spend.")]
    if row.get("status") == "reused":
        return [(_when(row.get("started_at")), "reused",
                 f"{_when(row.get('started_at'))}: served stored release {str(row.get('release_id'))[:12]} again as "
                 f"{row.get('target_relation') or _who(row)} ({num(row.get('rows'))} rows re-sampled from its fitted "
                 "model, the source not read); not charged"
                 + (f"; budget key {key} stayed at composed epsilon {num(row.get('cumulative_epsilon'))} {cap}."
                    if key is not None else "."))]
    out = [(_when(row.get("started_at")), "reserved",
            f"{_when(row.get('started_at'))}: reserved epsilon {num(row.get('epsilon'))} "
            f"(delta {num(row.get('delta'))}, "
            f"rho {num(row.get('rho'))}) for {_who(row)} from {row.get('source_relation')} with generator "
            f"{row.get('generator')}, release {str(row.get('release_id'))[:12]}"
            + (f"; budget key {key} then stood at composed epsilon {num(row.get('cumulative_epsilon'))} {cap}."
               if key is not None else "; no budget key, so it is not composed with other releases."))]
    status = row.get("status")
    if status == "released":
        out.append((_when(row.get("finished_at")), "released",
                    f"{_when(row.get('finished_at'))}: released {num(row.get('rows'))} rows as "
                    f"{row.get('target_relation') or _who(row)}."))
    elif status == "failed":
        error = str(row.get("error") or "no error text").splitlines()[0][:200]
        out.append((_when(row.get("finished_at")), "failed",
                    f"{_when(row.get('finished_at'))}: failed ({error}); the reservation stays charged."))
    else:
        out.append((_when(row.get("started_at")), "reserved",
                    "no outcome recorded yet; the reservation stays charged."))
    approvals = row.get("approvals") or ([{"approved_by": row.get("approved_by"), "approved_at": row.get("approved_at"),
                                           "note": row.get("approval_note")}]
                                         if any(row.get(k) for k in APPROVAL_KEYS) else [])
    for a in approvals:
        shown = (f"; shown: the {str(a.get('shown_kind')).replace('_', ' ')} with SHA-256 "
                 f"{str(a.get('shown_sha256'))[:16]}..." if a.get("shown_sha256") else "")
        out.append((_when(a.get("approved_at")), "approved",
                    f"{_when(a.get('approved_at'))}: release {str(row.get('release_id'))[:12]} approved by "
                    f"{a.get('approved_by') or 'an unrecorded person'}"
                    + (f" ({a.get('note')})" if a.get("note") else "") + shown + "."))
    return out


def _this_release(evidence) -> list[tuple[str, str, str]]:
    r = evidence.record
    phases = spent_by_phase(r)
    delta = f(r.get("delta_conversion"))
    when = _when(r.get("created_at"))
    out = [(when, "spent",
            f"For this release, DP domain discovery spent rho {num(phases['preprocessing'])} (epsilon "
            f"{num(eps_of_rho(phases['preprocessing'], delta))} on its own) and the generator {r.get('generator')} "
            f"spent rho {num(phases['generator'])}"
            + (f" plus epsilon {num(r.get('epsilon_other'))} by DP-SGD" if f(r.get("epsilon_other")) else "")
            + f"; in total epsilon {num(r.get('epsilon_spent'))} of the {num(r.get('epsilon'))} requested "
              f"(delta {num(r.get('delta'))}).")]
    if evidence.metrics:
        computed = min(str(m.get("computed_at")) for m in evidence.metrics)
        failed = [m["metric"] for m in evidence.metrics if m.get("passed") is False]
        gated = [m for m in evidence.metrics if m.get("passed") is not None]
        by_kind = {k: [m for m in gated if m.get("kind") == k] for k in ("privacy", "utility")}
        summary = ", ".join(f"{k} gates {sum(m.get('passed') is True for m in v)}/{len(v)} passed"
                            for k, v in by_kind.items() if v)
        out.append((_when(computed), "gates",
                    f"{_when(computed)}: evaluated on the holdout with {len(evidence.metrics)} metrics ({summary})"
                    + (f"; failed: {', '.join(failed)}." if failed else "; no gate failed.")))
    else:
        out.append((when, "gates", "No evaluation metrics were stored for this release, so no gate ran on it."))
    return out


def build(evidence) -> Section:
    rows = list(evidence.ledger_rows) or [{"release_id": evidence.release_id, "status": "released",
                                           "source_relation": evidence.record.get("relation"),
                                           "generator": evidence.record.get("generator"),
                                           "epsilon": evidence.record.get("epsilon"),
                                           "started_at": evidence.record.get("created_at")}]
    sentences, events = [], []
    for row in rows:
        current = str(row.get("release_id")) == evidence.release_id
        for when, status, text in _row_sentences(row, evidence.cap is not None):
            sentences.append(text)
            events.append({"label": f"{status} {_who(row)}", "when": when, "status": status, "current": current})
        if current:
            for when, status, text in _this_release(evidence):
                sentences.append(text)
                events.append({"label": f"{status} (this release)", "when": when, "status": status, "current": True})
    key = evidence.budget_key
    intro = (f"What the ledger recorded for budget key {key}, oldest first ({len(rows)} rows; every status is charged)."
             if key is not None else "What the ledger recorded for this release (it has no budget key).")
    blocks = [Text(intro), Bullets(tuple(sentences)),
              Figure("timeline", "Ledger events in order", {"title": "audit timeline", "events": events},
                     "Grey: reserved, green: released, red: failed, purple: gates or approvals; large: this release.")]
    if not any(any(r.get(k) for k in APPROVAL_KEYS + ("approvals",)) for r in rows):
        blocks.append(Heading("Approvals"))
        blocks.append(Text("The ledger records no approvals for these releases (no governance step is configured)."))
    return Section("audit", "Audit narrative", tuple(blocks))
