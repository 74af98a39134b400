"""The release's budget split as chartable rows: the record's `budget_tree` when it has one, else its flat `spend`
list grouped by step (every Gaussian measurement of one phase together)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

PREPROCESSING_STEPS = ("domain", "bounds", "histogram", "integrality")


@dataclass(frozen=True)
class SplitRow:
    """One bar of the budget split. `share` is of the release's total rho (zCDP parts) or None (DP-SGD lines)."""

    label: str
    depth: int
    accountant: str
    rho: float | None
    epsilon: float | None
    delta: float | None
    share: float | None
    leaf: bool
    steps: int = 1


def step_group(step: str) -> str:
    """'domain:sex' -> 'preprocessing: domain'; 'aim:measure:12:a|b' -> 'aim:measure'; 'mst:2way:a|b' -> 'mst:2way'."""
    parts = str(step).split(":")
    if parts[0] in PREPROCESSING_STEPS:
        return f"preprocessing: {parts[0]}"
    return ":".join(parts[:2])


def is_preprocessing(step: str) -> bool:
    return str(step).split(":")[0] in PREPROCESSING_STEPS


def _f(x: Any) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def split_from_spend(record: Mapping[str, Any]) -> list[SplitRow]:
    """Group the flat spend list by `step_group`, in first-seen order; DP-SGD lines (epsilon, no rho) kept apart."""
    total = _f(record.get("rho")) or 0.0
    groups: dict[str, dict[str, Any]] = {}
    for s in record.get("spend") or []:
        rho = _f(s.get("rho"))
        key = step_group(s.get("step", "?"))
        g = groups.setdefault(key, {"rho": 0.0 if rho is not None else None, "epsilon": None, "delta": None,
                                    "steps": 0, "accountant": "zcdp" if rho is not None else str(s.get("mechanism"))})
        g["steps"] += 1
        if rho is not None and g["rho"] is not None:
            g["rho"] += rho
        if rho is None:
            g["epsilon"], g["delta"] = _f(s.get("epsilon")), _f(s.get("delta"))
    return [SplitRow(k, 0, g["accountant"], g["rho"], g["epsilon"], g["delta"],
                     (g["rho"] / total) if g["rho"] is not None and total > 0 else None, True, g["steps"])
            for k, g in groups.items()]


def split_from_tree(tree: Sequence[Mapping[str, Any]]) -> list[SplitRow]:
    """Depth-first rows of `budget_tree` ({label, parent, accountant, rho, epsilon, delta, share})."""
    children: dict[Any, list[Mapping[str, Any]]] = {}
    for node in tree:
        children.setdefault(node.get("parent"), []).append(node)
    labels = {n.get("label") for n in tree}
    roots = [n for n in tree if n.get("parent") is None or n.get("parent") not in labels]
    out: list[SplitRow] = []

    def walk(node: Mapping[str, Any], depth: int) -> None:
        kids = children.get(node.get("label"), [])
        out.append(SplitRow(str(node.get("label")), depth, str(node.get("accountant") or ""), _f(node.get("rho")),
                            _f(node.get("epsilon")), _f(node.get("delta")), _f(node.get("share")), not kids))
        for kid in kids:
            walk(kid, depth + 1)

    for root in roots:
        walk(root, 0)
    return out


def budget_split(record: Mapping[str, Any]) -> tuple[str, list[SplitRow]]:
    """('budget_tree' | 'spend', rows)."""
    tree = record.get("budget_tree")
    if tree:
        return "budget_tree", split_from_tree(tree)
    return "spend", split_from_spend(record)


def spent_by_phase(record: Mapping[str, Any]) -> dict[str, float]:
    """rho spent on preprocessing (DP domain discovery) and by the generator, from the flat spend list."""
    pre = gen = 0.0
    for s in record.get("spend") or []:
        rho = _f(s.get("rho"))
        if rho is None:
            continue
        if is_preprocessing(s.get("step", "")):
            pre += rho
        else:
            gen += rho
    return {"preprocessing": pre, "generator": gen}
