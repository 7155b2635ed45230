"""The planning network: its graph and the per-edge link and cost model.

Link model (``docs/planning-model.md``). Edge ``e`` of length ``l_e`` km is planned at the
*effective length* ``L_e = max(l_e, min_length_km)``: a link between co-located nodes (Kdl has
two of length 0) still needs a patch fibre and end-point hardware, so it costs what a
``min_length_km`` link costs and never becomes free capacity. The edge is a chain of
``s_e = max(1, ceil(L_e / max_segment_km))`` equal elementary segments of ``L_e / s_e`` km,
each heralded by the single-photon scheme (:func:`qnet_envs.physics.single_photon_link`) with
success probability ``2 alpha eta`` per attempt, ``eta = 10^(-0.1 beta L_e / s_e)``
(:func:`qnet_envs.physics.fiber_transmissivity`), and singlet fidelity ``1 - alpha``.

``cost_e`` (per pair/s of link capacity, the paper's unit link-capacity cost) is
``capacity_cost * s_e * p(0) / p(L_e / s_e)``: each segment needs ``1 / p`` attempts per
delivered pair, relative to a lossless segment (``p(0) = 2 alpha``), so it grows with length
through fibre loss. A fibre on ``e`` costs ``fiber_cost_per_km * L_e`` and carries
``fiber_capacity`` pairs/s (``C_e``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from qnet_envs.physics import fiber_transmissivity, single_photon_link, singlet_fidelity

if TYPE_CHECKING:
    from qnet_envs.planning.problem import Instance

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def build_graph(instance: Instance) -> nx.Graph:
    """The instance's undirected graph on nodes ``0..n-1`` with ``length_km`` on every edge."""
    if instance.links is not None:
        graph = nx.Graph()
        n = 1 + max(max(u, v) for u, v, _ in instance.links)
        graph.add_nodes_from(range(n))
        for u, v, km in instance.links:
            graph.add_edge(int(u), int(v), length_km=float(km))
        return graph
    if instance.waxman is not None:
        from qnet_envs.topology import waxman_topology

        return waxman_topology(**instance.waxman_kwargs)
    from qnet_envs.topology import load

    assert instance.topology is not None
    graph = load(instance.topology)
    if not nx.is_connected(graph):
        raise ValueError(
            f"network.topology: {instance.topology!r} is not connected (allowed: a connected "
            "topology; load it with largest_component=True and pass its links)"
        )
    return graph


@dataclass(frozen=True)
class EdgeTable:
    """Per-edge arrays, edge ``e`` joining ``u[e] < v[e]`` (edges in ``graph.edges`` order)."""

    u: IntArray  # (n_edges,)
    v: IntArray  # (n_edges,)
    length_km: FloatArray  # (n_edges,) as in the topology
    effective_km: FloatArray  # (n_edges,) max(length, min_length_km)
    segments: IntArray  # (n_edges,) elementary segments s_e
    segment_success: FloatArray  # (n_edges,) per-attempt success p of one segment
    capacity_cost: FloatArray  # (n_edges,) cost_e per pair/s of link capacity
    fiber_cost: FloatArray  # (n_edges,) cost_f * L_e per fibre
    fiber_capacity: FloatArray  # (n_edges,) C_e, pairs/s per fibre
    segment_fidelity: float  # singlet fidelity of one heralded segment (1 - alpha)

    @property
    def n_edges(self) -> int:
        return int(self.u.shape[0])

    def index(self) -> dict[tuple[int, int], int]:
        """``(a, b) -> e`` for both orientations of every edge."""
        out: dict[tuple[int, int], int] = {}
        for e, (a, b) in enumerate(zip(self.u.tolist(), self.v.tolist(), strict=True)):
            out[(a, b)] = out[(b, a)] = e
        return out


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def edge_table(instance: Instance) -> EdgeTable:
    """The link and cost model of the module docstring, one row per edge."""
    graph = instance.graph
    ends = np.array([sorted((int(a), int(b))) for a, b in graph.edges()], dtype=np.int64)
    length = np.array([float(d["length_km"]) for _, _, d in graph.edges(data=True)])
    effective = np.maximum(length, instance.min_length_km)
    segments = np.maximum(1, np.ceil(effective / instance.max_segment_km - 1e-12)).astype(np.int64)
    eta = fiber_transmissivity(effective / segments, instance.attenuation_db_per_km)
    state, success = single_photon_link(eta, instance.alpha)
    _, lossless = single_photon_link(1.0, instance.alpha)
    capacity_cost = instance.capacity_cost * segments * float(lossless) / success
    fidelity = float(np.asarray(singlet_fidelity(state)).ravel()[0])
    return EdgeTable(
        u=_read_only(ends[:, 0].copy()),
        v=_read_only(ends[:, 1].copy()),
        length_km=_read_only(length),
        effective_km=_read_only(effective),
        segments=_read_only(segments),
        segment_success=_read_only(np.asarray(success, dtype=np.float64)),
        capacity_cost=_read_only(np.asarray(capacity_cost, dtype=np.float64)),
        fiber_cost=_read_only(instance.fiber_cost_per_km * effective),
        fiber_capacity=_read_only(np.full(length.shape, instance.fiber_capacity)),
        segment_fidelity=fidelity,
    )
