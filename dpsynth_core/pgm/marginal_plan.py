"""Reading many small marginals out of a few large clique tables, and the reverse (gradients).

Summing a 500k-cell clique table once per measured marginal dominates the cost of estimation when
many measurements sit in the same clique. `MarginalPlan` sums in stages instead: when two or more
wanted marginals lack the same attribute, that attribute is summed out once into an intermediate
table, and the wanted marginals are read from the smaller table. `adjoint` runs the same stages
backwards to spread gradients on the marginals over the clique tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from .axis_sum import AxisSum
from .belief_propagation import broadcast_shape, reduce_axes
from .domain import Domain
from .junction_tree import JunctionTree


@dataclass(frozen=True)
class _Stage:
    source: int  # table the stage reads
    target: int  # table the stage writes
    axis_sum: AxisSum
    shape: tuple[int, ...]  # shape of the written table
    in_source: tuple[int, ...]  # written table shaped to broadcast in the source


class MarginalPlan:
    """Computes the marginals on ``cliques`` (domain order) from calibrated junction-tree tables."""

    def __init__(self, domain: Domain, tree: JunctionTree, cliques: Sequence[tuple[str, ...]]):
        self._domain = domain
        self._tables: list[tuple[str, ...]] = list(tree.cliques)
        self._shapes = [domain.project(c).shape for c in tree.cliques]
        self._stages: list[_Stage] = []
        self.outputs: list[int] = [-1] * len(cliques)
        groups: dict[int, list[int]] = {}
        for k, clique in enumerate(cliques):
            groups.setdefault(tree.host(clique), []).append(k)
        for host, members in groups.items():
            self._plan(host, [(k, set(cliques[k])) for k in members])

    def _add_table(self, source: int, attrs: tuple[str, ...]) -> int:
        source_attrs = self._tables[source]
        self._tables.append(attrs)
        shape = self._domain.project(attrs).shape
        self._shapes.append(shape)
        index = len(self._tables) - 1
        self._stages.append(
            _Stage(
                source,
                index,
                AxisSum(self._shapes[source], reduce_axes(attrs, source_attrs)),
                shape,
                broadcast_shape(self._domain, attrs, source_attrs),
            )
        )
        return index

    def _plan(self, source: int, members: list[tuple[int, set[str]]]) -> None:
        attrs = self._tables[source]
        pending = members
        while len(pending) >= 2:
            counts = {a: sum(1 for _, c in pending if a not in c) for a in attrs}
            droppable = [a for a in attrs if counts[a] >= 2]
            if not droppable:
                break
            drop = max(droppable, key=lambda a: (self._domain[a], counts[a]))
            smaller = self._add_table(source, tuple(a for a in attrs if a != drop))
            self._plan(smaller, [(k, c) for k, c in pending if drop not in c])
            pending = [(k, c) for k, c in pending if drop in c]
        for k, clique in pending:
            if clique == set(attrs):
                self.outputs[k] = source
            else:
                self.outputs[k] = self._add_table(source, tuple(a for a in attrs if a in clique))

    def marginals(self, tables: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The wanted marginals, given the junction tree's clique tables."""
        buffer: list[np.ndarray] = list(tables) + [np.empty(0)] * (len(self._tables) - len(tables))
        for stage in self._stages:
            buffer[stage.target] = stage.axis_sum(buffer[stage.source]).reshape(stage.shape)
        return [buffer[k] for k in self.outputs]

    def adjoint(self, gradients: Sequence[np.ndarray], n_cliques: int) -> list[Optional[np.ndarray]]:
        """Spread gradients on the wanted marginals over the clique tables (None: no gradient)."""
        buffer: list[Optional[np.ndarray]] = [None] * len(self._tables)
        for k, grad in zip(self.outputs, gradients, strict=True):
            buffer[k] = grad.copy() if buffer[k] is None else buffer[k] + grad
        for stage in reversed(self._stages):
            grad = buffer[stage.target]
            if grad is None:
                continue
            expanded = grad.reshape(stage.in_source)
            if buffer[stage.source] is None:
                buffer[stage.source] = np.broadcast_to(expanded, self._shapes[stage.source]).copy()
            else:
                buffer[stage.source] += expanded
        return buffer[:n_cliques]
