"""Release evidence: one self-contained HTML report per release (plus the same content as JSON and Markdown) built
from plain data: the release record, the ledger rows of its budget key, the caps, the metric rows and the evaluation's
plot data. Also the pre-spend plan report (expected noise and error at a requested epsilon, from public numbers).

Sections of a release report: Privacy, Utility, Privacy evaluation, Model card, Audit narrative, Compliance evidence.
The Utility and Privacy evaluation sections show non-DP measurements of real rows and are marked as such.
"""

from .build import (
    SECTION_TITLES,
    file_stem,
    release_report,
    release_summary,
    to_json,
    write_release_report,
    write_report,
)
from .document import Report
from .html import to_html
from .inputs import ReleaseEvidence, evidence_from_rows
from .markdown import to_markdown
from .plan import PlanRequest, plan_report

__all__ = ["SECTION_TITLES", "PlanRequest", "ReleaseEvidence", "Report", "evidence_from_rows", "file_stem",
           "plan_report", "release_report", "release_summary", "to_html", "to_json", "to_markdown",
           "write_release_report", "write_report"]
