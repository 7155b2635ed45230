"""The network every design shares: link states, action budgets and :class:`NetworkLayout`.

Also the constants of the scenario families (fidelities, damping angle, phase shift, action
budget) and :func:`ladder_layout`, the small layout of the ``tiny`` scenario.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np

from qnet_envs.topology import clustered_topology

#: Singlet fidelity of an undamaged link (white noise only), as in the paper.
HEALTHY_FIDELITY = 0.99
#: Singlet fidelity of a damaged link (white noise), as in the paper.
DAMAGED_FIDELITY = 0.6
#: ``theta`` (rad) of an amplitude-damped link; its singlet fidelity is (1 + sin 2 theta)/2 = 0.69.
DAMPING_THETA = 0.2
#: ``phi`` (rad) of a phase-shifted link; its singlet fidelity is cos^2(phi / 2) = 0.5.
PHASE_SHIFT = math.pi / 2
#: Hop distance of Alice and Bob on the undamaged network (6 intermediary nodes).
ENDPOINT_DISTANCE = 7
#: The paper's action budget; kept wherever the designed route fits in it with slack.
PAPER_MAX_ACTIONS = 15
#: Actions beyond the designed route's length granted when 15 would leave fewer.
ACTION_SLACK = 3
#: An evolving stage "breaks" a route whose singlet fidelity falls below this (paper, Sec. 4.4).
WORKING_FIDELITY = 0.8

StateSpec = dict[str, Any]  # a parametric edge state, e.g. {"kind": "werner", "fidelity": 0.99}
Route = tuple[int, ...]  # edge indices, in walking order from Alice


def healthy_state() -> StateSpec:
    """An undamaged link: Werner, ``F = HEALTHY_FIDELITY``."""
    return {"kind": "werner", "fidelity": HEALTHY_FIDELITY}


def damaged_state() -> StateSpec:
    """A damaged link: Werner, ``F = DAMAGED_FIDELITY``."""
    return {"kind": "werner", "fidelity": DAMAGED_FIDELITY}


def max_actions_for(links: int) -> int:
    """Action budget of a scenario whose optimal route has ``links`` links.

    The paper's 15 while the route plus :data:`ACTION_SLACK` fits in it, else the route plus the
    slack (a 16-intermediary route takes 17 actions).
    """
    return max(PAPER_MAX_ACTIONS, links + ACTION_SLACK)


@dataclasses.dataclass(frozen=True, eq=False)
class NetworkLayout:
    """A topology with its endpoints: what every design of a family shares.

    Attributes:
        graph: simple undirected graph on nodes ``0..n-1``, degree <= ``MAX_DEGREE``.
        edges: ``(u, v)`` per link, in the graph's edge order (the scenario's edge order, which
            fixes the action slots).
        alice: start node.
        bob: goal node.
        positions: drawing coordinates per node, shape (num_nodes, 2), layout units.
        label: how the layout was made, for descriptions.
    """

    graph: nx.Graph
    edges: tuple[tuple[int, int], ...]
    alice: int
    bob: int
    positions: tuple[tuple[float, float], ...]
    label: str

    @classmethod
    def clustered(
        cls,
        n_clusters: int = 10,
        cluster_size: int = 6,
        topology_seed: int = 1,
        distance: int = ENDPOINT_DISTANCE,
        seed: int = 0,
    ) -> NetworkLayout:
        """The paper's clustered topology with Alice and Bob ``distance`` hops apart.

        Alice and Bob are drawn (``numpy.random.default_rng(seed)``) among pairs of cluster
        gateways (users with three links: two in the cluster ring, one to a hub) at exactly
        ``distance`` hops, so each has three links to damage or to phase-shift.

        The topology seed defaults to 1, not the topology's own default 0: routes between two
        clusters go round the ring of clusters, so only some lengths exist, and with seed 1 the
        gateway pairs 7 hops apart have simple routes of every odd length from 7 to 17 links
        (with seed 0 no 13-link route exists, so no 12-intermediary white-noise scenario).
        """
        graph = clustered_topology(n_clusters, cluster_size, seed=topology_seed)
        lengths = dict(nx.all_pairs_shortest_path_length(graph))
        gateways = sorted(
            n for n in graph if graph.nodes[n]["role"] == "user" and graph.degree(n) == 3
        )
        pairs = [(a, b) for a in gateways for b in gateways if a < b and lengths[a][b] == distance]
        if not pairs:
            raise ValueError(
                f"distance: no two gateways of this topology are {distance} hops apart; "
                f"its diameter is {nx.diameter(graph)}"
            )
        alice, bob = pairs[int(np.random.default_rng(seed).integers(len(pairs)))]
        label = (
            f"clustered_topology(n_clusters={n_clusters}, cluster_size={cluster_size}, "
            f"seed={topology_seed}), Alice {alice} and Bob {bob} {distance} hops apart"
        )
        return cls.from_graph(graph, alice, bob, label)

    @classmethod
    def from_graph(cls, graph: nx.Graph, alice: int, bob: int, label: str) -> NetworkLayout:
        """A layout of any graph on nodes ``0..n-1`` whose nodes carry a ``pos`` attribute."""
        if sorted(graph) != list(range(graph.number_of_nodes())):
            raise ValueError("graph: nodes must be the integers 0..n-1")
        positions = tuple(
            (float(graph.nodes[n]["pos"][0]), float(graph.nodes[n]["pos"][1]))
            for n in range(graph.number_of_nodes())
        )
        edges = tuple((int(u), int(v)) for u, v in graph.edges())
        return cls(graph, edges, int(alice), int(bob), positions, label)

    @cached_property
    def edge_index(self) -> dict[frozenset[int], int]:
        """Edge index of each unordered node pair."""
        return {frozenset(edge): i for i, edge in enumerate(self.edges)}

    @cached_property
    def incidence(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Per node, its ``(edge index, neighbour)`` pairs in edge order."""
        table: list[list[tuple[int, int]]] = [[] for _ in self.positions]
        for i, (u, v) in enumerate(self.edges):
            table[u].append((i, v))
            table[v].append((i, u))
        return tuple(tuple(row) for row in table)

    def route_edges(self, nodes: Sequence[int]) -> Route:
        """Edge indices of a walk given as its node sequence."""
        return tuple(self.edge_index[frozenset(pair)] for pair in itertools.pairwise(nodes))

    def route_nodes(self, route: Route) -> tuple[int, ...]:
        """Node sequence of a route given as edge indices, starting at Alice."""
        nodes = [self.alice]
        for edge in route:
            u, v = self.edges[edge]
            nodes.append(v if nodes[-1] == u else u)
        return tuple(nodes)


def ladder_layout(length: int = 4) -> NetworkLayout:
    """Two rows of ``length`` nodes joined by rungs; Alice and Bob at the ends of the top row.

    Nodes ``0..length-1`` are the top row (Alice 0, Bob ``length - 1``), ``length..2 length-1``
    the bottom row; degree <= 3.
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 2:
        raise ValueError(f"length must be an integer >= 2, got {length!r}")
    graph = nx.Graph()
    for row in (0, 1):
        for i in range(length):
            graph.add_node(row * length + i, pos=(float(i), 1.0 - row))
    for row in (0, 1):
        for i in range(length - 1):
            graph.add_edge(row * length + i, row * length + i + 1)
    for i in range(length):
        graph.add_edge(i, length + i)
    return NetworkLayout.from_graph(
        graph, 0, length - 1, f"ladder of 2 x {length} nodes, Alice 0 and Bob {length - 1}"
    )
