"""Stakeholder networks: who is most connected, and who bridges groups.

Pure functions on plain data (no Django), so the measures can be checked by hand.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import networkx as nx
import pandas as pd


def network_measures(
    nodes: Iterable[Hashable], edges: Iterable[tuple[Hashable, Hashable]]
) -> pd.DataFrame:
    """Degree, betweenness and two-step reach for each person or organisation.

    Parameters
    ----------
    nodes : iterable of hashable
        Every stakeholder, connected or not.
    edges : iterable of (a, b)
        Relationships; direction is ignored (knowing someone works both ways here), and a
        repeated pair counts once.

    Returns
    -------
    pandas.DataFrame
        Indexed by node: ``degree`` (direct ties), ``betweenness`` (share of shortest paths
        between other pairs that pass through the node, normalised 0-1, Brandes' algorithm),
        ``reach`` (how many others can be reached within two steps) and ``rank`` (1 = the
        most connected: by betweenness, then degree, then reach).

    Examples
    --------
    >>> table = network_measures("abcd", [("a", "b"), ("b", "c"), ("c", "d")])
    >>> table.loc["b", ["degree", "reach"]].tolist()
    [2, 3]
    >>> round(table.loc["b", "betweenness"], 3)
    0.667
    """
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    for a, b in edges:
        if a != b:
            graph.add_edge(a, b)
    if graph.number_of_nodes() == 0:
        return pd.DataFrame(columns=["degree", "betweenness", "reach", "rank"])
    between = nx.betweenness_centrality(graph, normalized=True)
    reach = {n: len(nx.single_source_shortest_path_length(graph, n, cutoff=2)) - 1 for n in graph}
    table = pd.DataFrame(
        {
            "degree": dict(graph.degree()),
            "betweenness": between,
            "reach": reach,
        }
    )
    order = table.sort_values(["betweenness", "degree", "reach"], ascending=False).index
    table["rank"] = pd.Series(range(1, len(order) + 1), index=order)
    return table


def layout(
    nodes: Iterable[Hashable], edges: Iterable[tuple[Hashable, Hashable]], seed: int = 0
) -> dict[Hashable, tuple[float, float]]:
    """Positions in about [-1, 1] for drawing the network: a force-directed (spring) layout
    with a fixed seed, so the picture is the same each time the page is opened.

    Examples
    --------
    >>> sorted(layout("ab", [("a", "b")], seed=1))
    ['a', 'b']
    """
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from((a, b) for a, b in edges if a != b)
    if graph.number_of_nodes() == 0:
        return {}
    positions = nx.spring_layout(graph, seed=seed)
    return {n: (float(x), float(y)) for n, (x, y) in positions.items()}
