"""A fitted graphical model: log-potentials on cliques, calibrated marginals, sampling, state.

The model is ``p(x) ∝ exp(Σ_c θ_c(x_c))`` scaled to ``total`` records (Private-PGM, McKenna et al.
2019). Marginals of attribute sets inside one junction-tree clique come from the calibrated clique
tables; other sets are computed by contracting the smallest connected piece of the junction tree
that covers them (clique marginals divided by separator marginals).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np

from .axis_sum import AxisSum
from .belief_propagation import CalibrationPlan
from .domain import AttrsLike, Domain, as_attrs
from .factor import Factor
from .junction_tree import JunctionTree, build_junction_tree
from .marginal_plan import MarginalPlan
from .threads import single_threaded_blas

STATE_FORMAT = "dpsynth.pgm.GraphicalModel/1"


@dataclass(frozen=True, eq=False)
class GraphicalModel:
    """Log-potentials ``potentials[k]`` over ``cliques[k]`` (attributes in domain order)."""

    domain: Domain
    cliques: tuple[tuple[str, ...], ...]
    potentials: tuple[Factor, ...]
    total: float

    def __post_init__(self) -> None:
        cliques = tuple(self.domain.canonical(c) for c in self.cliques)
        if len(cliques) != len(self.potentials):   # checked before the zip below, for this clearer message
            raise ValueError(f"GraphicalModel needs one potential per clique: {len(cliques)} cliques, "
                             f"{len(self.potentials)} potentials")
        potentials = tuple(p.transpose(c) for p, c in zip(self.potentials, cliques, strict=True))
        for clique, factor in zip(cliques, potentials, strict=True):
            if factor.domain != self.domain.project(clique):
                raise ValueError(f"potential over {factor.domain.attrs} does not match clique {clique}")
        if not np.isfinite(self.total) or self.total <= 0:
            raise ValueError(f"GraphicalModel total must be a positive number of records, got {self.total}")
        object.__setattr__(self, "cliques", cliques)
        object.__setattr__(self, "potentials", potentials)
        object.__setattr__(self, "total", float(self.total))

    @classmethod
    def uniform(cls, domain: Domain, cliques: Sequence[Sequence[str]], total: float) -> "GraphicalModel":
        cliques = tuple(domain.canonical(c) for c in cliques)
        return cls(domain, cliques, tuple(Factor.zeros(domain.project(c)) for c in cliques), total)

    # --- structure ---------------------------------------------------------------------------
    @cached_property
    def junction_tree(self) -> JunctionTree:
        return build_junction_tree(self.domain, self.cliques)

    @cached_property
    def calibration_plan(self) -> CalibrationPlan:
        return CalibrationPlan(self.junction_tree, self.cliques)

    @cached_property
    def clique_marginals(self) -> tuple[Factor, ...]:
        """Calibrated marginals (counts summing to ``total``) of every junction-tree clique."""
        with single_threaded_blas():
            tables = self.calibration_plan.calibrate([p.values for p in self.potentials], self.total)
        return tuple(Factor(self.domain.project(c), t) for c, t in zip(self.junction_tree.cliques, tables, strict=True))

    def size_cells(self) -> int:
        return self.junction_tree.cells()

    # --- queries -----------------------------------------------------------------------------
    def project(self, attrs: AttrsLike) -> Factor:
        """Expected counts of the marginal over ``attrs`` (in the order given)."""
        attrs = as_attrs(attrs)
        canonical = self.domain.canonical(attrs)
        if len(canonical) != len(attrs):
            raise ValueError(f"project: repeated attributes in {attrs}")
        tree = self.junction_tree
        if not attrs:
            return Factor(self.domain.project(()), np.array(self.total))
        try:
            host = tree.host(canonical)
        except KeyError:
            return self._contract(canonical).transpose(attrs)
        return self.clique_marginals[host].project(attrs)

    def project_many(self, cliques: Sequence[Sequence[str]]) -> list[Factor]:
        """`project` for many attribute sets at once (each in domain order).

        Sets inside one junction-tree clique are summed in shared stages (`MarginalPlan`), so a large
        clique table is read a few times rather than once per set.
        """
        tree = self.junction_tree
        inside = [k for k, c in enumerate(cliques) if c and any(set(c) <= set(j) for j in tree.cliques)]
        out: list[Factor | None] = [None] * len(cliques)
        if inside:
            wanted = [self.domain.canonical(cliques[k]) for k in inside]
            plan = MarginalPlan(self.domain, tree, wanted)
            with single_threaded_blas():
                tables = plan.marginals([m.values for m in self.clique_marginals])
            for k, attrs, table in zip(inside, wanted, tables, strict=True):
                out[k] = Factor(self.domain.project(attrs), table).transpose(tuple(cliques[k]))
        return [f if f is not None else self.project(tuple(c)) for f, c in zip(out, cliques, strict=True)]

    def datavector(self, flatten: bool = True) -> np.ndarray:
        """Expected counts of every cell of the full domain (only for small domains)."""
        return self.project(self.domain.attrs).datavector(flatten)

    def _contract(self, attrs: tuple[str, ...]) -> Factor:
        """Marginal of ``attrs`` from the smallest subtree of cliques covering them.

        On a connected subtree of a junction tree the joint is the root clique's marginal times,
        for every other clique, its marginal divided by the separator marginal it shares with its
        parent (a conditional table; 0/0 = 0). Messages flow from the leaves of the subtree to its
        root, each keeping only the separator and the wanted attributes.
        """
        tree = self.junction_tree
        nodes = _covering_subtree(tree, set(attrs))
        wanted = set(attrs)
        parent = dict(tree.collect)
        inbox: dict[int, list[Factor]] = {node: [] for node in nodes}
        for node in reversed(nodes):
            table = self.clique_marginals[node] if node == nodes[0] else self._conditional(node)
            keep = set(wanted)
            if node != nodes[0]:
                keep |= set(tree.separator(node, parent[node]))
            needed = keep.union(*(m.domain.attrs for m in inbox[node]))
            table = self._reduced(node, node == nodes[0], table, tuple(a for a in table.domain.attrs if a in needed))
            for message in inbox[node]:
                table = table * message
            if node == nodes[0]:
                return table.project(attrs)
            inbox[parent[node]].append(table.project(tuple(a for a in table.domain.attrs if a in keep)))
        raise AssertionError("unreachable: the subtree root returns")

    def _reduced(self, node: int, is_marginal: bool, table: Factor, attrs: tuple[str, ...]) -> Factor:
        """``table`` (clique ``node``'s marginal, or its conditional) summed onto ``attrs``; cached, since
        the cliques in the middle of a path are reduced to the same separators for many queries."""
        if attrs == table.domain.attrs:
            return table
        cache = self.__dict__.setdefault("_reductions", {})
        key = (node, is_marginal, attrs)
        if key not in cache:
            cache[key] = table.project(attrs)
        return cache[key]

    def _conditional(self, node: int) -> Factor:
        """Clique marginal of ``node`` divided by its separator marginal with its tree parent (cached)."""
        cache = self.__dict__.setdefault("_conditionals", {})
        if node not in cache:
            tree = self.junction_tree
            clique = tree.cliques[node]
            sep = set(tree.separator(node, dict(tree.collect)[node]))
            joint = self.clique_marginals[node].values
            sep_table = AxisSum(joint.shape, tuple(i for i, a in enumerate(clique) if a not in sep))(joint)
            with np.errstate(divide="ignore", invalid="ignore"):
                cache[node] = Factor(self.clique_marginals[node].domain,
                                     np.where(sep_table > 0, joint / sep_table, 0.0))
        return cache[node]

    # --- sampling ----------------------------------------------------------------------------
    def synthetic_data(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """``n`` records as an ``(n, d)`` array of codes, columns in ``domain.attrs`` order.

        Attributes are drawn in reverse elimination order, each conditioned on its already drawn
        neighbours in the triangulated graph (a subset of one clique). Within each group of rows
        that share those neighbours' values, the counts of the new attribute are the group's
        expected counts rounded by systematic sampling (each count is the floor or the ceiling of
        its expectation, unbiased), and assigned to the group's rows in random order.
        """
        if n < 0:
            raise ValueError(f"synthetic_data needs n >= 0, got {n}")
        rng = np.random.default_rng(rng)
        tree = self.junction_tree
        data = np.zeros((n, len(self.domain)), dtype=np.int64)
        neighbours = _triangulated_neighbours(tree)
        drawn: set[str] = set()
        for attr in reversed(tree.elimination_order):
            given = self.domain.canonical(neighbours[attr] & drawn)
            table = self.project(given + (attr,)).values.reshape(-1, self.domain[attr])
            if given:
                cols = [self.domain.attrs.index(a) for a in given]
                groups = np.ravel_multi_index(tuple(data[:, cols].T), self.domain.project(given).shape)
            else:
                groups = np.zeros(n, dtype=np.int64)
            data[:, self.domain.attrs.index(attr)] = _systematic_draw(groups, table, rng)
            drawn.add(attr)
        return data

    # --- state -------------------------------------------------------------------------------
    def to_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """JSON-able metadata and named float64 arrays; `from_state` inverts it exactly."""
        meta = {
            "format": STATE_FORMAT,
            "attrs": list(self.domain.attrs),
            "shape": list(self.domain.shape),
            "cliques": [list(c) for c in self.cliques],
            "total": self.total,
        }
        arrays = {f"potential_{k}": np.asarray(p.values, dtype=np.float64) for k, p in enumerate(self.potentials)}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "GraphicalModel":
        if meta.get("format") != STATE_FORMAT:
            raise ValueError(f"not a graphical-model state (format {meta.get('format')!r}, expected {STATE_FORMAT!r})")
        domain = Domain(tuple(meta["attrs"]), tuple(meta["shape"]))
        cliques = tuple(tuple(c) for c in meta["cliques"])
        potentials = tuple(
            Factor(domain.project(c), np.asarray(arrays[f"potential_{k}"], dtype=np.float64))
            for k, c in enumerate(cliques)
        )
        return cls(domain, cliques, potentials, float(meta["total"]))


def _triangulated_neighbours(tree: JunctionTree) -> dict[str, set[str]]:
    neighbours: dict[str, set[str]] = {a: set() for a in tree.domain.attrs}
    for clique in tree.cliques:
        for a in clique:
            neighbours[a].update(b for b in clique if b != a)
    return neighbours


def _covering_subtree(tree: JunctionTree, attrs: set[str]) -> list[int]:
    """Connected set of cliques covering ``attrs``: prune leaves whose share of ``attrs`` their neighbour has.

    Returned parent-first: element 0 is the subtree's root and every later clique's tree parent
    comes before it.
    """
    nodes = set(range(len(tree.cliques)))
    adjacency = {i: set(tree.neighbours(i)) for i in nodes}
    changed = True
    while changed and len(nodes) > 1:
        changed = False
        for leaf in sorted(nodes):
            live = adjacency[leaf] & nodes
            if len(live) != 1:
                continue
            (nbr,) = live
            if (set(tree.cliques[leaf]) & attrs) <= set(tree.cliques[nbr]):
                nodes.discard(leaf)
                changed = True
    order = [tree.root] + [child for child, _ in reversed(tree.collect)]
    return [i for i in order if i in nodes]


def _systematic_draw(groups: np.ndarray, table: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One code per row: rows of group ``g`` get codes in proportion to ``table[g]``.

    A group of ``k`` rows gets ``floor`` or ``ceil`` of ``k * p`` of each code (systematic sampling
    with a uniform random offset per group), shuffled among the group's rows.
    """
    n = groups.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    sizes = np.bincount(groups, minlength=table.shape[0])
    present = np.flatnonzero(sizes)
    weights = np.clip(table[present], 0.0, None)
    mass = weights.sum(axis=1, keepdims=True)
    fallback = np.clip(table.sum(axis=0), 0.0, None)
    if fallback.sum() <= 0:
        fallback = np.ones(table.shape[1])
    weights = np.where(mass > 0, weights, fallback)
    probs = weights / weights.sum(axis=1, keepdims=True)
    k = sizes[present][:, None].astype(float)
    cumulative = np.minimum(np.cumsum(probs * k, axis=1), k)
    cumulative[:, -1] = k[:, 0]
    offset = rng.random((present.size, 1))
    edges = np.floor(cumulative + offset)
    counts = np.diff(edges, axis=1, prepend=0.0).astype(np.int64)
    codes = np.repeat(np.tile(np.arange(table.shape[1]), present.size), counts.ravel())
    rows = np.lexsort((rng.random(n), groups))
    out = np.empty(n, dtype=np.int64)
    out[rows] = codes
    return out
