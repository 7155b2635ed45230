"""Candidate paths: Yen's k shortest paths per user pair under hop, 1/EGR and 1/EGR^2 weights.

For each pair and each weight in ``instance.path_weights`` we take the ``k_paths`` shortest
simple paths (:func:`qnet_envs.topology.k_shortest_paths`) on the trunk graph
(:meth:`Network.trunk_graph`), weights summed over each trunk's physical links:

- ``"hop"``: number of physical links (repeater hops count);
- ``"egr"``: sum of ``1 / c_l`` (``c_l`` the link capacity, pairs/s);
- ``"egr2"``: sum of ``1 / c_l^2``.

The candidates of a pair are the union, in the order weight by weight and then Yen's order,
without duplicates. ``shortest[w][u]`` lists the candidate indices of pair ``u``'s paths under
weight ``w`` in Yen's order (what the shortest-path baselines use).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qnet_envs.qvpn.network import Network

if TYPE_CHECKING:
    from qnet_envs.qvpn.problem import Instance

#: Path weights understood by ``Instance.path_weights``.
PATH_WEIGHTS: tuple[str, ...] = ("hop", "egr", "egr2")


@dataclass(frozen=True)
class CandidatePaths:
    """Per pair, its candidate paths as node sequences and as physical link chains."""

    nodes: tuple[tuple[tuple[int, ...], ...], ...]  # [pair][path] original node ids
    links: tuple[tuple[tuple[int, ...], ...], ...]  # [pair][path] physical link indices
    shortest: dict[str, tuple[tuple[int, ...], ...]]  # weight -> [pair] candidate indices

    def n_paths(self, pair: int) -> int:
        return len(self.links[pair])


def candidate_paths(instance: Instance, network: Network) -> CandidatePaths:
    """Yen's ``instance.k_paths`` shortest paths of every pair under each of its path weights."""
    from qnet_envs.topology import k_shortest_paths

    graph = network.trunk_graph()
    all_nodes, all_links = [], []
    shortest: dict[str, list[tuple[int, ...]]] = {w: [] for w in instance.path_weights}
    for src, dst in zip(instance.pair_src, instance.pair_dst, strict=True):
        index: dict[tuple[int, ...], int] = {}
        pair_nodes: list[tuple[int, ...]] = []
        pair_links: list[tuple[int, ...]] = []
        for weight in instance.path_weights:
            order = []
            for path in k_shortest_paths(graph, src, dst, instance.k_paths, weight=weight):
                key = tuple(int(n) for n in path)
                if key not in index:
                    index[key] = len(pair_nodes)
                    pair_nodes.append(key)
                    chain: list[int] = []
                    for a, b in itertools.pairwise(key):
                        t = graph[a][b]["trunk"]
                        links = network.trunk_links[t]
                        forward = int(network.trunk_nodes[t, 0]) == a
                        chain.extend(links if forward else reversed(links))
                    pair_links.append(tuple(chain))
                order.append(index[key])
            shortest[weight].append(tuple(order))
        all_nodes.append(tuple(pair_nodes))
        all_links.append(tuple(pair_links))
    return CandidatePaths(
        nodes=tuple(all_nodes),
        links=tuple(all_links),
        shortest={w: tuple(v) for w, v in shortest.items()},
    )
