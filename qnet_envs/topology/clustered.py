"""The clustered, LDPC-code-like topology of the quantum routing paper.

Reference: "Routing in quantum networks using reinforcement learning", section 2: groups of
local users connected among themselves by central nodes, inspired by the structure of
low-density parity-check (LDPC) codes, robust to any single failed node, at most four
connections per node.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from qnet_envs.topology.repairs import Repairs

_CLUSTER_RADIUS = 1.0  # layout units
_RING_SPACING = 3.2  # layout units between neighbouring cluster centres on the big circle


def clustered_topology(
    n_clusters: int = 10,
    cluster_size: int = 6,
    seed: int | None = 0,
    link_length_km: float = 1.0,
) -> nx.Graph:
    """Clusters of local users joined through hub nodes in a spatially coupled LDPC pattern.

    Construction. Read the network as the Tanner graph of a tail-biting, spatially coupled
    (2, 4)-regular LDPC code in which every variable node is blown up into a cluster:

    * **Clusters** ``c = 0..n_clusters-1``: ``cluster_size`` local users on a ring. Ring position
      0 is the cluster's *left gateway*; the *right gateway* sits ``d_c`` ring steps further, with
      ``d_c`` drawn uniformly from ``ceil(cluster_size / 3) .. floor(cluster_size / 2)`` by the
      seeded generator (the only random choice; it sets how long a transit through the
      cluster is). Two arcs of the ring join the gateways, so a cluster survives any single
      node failure.
    * **Hubs** ``k = 0..ceil(n_clusters / 2)-1`` (the check nodes, "central nodes"): the left
      gateway of cluster ``c`` links to hub ``c // 2``, the right gateway to hub
      ``(c // 2 + 1) mod n_hubs``. So hub ``k`` joins clusters ``2k-2, 2k-1`` (their right side)
      and ``2k, 2k+1`` (their left side): a coupling window of two clusters, closed into a ring.

    Properties (tested): users have degree 2 or 3, hubs at most 4; the graph is 2-node-connected
    (no single failed node disconnects it), so any two nodes have at least two node-disjoint
    routes; going from hub ``k`` to hub ``k+1`` offers two clusters with two arcs each. With the
    defaults: 65 nodes (60 users, 5 hubs), 80 edges, diameter 12 or 13 hops depending on the
    seed.

    Args:
        n_clusters: number of user clusters, ``>= 3``.
        cluster_size: users per cluster, ``>= 3``.
        seed: seed of ``numpy.random.default_rng`` for the gateway placement; the same seed gives
            an identical graph (node order, edge order, attributes). ``None`` draws fresh entropy.
        link_length_km: ``length_km`` of every edge (the paper's links are all alike), ``> 0``.

    Returns:
        ``networkx.Graph`` with nodes ``0..N-1``: users of cluster ``c`` are
        ``c * cluster_size + i`` for ring position ``i``, hubs follow. Node attributes: ``role``
        (``"user"`` or ``"hub"``), ``cluster`` (int, ``-1`` for hubs), ``pos`` (2-D drawing
        coordinates in layout units: clusters on a circle, hubs between them). Edge attribute
        ``length_km``. Graph attributes ``name``, ``source``, ``repairs`` (empty report).

    Raises:
        ValueError: an argument outside its range (the message names it).
    """
    for argument, value in (("n_clusters", n_clusters), ("cluster_size", cluster_size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 3:
            raise ValueError(f"{argument} must be an integer >= 3, got {value!r}")
    if not (isinstance(link_length_km, int | float) and math.isfinite(link_length_km)):
        raise ValueError(f"link_length_km must be a finite number > 0, got {link_length_km!r}")
    if link_length_km <= 0:
        raise ValueError(f"link_length_km must be a finite number > 0, got {link_length_km!r}")
    n_clusters, cluster_size = int(n_clusters), int(cluster_size)
    rng = np.random.default_rng(seed)
    n_hubs = math.ceil(n_clusters / 2)
    offsets = rng.integers(math.ceil(cluster_size / 3), cluster_size // 2 + 1, size=n_clusters)

    def user(c: int, i: int) -> int:
        return c * cluster_size + i % cluster_size

    def hub(k: int) -> int:
        return n_clusters * cluster_size + k % n_hubs

    big_radius = _RING_SPACING * n_clusters / (2 * math.pi)
    cluster_angle = [2 * math.pi * c / n_clusters for c in range(n_clusters)]
    hub_angle = [2 * math.pi * (2 * k - 0.5) / n_clusters for k in range(n_hubs)]
    hub_pos = [(big_radius * math.cos(a), big_radius * math.sin(a)) for a in hub_angle]

    graph = nx.Graph()
    for c in range(n_clusters):
        centre = np.array([math.cos(cluster_angle[c]), math.sin(cluster_angle[c])]) * big_radius
        # Ring position 0 faces the left hub; turn towards the right hub.
        to_left = np.subtract(hub_pos[c // 2], centre)
        start = math.atan2(to_left[1], to_left[0])
        step = 2 * math.pi / cluster_size
        to_right = np.subtract(hub_pos[(c // 2 + 1) % n_hubs], centre)
        turn = 1.0 if math.sin(math.atan2(to_right[1], to_right[0]) - start) >= 0 else -1.0
        for i in range(cluster_size):
            angle = start + turn * step * i
            pos = centre + _CLUSTER_RADIUS * np.array([math.cos(angle), math.sin(angle)])
            graph.add_node(user(c, i), role="user", cluster=c, pos=(float(pos[0]), float(pos[1])))
    for k in range(n_hubs):
        graph.add_node(hub(k), role="hub", cluster=-1, pos=hub_pos[k])

    for c in range(n_clusters):
        for i in range(cluster_size):
            graph.add_edge(user(c, i), user(c, i + 1), length_km=float(link_length_km))
    for c in range(n_clusters):
        graph.add_edge(user(c, 0), hub(c // 2), length_km=float(link_length_km))
        graph.add_edge(user(c, int(offsets[c])), hub(c // 2 + 1), length_km=float(link_length_km))

    name = f"clustered(n_clusters={n_clusters}, cluster_size={cluster_size}, seed={seed})"
    graph.graph.update(
        name=name,
        source="generator:clustered_topology",
        repairs=Repairs(
            source="generator:clustered_topology",
            input_nodes=graph.number_of_nodes(),
            input_edges=graph.number_of_edges(),
            length_source=f"uniform {float(link_length_km)} km per edge",
            components=(graph.number_of_nodes(),),
        ),
    )
    return graph
