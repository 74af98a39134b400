"""HTML encoding of a report: one self-contained file (inline CSS, inline SVG, no script). A Content-Security-Policy
of `default-src 'none'` makes the browser refuse any request the page might still try to make."""

from __future__ import annotations

from html import escape

from .document import Bullets, Facts, Figure, Heading, Report, Row, Table, Text
from .svg import render

CSP = "default-src 'none'; style-src 'unsafe-inline'"

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;margin:0;background:#fafafa;
line-height:1.45;font-size:14px}
header,main,footer{max-width:1100px;margin:0 auto;padding:0 24px}
header{padding-top:20px}h1{font-size:22px;margin:0 0 4px}.subtitle{color:#555;margin:0 0 12px}
nav{margin:10px 0 0}nav a{margin-right:14px;color:#4c3a8a;text-decoration:none}
section{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:8px 20px 16px;margin:18px 0}
h2{font-size:19px;border-bottom:2px solid #6b4ca5;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.box{border-left:5px solid #9aa5b1;background:#f3f5f7;padding:8px 12px;margin:10px 0}
.warning{border-left-color:#c0392b;background:#fdf0ee}.note{border-left-color:#6b4ca5;background:#f5f1fb}
.banner{font-weight:600}
dl.facts{display:grid;grid-template-columns:minmax(220px,30%) 1fr;gap:3px 14px;margin:8px 0}
dl.facts dt{color:#555}dl.facts dd{margin:0;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 7px;
text-align:left;vertical-align:top}th{background:#f0f0f3}td{font-variant-numeric:tabular-nums}
caption{caption-side:bottom;color:#555;text-align:left;padding-top:4px;font-size:12px}
figure{margin:10px 0}figcaption{color:#555;font-size:12px;max-width:720px}.figtitle{font-weight:600;font-size:13px}
.row{display:flex;flex-wrap:wrap;gap:12px}.row figure{margin:4px 0}
svg.chart{background:#fff;max-width:100%;height:auto}
details summary{cursor:pointer;color:#4c3a8a}footer{color:#777;font-size:12px;padding-bottom:30px}
"""


def _e(text) -> str:
    return escape(str(text), quote=True)


def _figure(fig: Figure) -> str:
    caption = f"<figcaption>{_e(fig.caption)}</figcaption>" if fig.caption else ""
    return (f'<figure data-kind="{_e(fig.kind)}"><div class="figtitle">{_e(fig.title)}</div>'
            f"{render(fig.kind, fig.data)}{caption}</figure>")


def _table(t: Table) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in t.headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in t.rows)
    caption = f"<caption>{_e(t.caption)}</caption>" if t.caption else ""
    html = f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if t.collapsed:
        return f"<details><summary>{_e(t.caption or 'table')} ({len(t.rows)} rows)</summary>{html}</details>"
    return html


def _block(b) -> str:
    if isinstance(b, Heading):
        return f"<h3>{_e(b.text)}</h3>"
    if isinstance(b, Text):
        if b.tone == "plain":
            return f"<p>{_e(b.text)}</p>"
        return f'<div class="box {_e(b.tone)}">{_e(b.text)}</div>'
    if isinstance(b, Bullets):
        title = f'<div class="figtitle">{_e(b.title)}</div>' if b.title else ""
        return title + "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in b.items) + "</ul>"
    if isinstance(b, Facts):
        return '<dl class="facts">' + "".join(f"<dt>{_e(x.label)}</dt><dd>{_e(x.text)}</dd>" for x in b.items) + "</dl>"
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Figure):
        return _figure(b)
    if isinstance(b, Row):
        return '<div class="row">' + "".join(_figure(f) for f in b.figures) + "</div>"
    raise TypeError(f"unknown block {type(b).__name__}")


def to_html(report: Report) -> str:
    nav = "".join(f'<a href="#{_e(s.id)}">{_e(s.title)}</a>' for s in report.sections)
    sections = "".join(f'<section id="{_e(s.id)}"><h2>{_e(s.title)}</h2>' + "".join(_block(b) for b in s.blocks)
                       + "</section>" for s in report.sections)
    banner = f'<div class="box banner {_e(report.banner.tone)}">{_e(report.banner.text)}</div>'
    footer = " · ".join(f"{_e(k)}: {_e(v)}" for k, v in report.meta.items())
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(report.title)}</title><style>{CSS}</style></head><body>"
            f'<header><h1>{_e(report.title)}</h1><p class="subtitle">{_e(report.subtitle)}</p>{banner}'
            f"<nav>{nav}</nav></header><main>{sections}</main><footer>{footer}</footer></body></html>\n")
