"""k shortest simple paths (Yen's algorithm on an explicit Dijkstra), with a fixed tie rule.

Order: paths are sorted by cost, then by the sequence of their nodes' positions in
``list(graph.nodes)`` (lexicographically). The Dijkstra below returns, for one source and
target, the path that is smallest in exactly this order, and Yen's algorithm preserves it, so
the result is the first ``k`` simple paths of that total order. Costs are summed left to right
along the path, in floating point; paths whose costs differ only by rounding are ordered by
those rounded sums.

Reference: J. Y. Yen, "Finding the k shortest loopless paths in a network", Management
Science 17(11), 1971.
"""

from __future__ import annotations

import heapq
import itertools
import math
import numbers
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import networkx as nx

Weight = str | Callable[[Any, Any, Mapping[str, Any]], float | None] | None
_EdgeCost = Callable[[Any, Any], float | None]


def _edge_cost_function(graph: nx.Graph, weight: Weight) -> _EdgeCost:
    """``cost(u, v)`` of the edge ``u -> v``; ``None`` hides the edge (callables only)."""
    if weight is not None and not isinstance(weight, str) and not callable(weight):
        raise ValueError(
            f"weight must be an edge attribute name, a callable (u, v, data) -> float or None, "
            f"got {type(weight).__name__}"
        )

    def single(u: Any, v: Any, data: Mapping[str, Any]) -> float | None:
        if weight is None:
            return 1.0
        if isinstance(weight, str):
            if weight not in data:
                raise ValueError(f"weight: edge ({u!r}, {v!r}) has no attribute {weight!r}")
            value = data[weight]
        else:
            value = weight(u, v, data)
            if value is None:
                return None
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"weight: edge ({u!r}, {v!r}) has non-numeric weight {value!r}")
        cost = float(value)
        if not math.isfinite(cost) or cost < 0.0:
            raise ValueError(
                f"weight: edge ({u!r}, {v!r}) has weight {cost}; weights must be finite and >= 0"
            )
        return cost

    if graph.is_multigraph():

        def cost(u: Any, v: Any) -> float | None:
            values = [c for d in graph[u][v].values() if (c := single(u, v, d)) is not None]
            return min(values) if values else None

        return cost
    return lambda u, v: single(u, v, graph[u][v])


def _dijkstra(
    graph: nx.Graph,
    source: Hashable,
    target: Hashable,
    cost: _EdgeCost,
    rank: Mapping[Hashable, int],
    blocked_nodes: set[Hashable],
    blocked_edges: set[tuple[Hashable, Hashable]],
) -> list[Hashable] | None:
    """The smallest ``(cost, node ranks)`` path from ``source`` to ``target``, or ``None``.

    Labels are ``(distance, rank tuple)``; extending a path never decreases its label and
    preserves the order between two paths to the same node, so Dijkstra's settling argument holds
    for the composite key (zero-weight edges included).
    """
    start = (0.0, (rank[source],))
    best: dict[Hashable, tuple[float, tuple[int, ...]]] = {source: start}
    paths: dict[Hashable, list[Hashable]] = {source: [source]}
    heap = [(*start, source)]
    settled: set[Hashable] = set()
    while heap:
        dist, ranks, node = heapq.heappop(heap)
        if node in settled or (dist, ranks) != best[node]:
            continue
        if node == target:
            return paths[node]
        settled.add(node)
        for neighbour in graph.adj[node]:
            if neighbour in settled or neighbour in blocked_nodes:
                continue
            if (node, neighbour) in blocked_edges:
                continue
            step = cost(node, neighbour)
            if step is None:
                continue
            label = (dist + step, (*ranks, rank[neighbour]))
            if neighbour not in best or label < best[neighbour]:
                best[neighbour] = label
                paths[neighbour] = [*paths[node], neighbour]
                heapq.heappush(heap, (*label, neighbour))
    return None


def _path_cost(path: list[Hashable], cost: _EdgeCost) -> float:
    total = 0.0
    for u, v in itertools.pairwise(path):
        total += cost(u, v)  # type: ignore[operator]
    return total


def k_shortest_paths(
    graph: nx.Graph,
    source: Hashable,
    target: Hashable,
    k: int,
    weight: Weight = "length_km",
) -> list[list[Hashable]]:
    """Up to ``k`` simple paths from ``source`` to ``target`` in nondecreasing cost order.

    Args:
        graph: a networkx graph (``Graph``, ``DiGraph``, or their multigraph variants, where
            the cheapest of parallel edges counts).
        source: first node of every path.
        target: last node of every path.
        k: how many paths at most; an ``int >= 1``.
        weight: the cost of an edge: the name of a numeric edge attribute (``"length_km"`` by
            default; every edge must have it), a callable ``(u, v, data) -> float | None``
            (``None`` hides the edge, as in networkx), or ``None`` for hop count. Costs must be
            finite and ``>= 0``.

    Returns:
        A list of node lists, each a simple path from ``source`` to ``target``, ordered by cost
        and then lexicographically by the nodes' positions in ``list(graph.nodes)`` (the module
        docstring has the exact rule). Fewer than ``k`` when fewer simple paths exist, ``[]``
        when ``target`` is unreachable, ``[[source]]`` when ``source == target``.

    Raises:
        ValueError: ``k`` is not an integer ``>= 1``, ``source`` or ``target`` is not in the
            graph, or an edge has a missing, non-numeric, negative or non-finite weight.
    """
    if not isinstance(graph, nx.Graph):
        raise ValueError(f"graph must be a networkx graph, got {type(graph).__name__}")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    for argument, node in (("source", source), ("target", target)):
        if node not in graph:
            raise ValueError(f"{argument} {node!r} is not a node of the graph")
    if source == target:
        return [[source]]
    cost = _edge_cost_function(graph, weight)
    rank = {node: i for i, node in enumerate(graph.nodes)}
    directed = graph.is_directed()

    first = _dijkstra(graph, source, target, cost, rank, set(), set())
    if first is None:
        return []
    accepted = [first]
    seen = {tuple(first)}
    candidates: list[tuple[float, tuple[int, ...], list[Hashable]]] = []
    while len(accepted) < k:
        previous = accepted[-1]
        for i in range(len(previous) - 1):
            spur, root = previous[i], previous[: i + 1]
            blocked_edges: set[tuple[Hashable, Hashable]] = set()
            for path in accepted:
                if path[: i + 1] == root:
                    blocked_edges.add((path[i], path[i + 1]))
                    if not directed:
                        blocked_edges.add((path[i + 1], path[i]))
            blocked_nodes = set(root[:-1])
            spur_path = _dijkstra(graph, spur, target, cost, rank, blocked_nodes, blocked_edges)
            if spur_path is None:
                continue
            candidate = root[:-1] + spur_path
            if tuple(candidate) in seen:
                continue
            seen.add(tuple(candidate))
            key = tuple(rank[node] for node in candidate)
            heapq.heappush(candidates, (_path_cost(candidate, cost), key, candidate))
        if not candidates:
            break
        accepted.append(heapq.heappop(candidates)[2])
    return accepted
