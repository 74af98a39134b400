"""Build a release report from its evidence and write it as HTML, JSON and Markdown."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from .. import __version__
from .document import Report, Text
from .html import to_html
from .inputs import ReleaseEvidence
from .markdown import to_markdown
from .numbers import num
from .sections import audit, compliance, model_card, privacy, privacy_evaluation, utility

SECTION_BUILDERS = (privacy.build, utility.build, privacy_evaluation.build, model_card.build, audit.build,
                    compliance.build)
SECTION_TITLES = ("Privacy", "Utility", "Privacy evaluation", "Model card", "Audit narrative", "Compliance evidence")


def _banner(evidence: ReleaseEvidence) -> Text:
    where = f" Written to {evidence.written_to}." if evidence.written_to else ""
    if evidence.evaluated:
        source = f" (from {evidence.metrics_location})" if evidence.metrics_location else ""
        return Text("SENSITIVE: this report contains empirical, non-DP measurements of real rows in its Utility and "
                    f"Privacy evaluation sections{source}. Handle it like the metrics table: share it only with the "
                    f"people who sign off the release, not with the synthetic table's users.{where}", "warning")
    return Text("This report holds DP outputs and public parameters only (the release record and the ledger); no "
                f"release evaluation on real rows was stored for it.{where}", "note")


def release_summary(evidence: ReleaseEvidence) -> dict[str, Any]:
    """The release in a few public numbers (for a model description / dbt `meta`, and the report's JSON `data`).

    Public and DP numbers only: no evaluation result (not even which gates failed), since a model description
    reaches a wider audience than the metrics table.
    """
    from .numbers import membership_auc_bound
    from .sections.privacy import key_total

    r, row = evidence.record, evidence.release_row or {}
    eps, delta = float(r.get("epsilon_spent") or 0.0), float(r.get("delta") or 0.0)
    total = key_total(evidence)
    return {"release_id": evidence.release_id, "relation": r.get("relation"), "model": row.get("model"),
            "target_relation": row.get("target_relation"), "generator": r.get("generator"),
            "epsilon": r.get("epsilon"), "epsilon_spent": r.get("epsilon_spent"), "delta": r.get("delta"),
            "accountant": r.get("accountant"), "rows": r.get("rows"), "privacy_unit": r.get("neighbouring"),
            "membership_auc_bound": membership_auc_bound(eps, delta), "budget_key": evidence.budget_key,
            "key_epsilon": None if total is None else total["epsilon"], "cap": evidence.cap,
            "remaining": None if total is None else total["remaining"], "evaluated": evidence.evaluated,
            "report_path": evidence.written_to}


def release_report(evidence: ReleaseEvidence) -> Report:
    """The release report of `evidence` (deterministic: the same evidence gives the same document)."""
    r = evidence.record
    row = evidence.release_row or {}
    target = row.get("target_relation") or row.get("model")
    title = f"Release evidence: {r.get('relation')}" + (f" → {target}" if target else "")
    subtitle = (f"release {evidence.release_id} · generator {r.get('generator')} · ε = {num(r.get('epsilon_spent'))} "
                f"(requested {num(r.get('epsilon'))}), δ = {num(r.get('delta'))} · created {r.get('created_at')}")
    meta = {"release_id": evidence.release_id, "relation": r.get("relation"), "generator": r.get("generator"),
            "renderer": f"dpsynth {__version__}", "sensitive": evidence.evaluated}
    if evidence.written_to:
        meta["written_to"] = evidence.written_to
    return Report("release", title, subtitle, _banner(evidence), tuple(b(evidence) for b in SECTION_BUILDERS), meta,
                  {"summary": release_summary(evidence)})


def _clean(obj: Any) -> Any:
    """NaN/inf -> None so the JSON is strict."""
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def to_json(report: Report) -> str:
    return json.dumps(_clean(report.to_dict()), indent=1, allow_nan=False, default=str) + "\n"


def file_stem(name: str | None, release_id: str) -> str:
    """`<name>-<first 12 of release id>`, with anything but letters, digits, '.', '_' and '-' replaced."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", str(name or "release")).strip("._") or "release"
    return f"{base}-{str(release_id)[:12]}"


def write_report(report: Report, out_dir: str | Path, stem: str) -> dict[str, Path]:
    """Write `<stem>.html`, `<stem>.json` and `<stem>.md` under `out_dir` (created); returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"html": out / f"{stem}.html", "json": out / f"{stem}.json", "md": out / f"{stem}.md"}
    paths["html"].write_text(to_html(report), encoding="utf-8")
    paths["json"].write_text(to_json(report), encoding="utf-8")
    paths["md"].write_text(to_markdown(report), encoding="utf-8")
    return paths


def write_release_report(evidence: ReleaseEvidence, out_dir: str | Path) -> dict[str, Path]:
    """Render and write the report of one release; the report states the directory it was written to."""
    row = evidence.release_row or {}
    stem = file_stem(row.get("model") or evidence.record.get("relation"), evidence.release_id)
    if evidence.written_to is None:
        from dataclasses import replace

        evidence = replace(evidence, written_to=str(Path(out_dir) / f"{stem}.html"))
    return write_report(release_report(evidence), out_dir, stem)
