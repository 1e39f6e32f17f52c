"""Network measures against hand-worked values and networkx's own definitions."""

import pytest

from placewise.analysis.networks import layout, network_measures


def test_star_network_by_hand():
    # A hub tied to four people who know nobody else: every path between two of them runs
    # through the hub, so its betweenness is 1; theirs is 0. Everyone reaches everyone.
    table = network_measures(["hub", "a", "b", "c", "d"], [("hub", x) for x in "abcd"])
    assert table.loc["hub", "degree"] == 4 and table.loc["a", "degree"] == 1
    assert table.loc["hub", "betweenness"] == pytest.approx(1.0)
    assert table.loc["a", "betweenness"] == 0
    assert table.loc["a", "reach"] == 4 and table.loc["hub", "rank"] == 1


def test_chain_betweenness_and_reach():
    # a-b-c-d-e: c lies on the paths a-d, a-e, b-d, b-e, and (a,b)-(d,e)... of the 6 pairs not
    # involving c, 4 pass through c: 4/6 = 0.667. Reach within two steps from a is b and c.
    table = network_measures("abcde", [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")])
    assert table.loc["c", "betweenness"] == pytest.approx(4 / 6)
    assert table.loc["a", "reach"] == 2 and table.loc["c", "reach"] == 4


def test_isolated_people_duplicates_and_self_ties():
    table = network_measures("abc", [("a", "b"), ("b", "a"), ("c", "c")])
    assert table.loc["c", "degree"] == 0 and table.loc["c", "reach"] == 0
    assert table.loc["a", "degree"] == 1
    assert network_measures([], []).empty


def test_layout_is_repeatable():
    edges = [("a", "b"), ("b", "c")]
    assert layout("abc", edges, seed=3) == layout("abc", edges, seed=3)
