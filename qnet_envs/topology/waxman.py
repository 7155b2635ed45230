"""Waxman random graphs with Euclidean link lengths, made connected by minimal added links.

Reference: B. M. Waxman, "Routing of multipoint connections", IEEE JSAC 6(9), 1988. QPLAN's
"Waxman850" planning benchmark uses 850 nodes and about 2240 links; the defaults here give
about 2350 expected links before repair for 850 nodes.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from qnet_envs.topology.repairs import Repairs


def _components(n_nodes: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Component label (smallest member) of each node, by union-find."""
    parent = list(range(n_nodes))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, v in zip(rows.tolist(), cols.tolist(), strict=True):
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[max(ru, rv)] = min(ru, rv)
    return np.array([find(x) for x in range(n_nodes)])


def waxman_topology(
    n_nodes: int = 850,
    alpha: float = 0.04,
    beta: float = 0.4,
    seed: int | None = 0,
    width_km: float = 1000.0,
    height_km: float = 1000.0,
) -> nx.Graph:
    """Waxman graph: nodes uniform in a box, links with probability decaying with distance.

    Each unordered pair ``(u, v)`` at Euclidean distance ``d`` (km) is linked independently with
    probability ``beta * exp(-d / (alpha * L))``, where ``L`` is the largest distance between
    any two of the sampled nodes (the networkx ``waxman_graph`` convention: ``beta`` scales the
    density, ``alpha`` the reach).

    Connectivity repair: if the sample is disconnected, the components are joined by the
    shortest possible links (Kruskal's algorithm over all pairs, by Euclidean distance, with
    the components as the starting forest): ``components - 1`` added links, of minimum total
    length. They are marked ``connectivity_repair=True`` and listed in the report's
    ``edges_added``; the report's ``components`` holds the component sizes before repair.

    Args:
        n_nodes: number of nodes, ``>= 1``.
        alpha: reach of links, relative to ``L``; ``> 0``.
        beta: link probability at distance zero, in ``[0, 1]``.
        seed: seed of ``numpy.random.default_rng``; the same seed gives an identical graph.
            ``None`` draws fresh entropy.
        width_km: box width in km, ``> 0``.
        height_km: box height in km, ``> 0``.

    Returns:
        ``networkx.Graph`` on nodes ``0..n_nodes-1``, connected. Node attribute ``pos = (x, y)``
        in km, ``0 <= x <= width_km``, ``0 <= y <= height_km``. Edge attributes ``length_km``
        (Euclidean distance) and ``connectivity_repair`` (bool). Edges are inserted sorted by
        ``(u, v)``, sampled ones first. Graph attributes ``name``, ``source``, ``repairs``.

    Raises:
        ValueError: an argument outside its range (the message names it).
    """
    if isinstance(n_nodes, bool) or not isinstance(n_nodes, int | np.integer) or n_nodes < 1:
        raise ValueError(f"n_nodes must be an integer >= 1, got {n_nodes!r}")
    for argument, value in (("alpha", alpha), ("width_km", width_km), ("height_km", height_km)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{argument} must be a finite number > 0, got {value!r}")
    if not (isinstance(beta, int | float) and 0.0 <= beta <= 1.0):
        raise ValueError(f"beta must be a number in [0, 1], got {beta!r}")
    n_nodes = int(n_nodes)
    rng = np.random.default_rng(seed)
    positions = rng.uniform(0.0, 1.0, size=(n_nodes, 2)) * np.array([width_km, height_km])
    rows, cols = np.triu_indices(n_nodes, k=1)  # pairs (i, j), i < j, in row-major order
    distances = np.hypot(*(positions[rows] - positions[cols]).T)
    reach = alpha * float(distances.max()) if n_nodes > 1 else 1.0
    linked = rng.random(distances.size) < beta * np.exp(-distances / reach)

    labels = _components(n_nodes, rows[linked], cols[linked])
    _, sizes = np.unique(labels, return_counts=True)
    added: list[tuple[int, int, float]] = []
    if sizes.size > 1:
        joined = labels.tolist()
        parent = {label: label for label in set(joined)}

        def find(x: int) -> int:
            while parent[x] != x:
                x = parent[x]
            return x

        for pair in np.argsort(distances, kind="stable").tolist():
            a, b = find(joined[rows[pair]]), find(joined[cols[pair]])
            if a != b:
                parent[max(a, b)] = min(a, b)
                added.append((int(rows[pair]), int(cols[pair]), float(distances[pair])))
                if len(added) == sizes.size - 1:
                    break

    graph = nx.Graph()
    for node, (x, y) in enumerate(positions.tolist()):
        graph.add_node(node, pos=(x, y))
    for pair in np.flatnonzero(linked).tolist():
        graph.add_edge(
            int(rows[pair]),
            int(cols[pair]),
            length_km=float(distances[pair]),
            connectivity_repair=False,
        )
    for u, v, km in sorted(added):
        graph.add_edge(u, v, length_km=km, connectivity_repair=True)

    name = f"waxman(n_nodes={n_nodes}, alpha={alpha}, beta={beta}, seed={seed})"
    graph.graph.update(
        name=name,
        source="generator:waxman_topology",
        repairs=Repairs(
            source="generator:waxman_topology",
            input_nodes=n_nodes,
            input_edges=int(linked.sum()),
            length_source="Euclidean distance between node positions (km)",
            components=tuple(sorted(sizes.tolist(), reverse=True)),
            edges_added=tuple(sorted(added)),
        ),
    )
    return graph
