import itertools

import pytest

from dpsynth_core.pgm import Domain, build_junction_tree, hypothetical_model_size
from dpsynth_core.pgm.junction_tree import MEGABYTE


def assert_valid_junction_tree(domain, cliques, tree):
    """Every attribute covered, every input clique inside a tree clique, running intersection holds."""
    assert len(tree.collect) == len(tree.cliques) - 1
    covered = set().union(*map(set, tree.cliques))
    assert covered == set(domain.attrs)
    for clique in cliques:
        assert any(set(clique) <= set(c) for c in tree.cliques), clique
    # Running intersection: the cliques that contain an attribute form a connected subtree.
    for attr in domain.attrs:
        holding = {i for i, c in enumerate(tree.cliques) if attr in c}
        edges = [(i, j) for i, j in tree.collect if i in holding and j in holding]
        assert len(edges) == len(holding) - 1, (attr, holding, tree.collect)
    # No clique is a subset of another (maximal cliques only).
    for c1, c2 in itertools.permutations(tree.cliques, 2):
        assert not set(c1) <= set(c2)


DOMAIN = Domain(tuple("abcdefg"), (2, 3, 4, 2, 3, 5, 2))
CASES = {
    "chain": [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "f"), ("f", "g")],
    "tree": [("a", "b"), ("a", "c"), ("a", "d"), ("d", "e"), ("d", "f"), ("f", "g")],
    "cycle": [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "a")],
    "two cycles and a triple": [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d", "e"), ("e", "f"), ("f", "c")],
    "disconnected": [("a", "b"), ("c", "d")],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_junction_tree_is_valid(name):
    cliques = CASES[name]
    tree = build_junction_tree(DOMAIN, cliques)
    assert_valid_junction_tree(DOMAIN, cliques, tree)


def test_chain_needs_no_fill_in():
    tree = build_junction_tree(DOMAIN, CASES["chain"])
    assert sorted(tree.cliques) == sorted(CASES["chain"])


def test_cycle_is_triangulated():
    tree = build_junction_tree(DOMAIN, CASES["cycle"])
    assert all(len(c) == 3 for c in tree.cliques if set(c) & {"a", "b", "c", "d", "e"})
    assert len([c for c in tree.cliques if len(c) == 3]) == 3  # a 5-cycle needs 2 chords


def test_hypothetical_model_size_counts_clique_cells():
    domain = Domain(("x", "y", "z"), (10, 20, 30))
    assert hypothetical_model_size(domain, [("x", "y"), ("y", "z")]) == pytest.approx((200 + 600) * 8 / MEGABYTE)
    # Closing the cycle forces one clique over all three attributes.
    assert hypothetical_model_size(domain, [("x", "y"), ("y", "z"), ("x", "z")]) == pytest.approx(6000 * 8 / MEGABYTE)


def test_unknown_attribute_is_rejected():
    with pytest.raises(KeyError):
        build_junction_tree(DOMAIN, [("a", "zz")])
