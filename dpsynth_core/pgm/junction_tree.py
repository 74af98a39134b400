"""Junction trees: the cliques a graphical model is calibrated on, and the order messages flow.

Given the attribute sets that carry potentials (the measured marginals), we triangulate their
interaction graph with a greedy elimination order, keep the maximal cliques, and join them by a
maximum-weight spanning tree over separator sizes (number of shared attributes). For cliques of a
triangulated graph that tree has the running-intersection property, so belief propagation on it is
exact (Koller & Friedman 2009, ch. 10).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import prod
from typing import Iterable, Sequence

from .domain import Domain

BYTES_PER_CELL = 8  # float64
MEGABYTE = 2**20


@dataclass(frozen=True)
class JunctionTree:
    """Maximal cliques (attributes in domain order), tree edges and the message schedule.

    ``collect`` lists messages ``(child, parent)`` from the leaves up to ``root``; running them in
    reverse as ``(parent, child)`` distributes back down.
    """

    domain: Domain
    cliques: tuple[tuple[str, ...], ...]
    elimination_order: tuple[str, ...]
    root: int
    collect: tuple[tuple[int, int], ...]

    @property
    def edges(self) -> tuple[tuple[int, int], ...]:
        return self.collect

    @property
    def distribute(self) -> tuple[tuple[int, int], ...]:
        return tuple((parent, child) for child, parent in reversed(self.collect))

    def separator(self, i: int, j: int) -> tuple[str, ...]:
        """Attributes shared by cliques ``i`` and ``j`` (domain order)."""
        other = set(self.cliques[j])
        return tuple(a for a in self.cliques[i] if a in other)

    def neighbours(self, i: int) -> tuple[int, ...]:
        return tuple(sorted({b for a, b in self.collect if a == i} | {a for a, b in self.collect if b == i}))

    def host(self, attrs: Iterable[str]) -> int:
        """Index of the smallest clique that contains every attribute in ``attrs``."""
        wanted = set(attrs)
        hosts = [i for i, clique in enumerate(self.cliques) if wanted <= set(clique)]
        if not hosts:
            raise KeyError(f"no clique of the junction tree contains {sorted(wanted)}")
        return min(hosts, key=lambda i: (self.domain.size(self.cliques[i]), i))

    def cells(self) -> int:
        """Total number of cells over all cliques (memory of one set of clique tables)."""
        sizes = self.domain.to_dict()
        return sum(prod(sizes[a] for a in c) for c in self.cliques)


def greedy_elimination_order(domain: Domain, cliques: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """Eliminate, at each step, the attribute whose clique (itself + neighbours) has fewest cells.

    Ties go to the fewest fill-in edges, then to domain order. Attributes in no clique are isolated.
    """
    return _triangulate(domain, _clique_key(domain, cliques))[0]


def build_junction_tree(domain: Domain, cliques: Sequence[Sequence[str]]) -> JunctionTree:
    """Junction tree covering every attribute of ``domain`` and every set in ``cliques``."""
    return _build_cached(domain, _clique_key(domain, cliques))


def hypothetical_model_size(domain: Domain, cliques: Sequence[Sequence[str]]) -> float:
    """Memory, in MB of float64, of the clique tables a model on ``cliques`` would need.

    This is AIM's model-size measure (McKenna et al. 2022, Sec. 4): the cells of the junction tree
    built for ``cliques``, times 8 bytes, divided by 2**20.
    """
    sizes = domain.to_dict()
    maximal = _triangulate(domain, _clique_key(domain, cliques))[1]
    return sum(prod(sizes[a] for a in c) for c in maximal) * BYTES_PER_CELL / MEGABYTE


def _clique_key(domain: Domain, cliques: Sequence[Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(sorted({domain.canonical(c) for c in cliques}))


@lru_cache(maxsize=4096)
def _build_cached(domain: Domain, cliques: tuple[tuple[str, ...], ...]) -> JunctionTree:
    order, maximal = _triangulate(domain, cliques)
    root, collect = _spanning_tree_schedule(maximal)
    return JunctionTree(domain, maximal, order, root, collect)


@lru_cache(maxsize=8192)
def _triangulate(
    domain: Domain, cliques: tuple[tuple[str, ...], ...]
) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Greedy elimination order and the maximal cliques it forms (attributes in domain order)."""
    graph = _interaction_graph(domain, cliques)
    sizes = domain.to_dict()
    position = {a: i for i, a in enumerate(domain.attrs)}
    weight = {a: sizes[a] * prod(sizes[b] for b in nbrs) for a, nbrs in graph.items()}

    def fill_in(attr: str) -> tuple[int, int]:
        nbrs = graph[attr]
        return (sum(1 for a in nbrs for b in nbrs if a < b and b not in graph[a]), position[attr])

    order: list[str] = []
    formed: list[frozenset[str]] = []
    while graph:
        lightest = min(weight.values())
        tied = [a for a, w in weight.items() if w == lightest]
        attr = min(tied, key=fill_in) if len(tied) > 1 else tied[0]
        nbrs = graph[attr]
        formed.append(frozenset(nbrs | {attr}))
        _eliminate(graph, attr)
        del weight[attr]
        for a in nbrs:
            weight[a] = sizes[a] * prod(sizes[b] for b in graph[a])
        order.append(attr)
    maximal = [c for c in formed if not any(c < other for other in formed)]
    return tuple(order), tuple(domain.canonical(c) for c in dict.fromkeys(maximal))


def _interaction_graph(domain: Domain, cliques: Iterable[Sequence[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {a: set() for a in domain.attrs}
    for clique in cliques:
        for a in clique:
            if a not in graph:
                raise KeyError(f"clique {tuple(clique)} names attribute {a!r} that is not in the domain {domain.attrs}")
            graph[a].update(b for b in clique if b != a)
    return graph


def _eliminate(graph: dict[str, set[str]], attr: str) -> None:
    nbrs = graph.pop(attr)
    for a in nbrs:
        graph[a].discard(attr)
        graph[a].update(b for b in nbrs if b != a)


def _spanning_tree_schedule(
    cliques: tuple[tuple[str, ...], ...]
) -> tuple[int, tuple[tuple[int, int], ...]]:
    """Kruskal's maximum spanning tree (weight = shared attributes), then leaves-to-root order."""
    n = len(cliques)
    sets = [set(c) for c in cliques]
    pairs = sorted(
        ((-len(sets[i] & sets[j]), i, j) for i in range(n) for j in range(i + 1, n)),
    )
    parent_of = list(range(n))

    def find(i: int) -> int:
        while parent_of[i] != i:
            parent_of[i] = parent_of[parent_of[i]]
            i = parent_of[i]
        return i

    adjacency: dict[int, list[int]] = {i: [] for i in range(n)}
    for _, i, j in pairs:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent_of[ri] = rj
            adjacency[i].append(j)
            adjacency[j].append(i)

    root = 0
    visited, frontier, tree_parent = [root], [root], {root: -1}
    while frontier:
        nxt = []
        for i in frontier:
            for j in sorted(adjacency[i]):
                if j not in tree_parent:
                    tree_parent[j] = i
                    visited.append(j)
                    nxt.append(j)
        frontier = nxt
    collect = tuple((child, tree_parent[child]) for child in reversed(visited[1:]))
    return root, collect
