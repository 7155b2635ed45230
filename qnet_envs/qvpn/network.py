"""The physical network of a qVPN instance: nodes, links, capacities, fidelities.

A named topology comes from :func:`qnet_envs.topology.load` (lengths from node coordinates);
small instances may list their links explicitly. The engineered variant of the paper puts
repeaters on every link longer than ``repeater_threshold_km``: a link of ``d`` km becomes
``ceil(d / repeater_spacing_km)`` equal segments (one repeater every ``repeater_spacing_km``
km). Repeaters get node ids after the original nodes and are never end points.

Every *trunk* (an edge of the original graph) maps to the chain of physical links that
replaces it; candidate paths are searched on the trunk graph with chain-summed weights, which
is exact because repeaters have degree 2 and are never end points.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from qnet_envs.qvpn.links import link_parameters
from qnet_envs.validation import FieldError

if TYPE_CHECKING:
    import networkx as nx

    from qnet_envs.qvpn.problem import Instance

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Network:
    """Physical links (after repeater placement) and the trunk graph above them.

    Link ``l`` joins ``link_nodes[l]``; ``trunk_links[t]`` lists, in order from
    ``trunk_nodes[t, 0]`` to ``trunk_nodes[t, 1]``, the links of trunk ``t``.
    """

    n_nodes: int  # original nodes + repeaters
    n_original: int  # node ids 0..n_original-1 may be end points
    link_nodes: IntArray  # (n_links, 2)
    length_km: FloatArray  # (n_links,)
    capacity: FloatArray  # (n_links,) pairs/s
    fidelity: FloatArray  # (n_links,) singlet fidelity of a raw link pair
    trunk_nodes: IntArray  # (n_trunks, 2), original node ids
    trunk_length_km: FloatArray  # (n_trunks,)
    trunk_links: tuple[tuple[int, ...], ...]  # (n_trunks,) chains of link indices

    @property
    def n_links(self) -> int:
        return int(self.length_km.shape[0])

    def trunk_graph(self) -> nx.Graph:
        """The original graph with per-trunk ``hop``, ``egr`` (sum 1/c) and ``egr2`` (sum 1/c^2)."""
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(range(self.n_original))
        for t, (a, b) in enumerate(self.trunk_nodes):
            chain = np.asarray(self.trunk_links[t])
            c = self.capacity[chain]
            graph.add_edge(
                int(a),
                int(b),
                trunk=t,
                hop=float(chain.size),
                egr=float(np.sum(1.0 / c)),
                egr2=float(np.sum(1.0 / c**2)),
                length_km=float(self.trunk_length_km[t]),
            )
        return graph


def _trunks(instance: Instance) -> tuple[int, list[tuple[int, int, float]]]:
    if instance.links is not None:
        n = 1 + max(max(u, v) for u, v, _ in instance.links)
        return n, [(int(u), int(v), float(d)) for u, v, d in instance.links]
    from qnet_envs.topology import load

    graph = load(instance.topology)
    trunks = [(int(u), int(v), float(data["length_km"])) for u, v, data in graph.edges(data=True)]
    return graph.number_of_nodes(), trunks


def build_network(instance: Instance) -> Network:
    """Build the :class:`Network` of ``instance`` (repeaters placed when ``engineered``)."""
    n_original, trunks = _trunks(instance)
    nodes: list[tuple[int, int]] = []
    lengths: list[float] = []
    chains: list[tuple[int, ...]] = []
    next_node = n_original
    for u, v, d in trunks:
        if not (d > 0.0 and math.isfinite(d)):
            raise FieldError(f"links: trunk ({u}, {v})", f"length {d} km", "a finite length > 0")
        segments = 1
        if instance.engineered and d > instance.repeater_threshold_km:
            segments = math.ceil(d / instance.repeater_spacing_km)
        path = [u, *range(next_node, next_node + segments - 1), v]
        next_node += segments - 1
        chain = []
        for a, b in itertools.pairwise(path):
            chain.append(len(lengths))
            nodes.append((a, b))
            lengths.append(d / segments)
        chains.append(tuple(chain))
    length = np.asarray(lengths, dtype=np.float64)
    capacity, fidelity, _ = link_parameters(
        length,
        alpha=instance.alpha,
        attenuation_db_per_km=instance.attenuation_db_per_km,
        mode=instance.repetition_time,
        constant_s=instance.repetition_time_s,
        per_km_s=instance.repetition_time_per_km_s,
        multiplexing=instance.multiplexing,
    )
    return Network(
        n_nodes=next_node,
        n_original=n_original,
        link_nodes=np.asarray(nodes, dtype=np.int64).reshape(-1, 2),
        length_km=length,
        capacity=capacity,
        fidelity=fidelity,
        trunk_nodes=np.asarray([(u, v) for u, v, _ in trunks], dtype=np.int64).reshape(-1, 2),
        trunk_length_km=np.asarray([d for *_, d in trunks], dtype=np.float64),
        trunk_links=tuple(chains),
    )
