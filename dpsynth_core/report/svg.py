"""Inline SVG charts written by hand: no script, no font or image requests, so a report opens from disk anywhere.

Each chart is a function `(data) -> str` registered in `CHARTS` under the `Figure.kind` it draws. Colours: real rows
blue, holdout grey, synthetic orange (the same in every chart); text uses the page's system font.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any, Callable, Mapping, Sequence

from .numbers import num

REAL, HOLDOUT, SYNTHETIC = "#4c72b0", "#9aa5b1", "#dd8452"
ACCENT, BAD, GOOD, MUTED, INK = "#6b4ca5", "#c0392b", "#2e8b57", "#c8ced6", "#222"
SERIES_COLOURS = {"real": REAL, "holdout": HOLDOUT, "synthetic": SYNTHETIC}
WIDTH = 720


def _t(text: Any) -> str:
    return escape(str(text), quote=True)


def _svg(width: float, height: float, title: str, body: Sequence[str]) -> str:
    return (f'<svg class="chart" role="img" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}"><title>{_t(title)}</title>'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, text: Any, size: int = 11, anchor: str = "start", colour: str = INK,
          rotate: float | None = None, weight: str = "normal") -> str:
    transform = f' transform="rotate({rotate:.0f} {x:.1f} {y:.1f})"' if rotate is not None else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{colour}" '
            f'font-weight="{weight}"{transform}>{_t(text)}</text>')


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str | None = None, stroke: str | None = None) -> str:
    s = f' stroke="{stroke}"' if stroke else ""
    inner = f"<title>{_t(tip)}</title>" if tip else ""
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" fill="{fill}"{s}>'
            f"{inner}</rect>")


def _line(x1: float, y1: float, x2: float, y2: float, colour: str = INK, width: float = 1, dash: str | None = None
          ) -> str:
    d = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
            f'stroke-width="{width}"{d}/>')


def _short(label: Any, n: int = 28) -> str:
    s = str(label)
    return s if len(s) <= n else s[: n - 1] + "…"


def _legend(x: float, y: float, entries: Sequence[tuple[str, str]]) -> list[str]:
    out = []
    for name, colour in entries:
        out.append(_rect(x, y - 9, 10, 10, colour))
        out.append(_text(x + 14, y, name, 11))
        x += 24 + 7 * len(name)
    return out


# ---------------------------------------------------------------------------------------------------------------------
# charts
# ---------------------------------------------------------------------------------------------------------------------

def bars(data: Mapping[str, Any]) -> str:
    """Horizontal bars. data: labels, values, optional colours (per bar), unit, value_texts, max."""
    labels, values = list(data["labels"]), [float(v or 0.0) for v in data["values"]]
    colours = list(data.get("colours") or [ACCENT] * len(values))
    texts = list(data.get("value_texts") or [num(v) for v in values])
    top = float(data.get("max") or max(values + [1e-300]))
    label_w, bar_w, row = 230, WIDTH - 230 - 170, 20
    body = []
    for i, (label, v, c, tx) in enumerate(zip(labels, values, colours, texts, strict=True)):
        y = 8 + i * row
        body.append(_text(label_w - 6, y + 13, _short(label, 36), anchor="end"))
        body.append(_rect(label_w, y + 2, bar_w * (v / top if top > 0 else 0), row - 6, c, f"{label}: {tx}"))
        body.append(_text(label_w + bar_w * (v / top if top > 0 else 0) + 4, y + 13, tx, 10))
    height = 16 + row * len(labels)
    legend = data.get("legend")
    if legend:
        body += _legend(label_w, height + 6, [(k, v) for k, v in legend.items()])
        height += 18
    return _svg(WIDTH, height, data.get("title", "bar chart"), body)


def histogram(data: Mapping[str, Any]) -> str:
    """Grouped vertical bars of shares on shared bins. data: bins, series {name: [shares]} (real/holdout/synthetic)."""
    bins = list(data["bins"])
    series = [(k, [float(x or 0.0) for x in v]) for k, v in data["series"].items() if v is not None]
    width, height, left, bottom, top_pad = int(data.get("width", 340)), 210, 38, 70, 10
    plot_w, plot_h = width - left - 8, height - bottom - top_pad
    colours = {**SERIES_COLOURS, **dict(data.get("colours") or {})}
    top = max([max(v) for _, v in series] + [1e-9])
    slot = plot_w / max(len(bins), 1)
    bar = slot * 0.8 / max(len(series), 1)
    body = [_line(left, top_pad + plot_h, left + plot_w, top_pad + plot_h, MUTED)]
    for frac in (0.5, 1.0):
        y = top_pad + plot_h * (1 - frac)
        body.append(_line(left, y, left + plot_w, y, MUTED, 0.5, "2,2"))
        body.append(_text(left - 3, y + 4, f"{100 * top * frac:.3g}%", 9, "end"))
    for i, label in enumerate(bins):
        x0 = left + i * slot + slot * 0.1
        for k, (name, values) in enumerate(series):
            h = plot_h * values[i] / top
            body.append(_rect(x0 + k * bar, top_pad + plot_h - h, bar, h, colours.get(name, ACCENT),
                              f"{label} {name}: {100 * values[i]:.3g}%"))
        if len(bins) <= 24:
            body.append(_text(left + (i + 0.5) * slot, top_pad + plot_h + 10, _short(label, 16), 8, "end",
                              rotate=-45))
    body += _legend(left, height - 4, [(name, colours.get(name, ACCENT)) for name, _ in series])
    return _svg(width, height, data.get("title", "histogram"), body)


def cumulative(data: Mapping[str, Any]) -> str:
    """Cumulative composed epsilon of a budget key, release after release, against its cap.

    data: points [{label, value, status, current}], cap (or None), caps per point (optional)."""
    points = list(data["points"])
    cap = data.get("cap")
    width, height, left, bottom, top_pad = WIDTH, 260, 50, 80, 14
    plot_w, plot_h = width - left - 20, height - bottom - top_pad
    top = max([float(p["value"] or 0.0) for p in points] + [float(cap or 0.0), 1e-9]) * 1.1
    n = max(len(points), 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + plot_w * (i + 0.5) / n, top_pad + plot_h * (1 - v / top)

    body = [_line(left, top_pad + plot_h, left + plot_w, top_pad + plot_h, MUTED), _line(left, top_pad, left,
                                                                                         top_pad + plot_h, MUTED)]
    for frac in (0.25, 0.5, 0.75, 1.0):
        y = top_pad + plot_h * (1 - frac)
        body.append(_text(left - 4, y + 4, num(top * frac, 3), 9, "end"))
        body.append(_line(left, y, left + plot_w, y, MUTED, 0.5, "2,2"))
    if cap is not None:
        y = xy(0, float(cap))[1]
        body.append(_line(left, y, left + plot_w, y, BAD, 1.5, "6,3"))
        body.append(_text(left + plot_w - 2, y - 4, f"cap {num(cap)}", 10, "end", BAD))
    path, prev = [], None
    for i, p in enumerate(points):
        x, y = xy(i, float(p["value"] or 0.0))
        if prev is not None:
            path.append(f"L{x:.1f},{prev[1]:.1f} L{x:.1f},{y:.1f}")
        else:
            path.append(f"M{left:.1f},{top_pad + plot_h:.1f} L{x:.1f},{top_pad + plot_h:.1f} L{x:.1f},{y:.1f}")
        prev = (x, y)
    body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    for i, p in enumerate(points):
        x, y = xy(i, float(p["value"] or 0.0))
        colour = {"released": ACCENT, "failed": BAD}.get(p.get("status"), HOLDOUT)
        r = 6 if p.get("current") else 4
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}" '
                    f'stroke="{INK if p.get("current") else "none"}"><title>{_t(p["label"])}: {_t(p.get("status"))}, '
                    f'cumulative epsilon {_t(num(p["value"]))}</title></circle>')
        if n <= 16:
            body.append(_text(x, top_pad + plot_h + 12, _short(p["label"], 34), 8, "end", rotate=-25))
    body.append(_text(left, 10, "composed epsilon of the budget key", 10, colour="#555"))
    return _svg(width, height, data.get("title", "cumulative spend"), body)


def _colour_scale(v: float | None, vmin: float, vmax: float, diverging: bool) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "#f4f4f4"
    if diverging:
        t = max(-1.0, min(1.0, v / max(abs(vmin), abs(vmax), 1e-12)))
        a, b = ((255, 255, 255), (178, 24, 43)) if t > 0 else ((255, 255, 255), (33, 102, 172))
        t = abs(t)
    else:
        t = 0.0 if vmax <= vmin else max(0.0, min(1.0, (v - vmin) / (vmax - vmin)))
        a, b = (255, 255, 255), (107, 76, 165)
    rgb = tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
    return "#%02x%02x%02x" % rgb


def heatmap(data: Mapping[str, Any]) -> str:
    """Square matrix. data: labels, matrix (None = no value), vmin, vmax, diverging (bool)."""
    labels, matrix = list(data["labels"]), data["matrix"]
    vmin, vmax = float(data.get("vmin", 0.0)), float(data.get("vmax", 1.0))
    diverging = bool(data.get("diverging"))
    d = max(len(labels), 1)
    cell = max(5.0, min(20.0, 230.0 / d))
    left = top_pad = 90
    size = cell * d
    body = []
    for i, row in enumerate(matrix):
        body.append(_text(left - 4, top_pad + (i + 0.7) * cell, _short(labels[i], 14), 9 if cell >= 10 else 7, "end"))
        for j, v in enumerate(row):
            body.append(_rect(left + j * cell, top_pad + i * cell, cell, cell, _colour_scale(v, vmin, vmax, diverging),
                              f"{labels[i]} × {labels[j]}: {num(v, 3)}"))
    for j, label in enumerate(labels):
        body.append(_text(left + (j + 0.6) * cell, top_pad - 4, _short(label, 14), 9 if cell >= 10 else 7,
                          rotate=-60))
    scale_y = top_pad + size + 16
    for k in range(11):
        v = vmin + (vmax - vmin) * k / 10
        body.append(_rect(left + k * 12, scale_y, 12, 8, _colour_scale(v, vmin, vmax, diverging)))
    body.append(_text(left, scale_y + 20, num(vmin, 2), 9))
    body.append(_text(left + 132, scale_y + 20, num(vmax, 2), 9, "end"))
    return _svg(left + size + 10, scale_y + 26, data.get("title", "heatmap"), body)


def intervals(data: Mapping[str, Any]) -> str:
    """Estimates with 95% intervals on one axis. data: rows [{label, value, lo, hi, threshold, bound, passed}],
    min, max, reference (a value drawn as a dotted line, e.g. 0.5 for AUCs)."""
    rows = list(data["rows"])
    lo_axis, hi_axis = float(data.get("min", 0.0)), float(data.get("max", 1.0))
    label_w, plot_w, row = 270, WIDTH - 270 - 30, 26
    height = 34 + row * len(rows)

    def x(v: float) -> float:
        return label_w + plot_w * (max(lo_axis, min(hi_axis, v)) - lo_axis) / (hi_axis - lo_axis)

    body = [_line(label_w, height - 22, label_w + plot_w, height - 22, MUTED)]
    for k in range(6):
        v = lo_axis + (hi_axis - lo_axis) * k / 5
        body.append(_line(x(v), 4, x(v), height - 22, MUTED, 0.5, "2,2"))
        body.append(_text(x(v), height - 8, num(v, 2), 9, "middle"))
    for i, r in enumerate(rows):
        y = 14 + i * row
        body.append(_text(label_w - 8, y + 4, _short(r["label"], 44), 11, "end"))
        if r.get("lo") is not None and r.get("hi") is not None:
            body.append(_line(x(r["lo"]), y, x(r["hi"]), y, INK, 1.5))
        if r.get("threshold") is not None:
            t = x(r["threshold"])
            body.append(_line(t, y - 8, t, y + 8, BAD, 2))
        if r.get("bound") is not None:
            b = x(r["bound"])
            body.append(f'<path d="M{b - 5:.1f},{y - 9:.1f} L{b + 5:.1f},{y - 9:.1f} L{b:.1f},{y - 2:.1f} Z" '
                        f'fill="{ACCENT}"><title>DP bound {_t(num(r["bound"]))}</title></path>')
        if r.get("value") is not None:
            colour = {True: GOOD, False: BAD}.get(r.get("passed"), HOLDOUT)
            body.append(f'<circle cx="{x(r["value"]):.1f}" cy="{y:.1f}" r="5" fill="{colour}"><title>'
                        f'{_t(r["label"])}: {_t(num(r["value"]))}</title></circle>')
    return _svg(WIDTH, height, data.get("title", "estimates with intervals"), body)


def curves(data: Mapping[str, Any]) -> str:
    """Curves in the unit square. data: series [{name, points [[x, y]], colour}], diagonal (bool), x_label, y_label."""
    size, pad = 260, 40
    body = [_rect(pad, 10, size, size, "none", stroke=MUTED)]
    if data.get("diagonal", True):
        body.append(_line(pad, 10 + size, pad + size, 10, MUTED, 1, "4,3"))
    for k in range(0, 5):
        v = k / 4
        body.append(_text(pad + size * v, size + 24, num(v, 2), 9, "middle"))
        body.append(_text(pad - 4, 10 + size * (1 - v) + 3, num(v, 2), 9, "end"))
    legend = []
    for s in data["series"]:
        pts = " ".join(f"{pad + size * x:.1f},{10 + size * (1 - y):.1f}" for x, y in s["points"])
        colour = s.get("colour", ACCENT)
        body.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        legend.append((s["name"], colour))
    body.append(_text(pad + size / 2, size + 38, data.get("x_label", ""), 10, "middle"))
    body.append(_text(12, 10 + size / 2, data.get("y_label", ""), 10, "middle", rotate=-90))
    y = 24
    for name, colour in legend:
        body.append(_rect(pad + size + 14, y - 9, 10, 10, colour))
        body.append(_text(pad + size + 28, y, name, 10))
        y += 16
    return _svg(pad + size + 230, size + 46, data.get("title", "curves"), body)


def graph(data: Mapping[str, Any]) -> str:
    """Columns on a circle, an edge per measured marginal. data: nodes [{name, discovered}], edges [[a, b, weight]]."""
    nodes = list(data["nodes"])
    size, radius = 420, 150
    cx, cy = size / 2 + 40, size / 2
    pos = {}
    for i, n in enumerate(nodes):
        angle = 2 * math.pi * i / max(len(nodes), 1) - math.pi / 2
        pos[n["name"]] = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    body = []
    for a, b, w in data.get("edges", []):
        if a in pos and b in pos:
            body.append(_line(*pos[a], *pos[b], ACCENT, 1 + min(float(w), 4.0), None))
    for n in nodes:
        x, y = pos[n["name"]]
        colour = SYNTHETIC if n.get("discovered") else REAL
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{colour}"><title>{_t(n["name"])}</title></circle>')
        anchor = "start" if x >= cx else "end"
        body.append(_text(x + (10 if x >= cx else -10), y + 4, _short(n["name"], 20), 10, anchor))
    body += _legend(10, size - 8, [("public domain", REAL), ("DP-discovered domain", SYNTHETIC),
                                   ("measured marginal", ACCENT)])
    return _svg(size + 80, size, data.get("title", "measured marginals"), body)


def timeline(data: Mapping[str, Any]) -> str:
    """Ledger events in order. data: events [{label, when, status, current}]."""
    events = list(data["events"])
    n = max(len(events), 1)
    width = WIDTH
    step = (width - 80) / max(n - 1, 1)
    y = 40
    body = [_line(40, y, 40 + step * (n - 1) if n > 1 else 40, y, MUTED, 2)]
    for i, e in enumerate(events):
        x = 40 + step * i if n > 1 else 40
        colour = {"released": GOOD, "failed": BAD, "reserved": HOLDOUT, "gates": ACCENT, "spent": ACCENT,
                  "approved": ACCENT}.get(e.get("status"), HOLDOUT)
        r = 8 if e.get("current") else 5
        body.append(f'<circle cx="{x:.1f}" cy="{y}" r="{r}" fill="{colour}"><title>{_t(e["label"])} '
                    f'({_t(e.get("when"))})</title></circle>')
        if n <= 14:
            body.append(_text(x, y + 20, _short(e["label"], 22), 9, "start", rotate=35))
    return _svg(width + 140, 160, data.get("title", "timeline"), body)


def evidence_matrix(data: Mapping[str, Any]) -> str:
    """Requirements (rows) against evidence items (columns). data: rows, columns, marks [[row, column, strength]]."""
    rows, columns = list(data["rows"]), list(data["columns"])
    cell, left, top_pad = 22, 360, 140
    body = []
    for i, r in enumerate(rows):
        body.append(_text(left - 6, top_pad + i * cell + 15, _short(r, 62), 10, "end"))
        body.append(_line(left, top_pad + (i + 1) * cell, left + cell * len(columns), top_pad + (i + 1) * cell,
                          "#eee"))
    for j, c in enumerate(columns):
        body.append(_text(left + j * cell + 14, top_pad - 6, _short(c, 26), 10, rotate=-55))
    for r, c, strength in data.get("marks", []):
        i, j = rows.index(r), columns.index(c)
        fill = ACCENT if strength == "parameter" else SYNTHETIC
        body.append(f'<circle cx="{left + j * cell + 11:.1f}" cy="{top_pad + i * cell + 11:.1f}" r="6" fill="{fill}">'
                    f'<title>{_t(r)} ← {_t(c)}</title></circle>')
    height = top_pad + cell * len(rows) + 30
    body += _legend(left, height - 8, [("DP parameter / ledger", ACCENT), ("empirical measurement", SYNTHETIC)])
    return _svg(max(left + cell * len(columns) + 120, left + 330), height, data.get("title", "evidence matrix"),
                body)


CHARTS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "bars": bars, "histogram": histogram, "cumulative": cumulative, "heatmap": heatmap, "intervals": intervals,
    "curves": curves, "graph": graph, "timeline": timeline, "evidence_matrix": evidence_matrix,
}


def render(kind: str, data: Mapping[str, Any]) -> str:
    if kind not in CHARTS:
        raise ValueError(f"no chart for figure kind {kind!r} (known: {sorted(CHARTS)})")
    return CHARTS[kind](data)
