"""The report as data: sections of blocks (text, facts, tables, figures) that the HTML, Markdown and JSON renderers
write out. One document, three encodings, so the three files always say the same thing.

Blocks are frozen values. A `Figure` carries its numbers (`data`) and a `kind` naming the chart that draws them
(`svg.CHARTS`); Markdown writes the same numbers as a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Union


@dataclass(frozen=True)
class Heading:
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "heading", "text": self.text}


@dataclass(frozen=True)
class Text:
    """A paragraph. `tone`: 'plain', 'note' or 'warning' (drawn as a marked box)."""

    text: str
    tone: str = "plain"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "text", "text": self.text, "tone": self.tone}


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "bullets", "title": self.title, "items": list(self.items)}


@dataclass(frozen=True)
class Fact:
    """One labelled value: `value` is the raw number/string (JSON), `text` how the report prints it."""

    label: str
    value: Any
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "text": self.text}


@dataclass(frozen=True)
class Facts:
    items: tuple[Fact, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"type": "facts", "items": [f.to_dict() for f in self.items]}


@dataclass(frozen=True)
class Table:
    """Rows of printed cells. `collapsed`: long tables are folded in HTML (a <details> element, no script)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    collapsed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"type": "table", "caption": self.caption, "headers": list(self.headers),
                "rows": [list(r) for r in self.rows]}


@dataclass(frozen=True)
class Figure:
    kind: str
    title: str
    data: Mapping[str, Any]
    caption: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "figure", "kind": self.kind, "title": self.title, "caption": self.caption,
                "data": dict(self.data)}


@dataclass(frozen=True)
class Row:
    """Figures side by side (e.g. the real, synthetic and holdout matrices)."""

    figures: tuple[Figure, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"type": "row", "figures": [f.to_dict() for f in self.figures]}


Block = Union[Heading, Text, Bullets, Facts, Table, Figure, Row]


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    blocks: tuple[Block, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "blocks": [b.to_dict() for b in self.blocks]}


@dataclass(frozen=True)
class Report:
    """`kind`: 'release' or 'plan'. `banner`: the sensitivity statement printed above everything else."""

    kind: str
    title: str
    subtitle: str
    banner: Text
    sections: tuple[Section, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)    # machine-readable payload, written to the JSON only

    def section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)

    def to_dict(self) -> dict[str, Any]:
        return {"report": self.kind, "format_version": 1, "title": self.title, "subtitle": self.subtitle,
                "banner": self.banner.to_dict(), "meta": dict(self.meta),
                "sections": [s.to_dict() for s in self.sections], "data": dict(self.data)}
