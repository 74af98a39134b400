"""Log-space belief propagation on a junction tree, with every axis and shape planned up front.

All clique tables keep their attributes in domain order, so moving a table between a clique and a
separator is a reshape (never a transpose). `CalibrationPlan` precomputes those reshapes once per
junction tree; `calibrate` then runs one collect and one distribute pass (Shafer-Shenoy) with two
``exp`` per clique.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .axis_sum import AxisSum
from .domain import Domain
from .junction_tree import JunctionTree


def broadcast_shape(domain: Domain, sub: Sequence[str], sup: Sequence[str]) -> tuple[int, ...]:
    """Shape that lets a table over ``sub`` (domain order) broadcast against one over ``sup``."""
    inside = set(sub)
    return tuple(domain[a] if a in inside else 1 for a in sup)


def reduce_axes(sub: Sequence[str], sup: Sequence[str]) -> tuple[int, ...]:
    """Axes of a table over ``sup`` to sum out to get one over ``sub``."""
    inside = set(sub)
    return tuple(i for i, a in enumerate(sup) if a not in inside)


@dataclass(frozen=True)
class _Edge:
    child: int
    parent: int
    child_sum: AxisSum  # child table -> separator
    parent_sum: AxisSum  # parent table -> separator
    in_parent: tuple[int, ...]  # separator table shaped to broadcast in the parent
    in_child: tuple[int, ...]  # separator table shaped to broadcast in the child


class CalibrationPlan:
    """Reshapes and axes for calibrating log-potentials defined on ``potential_cliques``.

    Each potential clique must be a subset of some junction-tree clique; it is added into the
    smallest such clique (its host).
    """

    def __init__(self, tree: JunctionTree, potential_cliques: Sequence[Sequence[str]]):
        domain = tree.domain
        self.tree = tree
        self.shapes = tuple(domain.project(c).shape for c in tree.cliques)
        self.hosts = tuple(tree.host(c) for c in potential_cliques)
        self._placement: list[list[tuple[int, tuple[int, ...]]]] = [[] for _ in tree.cliques]
        for k, (clique, host) in enumerate(zip(potential_cliques, self.hosts, strict=True)):
            self._placement[host].append((k, broadcast_shape(domain, clique, tree.cliques[host])))
        edges = []
        for child, parent in tree.collect:
            sep = tree.separator(child, parent)
            child_clique, parent_clique = tree.cliques[child], tree.cliques[parent]
            edges.append(
                _Edge(
                    child,
                    parent,
                    AxisSum(self.shapes[child], reduce_axes(sep, child_clique)),
                    AxisSum(self.shapes[parent], reduce_axes(sep, parent_clique)),
                    broadcast_shape(domain, sep, parent_clique),
                    broadcast_shape(domain, sep, child_clique),
                )
            )
        self._collect = tuple(edges)
        self._children: list[list[_Edge]] = [[] for _ in tree.cliques]
        for edge in edges:
            self._children[edge.parent].append(edge)

    def clique_log_potentials(self, potentials: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Sum the log-potentials hosted by each junction-tree clique (fresh arrays)."""
        out = []
        for shape, placed in zip(self.shapes, self._placement, strict=True):
            if len(placed) == 1 and placed[0][1] == shape:
                # same cells, but the potential may lack size-1 axes of its host (a one-code column): reshape
                out.append(np.array(potentials[placed[0][0]], dtype=float, copy=True).reshape(shape))
                continue
            table = np.zeros(shape)
            for k, bshape in placed:
                table += potentials[k].reshape(bshape)
            out.append(table)
        return out

    def calibrate(self, potentials: Sequence[np.ndarray], total: float) -> list[np.ndarray]:
        """Clique marginals (non-negative, each summing to ``total``) of the model ``exp(sum θ)``."""
        return self.calibrate_cliques(self.clique_log_potentials(potentials), total)

    def calibrate_cliques(self, log_potentials: Sequence[np.ndarray], total: float) -> list[np.ndarray]:
        """Like `calibrate`, from log-potentials already summed per junction-tree clique (not modified)."""
        belief = list(log_potentials)
        upward: dict[int, np.ndarray] = {}
        for edge in self._collect:
            message = _logsumexp(belief[edge.child], edge.child_sum).reshape(edge.in_parent)
            upward[edge.child] = message
            belief[edge.parent] = belief[edge.parent] + message
        marginals: list[np.ndarray] = [np.empty(0)] * len(belief)
        order = [self.tree.root] + [edge.child for edge in reversed(self._collect)]
        with np.errstate(divide="ignore"):
            for node in order:
                peak = float(belief[node].max())
                table = np.subtract(belief[node], peak)
                np.exp(table, out=table)
                mass = float(table.sum())
                table *= total / mass
                marginals[node] = table
                log_scale = np.log(mass) + peak - np.log(total)
                for edge in self._children[node]:
                    outgoing = np.log(edge.parent_sum(table)) + log_scale
                    belief[edge.child] = belief[edge.child] + (
                        outgoing.reshape(edge.in_child) - upward[edge.child].reshape(edge.in_child)
                    )
        return marginals


SAFE_MIN = 1e-280  # below this a sum of exp() may have lost precision to underflow


def _logsumexp(values: np.ndarray, axis_sum: AxisSum) -> np.ndarray:
    """``log Σ exp(values)`` over ``axis_sum``'s axes (kept as size 1).

    Fast path: shift by the global maximum. A slice far below it (sum under ``SAFE_MIN``) is
    recomputed with per-slice maxima, so the result is exact whatever the spread of ``values``.
    """
    peak = float(values.max())
    sums = axis_sum(np.exp(values - peak))
    if sums.min() >= SAFE_MIN:
        return np.log(sums) + peak
    axes = tuple(i for i, n in enumerate(axis_sum.out_shape) if n == 1 and values.shape[i] != 1)
    slice_peak = values.max(axis=axes, keepdims=True)
    return np.log(np.exp(values - slice_peak).sum(axis=axes, keepdims=True)) + slice_peak
