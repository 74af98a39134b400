"""Markdown encoding of a report: the same blocks, figures written as tables of their numbers."""

from __future__ import annotations

from typing import Any, Mapping

from .document import Bullets, Facts, Figure, Heading, Report, Row, Table, Text
from .numbers import num


def _cell(x: Any) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def _table(headers, rows) -> str:
    out = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _interpolate(points, x: float) -> float:
    """y at x on the polyline through `points` (sorted by x): exact for the piecewise-linear curves drawn."""
    pts = sorted(points)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return pts[-1][1] if x > pts[-1][0] else pts[0][1]


def _figure_rows(kind: str, d: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The numbers of a figure as (headers, rows)."""
    if kind == "bars":
        texts = d.get("value_texts") or [num(v) for v in d["values"]]
        return ["label", "value"], [[lab, t] for lab, t in zip(d["labels"], texts, strict=True)]
    if kind == "histogram":
        names = [k for k, v in d["series"].items() if v is not None]
        return ["bin"] + names, [[b] + [num(d["series"][k][i], 3) for k in names] for i, b in enumerate(d["bins"])]
    if kind == "cumulative":
        return ["ledger row", "status", "cumulative epsilon"], [[p["label"], p.get("status"), num(p["value"])]
                                                                 for p in d["points"]] + (
            [["cap", "", num(d["cap"])]] if d.get("cap") is not None else [])
    if kind == "heatmap":
        return [""] + list(d["labels"]), [[lab] + [num(v, 3) if v is not None else "" for v in row]
                                          for lab, row in zip(d["labels"], d["matrix"], strict=True)]
    if kind == "intervals":
        return ["measurement", "value", "95% low", "95% high", "threshold", "DP bound"], [
            [r["label"], num(r.get("value")), num(r.get("lo")), num(r.get("hi")), num(r.get("threshold")),
             num(r.get("bound"))] for r in d["rows"]]
    if kind == "curves":
        grid = (0.0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0)
        rows = [[num(x)] + [num(_interpolate(s["points"], x), 3) for s in d["series"]] for x in grid]
        return ["false-positive rate"] + [s["name"] for s in d["series"]], rows
    if kind == "graph":
        return ["column", "measured with", "times"], [[a, b, w] for a, b, w in d.get("edges", [])] or [
            ["(no multi-column marginal)", "", ""]]
    if kind == "timeline":
        return ["when", "event"], [[e.get("when"), e["label"]] for e in d["events"]]
    if kind == "evidence_matrix":
        by_row: dict[str, list[str]] = {r: [] for r in d["rows"]}
        for r, c, _ in d.get("marks", []):
            by_row[r].append(c)
        return ["requirement", "evidence items"], [[r, ", ".join(cs)] for r, cs in by_row.items()]
    return ["data"], [[str(dict(d))]]


def _figure(fig: Figure) -> str:
    headers, rows = _figure_rows(fig.kind, fig.data)
    caption = f"\n\n_{fig.caption}_" if fig.caption else ""
    return f"**Figure: {fig.title}**\n\n{_table(headers, rows)}{caption}"


def _block(b) -> str:
    if isinstance(b, Heading):
        return f"### {b.text}"
    if isinstance(b, Text):
        return b.text if b.tone == "plain" else f"> **{b.tone.capitalize()}:** {b.text}"
    if isinstance(b, Bullets):
        title = f"**{b.title}**\n\n" if b.title else ""
        return title + "\n".join(f"- {i}" for i in b.items)
    if isinstance(b, Facts):
        return _table(["", "value"], [[x.label, x.text] for x in b.items])
    if isinstance(b, Table):
        caption = f"\n\n_{b.caption}_" if b.caption else ""
        return _table(b.headers, b.rows) + caption
    if isinstance(b, Figure):
        return _figure(b)
    if isinstance(b, Row):
        return "\n\n".join(_figure(f) for f in b.figures)
    raise TypeError(f"unknown block {type(b).__name__}")


def to_markdown(report: Report) -> str:
    parts = [f"# {report.title}", report.subtitle, f"> **{report.banner.tone.capitalize()}:** {report.banner.text}"]
    for s in report.sections:
        parts.append(f"## {s.title}")
        parts += [_block(b) for b in s.blocks]
    if report.meta:
        parts.append("---\n" + " · ".join(f"{k}: {v}" for k, v in report.meta.items()))
    return "\n\n".join(parts) + "\n"
