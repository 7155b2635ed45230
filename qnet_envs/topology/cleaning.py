"""Turn raw topology records into a simple undirected graph with lengths, and report the repairs.

Policy (the same for every source; see ``docs/topology.md``):

1. Self-loops are removed.
2. Parallel edges (and, for directed input, the two directions of a link) are merged into one
   edge that keeps the shortest data-backed length; ``multiplicity`` counts what was merged.
3. Nodes without usable coordinates get interpolated coordinates: each such node is put at the
   mean of its neighbours, solved for all of them at once (harmonic interpolation, on the unit
   sphere for geographic data: a chain of unlocated nodes is spread between its located ends).
   Nodes in a component with no located node at all keep no coordinates.
4. ``length_km`` is the data's own length where the source has one (topohub ``dist``), else the
   distance between the endpoints: great-circle (haversine, Earth radius 6371.0 km) for
   geographic data, Euclidean for planar data in km. An edge touching an unlocated node gets
   the distance between the interpolated coordinates (``"interpolated"``); if that is not
   possible or comes out as zero, the median data-backed length of the graph (``"median"``),
   or 1.0 km if the graph has none (``"default"``). Such edges carry ``length_imputed=True``.
5. Disconnected parts are kept and reported; ``largest_component=True`` keeps only the largest
   (ties: the one holding the earliest node) and reports the removed nodes.
6. Nodes are relabelled ``0..n-1`` in input order; edges are inserted in order of first
   appearance, so iteration order is a function of the input alone.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from qnet_envs.topology.geometry import GEOGRAPHIC, PLANAR, CoordinateSystem, as_float
from qnet_envs.topology.repairs import Repairs

DEFAULT_LENGTH_KM = 1.0
_ZERO_KM = 1e-9


@dataclass(frozen=True)
class RawNode:
    """A node as read; ``coordinates`` is ``(latitude, longitude)`` in degrees for geographic
    sources, ``(x, y)`` in km for planar ones, ``None`` when absent. Values are unchecked."""

    source_id: Hashable
    name: str
    coordinates: tuple[object, object] | None = None


@dataclass(frozen=True)
class RawEdge:
    """An edge (or arc) as read; ``length_km`` is the source's own length, if it has one."""

    u: Hashable
    v: Hashable
    length_km: object = None


@dataclass
class RawTopology:
    """Everything a reader extracted, before any repair."""

    name: str
    source: str
    length_source: str
    nodes: Sequence[RawNode]
    edges: Sequence[RawEdge]
    directed: bool = False
    coordinate_system: CoordinateSystem = "geographic"
    notes: list[str] = field(default_factory=list)


def _renumbered(graph: nx.Graph, keep: list[int]) -> nx.Graph:
    """The subgraph on ``keep`` (sorted) with nodes renumbered ``0..len(keep)-1`` in order."""
    new_index = {old: new for new, old in enumerate(keep)}
    pruned = nx.Graph()
    pruned.add_nodes_from((new_index[old], graph.nodes[old]) for old in keep)
    pruned.add_edges_from(
        (new_index[u], new_index[v], data)
        for u, v, data in graph.edges(data=True)
        if u in new_index and v in new_index
    )
    return pruned


def build_graph(raw: RawTopology, *, largest_component: bool = False) -> nx.Graph:
    """Apply the repair policy of this module to ``raw`` and return the clean graph."""
    index: dict[Hashable, int] = {}
    for node in raw.nodes:
        if node.source_id in index:
            raise ValueError(f"{raw.source}: duplicate node id {node.source_id!r}")
        index[node.source_id] = len(index)
    ids = [node.source_id for node in raw.nodes]

    self_loops: list[Hashable] = []
    pair_order: list[tuple[int, int]] = []
    lengths: dict[tuple[int, int], float | None] = {}
    counts: dict[tuple[int, int], dict[tuple[int, int], int]] = {}
    for edge in raw.edges:
        for end in (edge.u, edge.v):
            if end not in index:
                raise ValueError(f"{raw.source}: edge ({edge.u!r}, {edge.v!r}) names unknown node")
        u, v = index[edge.u], index[edge.v]
        if u == v:
            self_loops.append(edge.u)
            continue
        pair = (min(u, v), max(u, v))
        if pair not in counts:
            pair_order.append(pair)
            counts[pair] = {}
            lengths[pair] = None
        direction = (u, v) if raw.directed else pair
        counts[pair][direction] = counts[pair].get(direction, 0) + 1
        length = as_float(edge.length_km)
        if length is not None and length >= 0.0:
            current = lengths[pair]
            lengths[pair] = length if current is None else min(current, length)
    multiplicity = {pair: max(by_direction.values()) for pair, by_direction in counts.items()}

    geometry = GEOGRAPHIC if raw.coordinate_system == "geographic" else PLANAR
    coords: dict[int, tuple[float, float]] = {}
    missing: list[int] = []
    invalid: list[Hashable] = []
    for i, node in enumerate(raw.nodes):
        point = geometry.validate(node.coordinates)
        if point is not None:
            coords[i] = point
            continue
        missing.append(i)
        if node.coordinates is not None and any(c is not None for c in node.coordinates):
            invalid.append(node.source_id)
    adjacency: dict[int, list[int]] = {i: [] for i in range(len(raw.nodes))}
    for u, v in pair_order:
        adjacency[u].append(v)
        adjacency[v].append(u)
    interpolated = geometry.interpolate(adjacency, coords, missing)
    all_coords = {**coords, **interpolated}

    data_lengths: dict[tuple[int, int], float] = {}
    for pair in pair_order:
        u, v = pair
        if lengths[pair] is not None:
            data_lengths[pair] = lengths[pair]  # type: ignore[assignment]
        elif u in coords and v in coords:
            data_lengths[pair] = geometry.distance_km(coords[u], coords[v])
    fallback_method, fallback = (
        ("median", float(np.median(list(data_lengths.values()))))
        if data_lengths
        else ("default", DEFAULT_LENGTH_KM)
    )
    edge_length: dict[tuple[int, int], tuple[float, str | None]] = {}
    for pair in pair_order:
        u, v = pair
        if pair in data_lengths:
            edge_length[pair] = (data_lengths[pair], None)
        elif u in all_coords and v in all_coords:
            km = geometry.distance_km(all_coords[u], all_coords[v])
            edge_length[pair] = (
                (km, "interpolated") if km > _ZERO_KM else (fallback, fallback_method)
            )
        else:
            edge_length[pair] = (fallback, fallback_method)

    graph = nx.Graph()
    for i, node in enumerate(raw.nodes):
        attrs: dict[str, object] = {
            "name": node.name,
            "source_id": node.source_id,
            "coordinates_imputed": i in interpolated,
        }
        if i in all_coords:
            attrs.update(geometry.node_attributes(all_coords[i]))
        graph.add_node(i, **attrs)
    for pair in pair_order:
        km, method = edge_length[pair]
        graph.add_edge(
            *pair, length_km=km, multiplicity=multiplicity[pair], length_imputed=method is not None
        )

    components = sorted(nx.connected_components(graph), key=lambda c: (-len(c), min(c)))
    removed: list[Hashable] = []
    if largest_component and len(components) > 1:
        keep = components[0]
        removed = [ids[i] for i in graph.nodes if i not in keep]
        graph = _renumbered(graph, sorted(keep))
    graph.graph["name"] = raw.name
    graph.graph["source"] = raw.source
    graph.graph["repairs"] = Repairs(
        source=raw.source,
        input_nodes=len(raw.nodes),
        input_edges=len(raw.edges),
        length_source=raw.length_source,
        directed_input=raw.directed,
        self_loops_removed=tuple(self_loops),
        parallel_edges=tuple(
            (ids[u], ids[v], multiplicity[(u, v)])
            for u, v in pair_order
            if multiplicity[(u, v)] > 1
        ),
        nodes_without_coordinates=tuple(ids[i] for i in missing),
        invalid_coordinates=tuple(invalid),
        coordinates_imputed=tuple(ids[i] for i in missing if i in interpolated),
        imputed_edges=tuple(
            (ids[u], ids[v], edge_length[(u, v)][1])  # type: ignore[misc]
            for u, v in pair_order
            if edge_length[(u, v)][1] is not None
        ),
        zero_length_edges=tuple(
            (ids[u], ids[v]) for (u, v), km in data_lengths.items() if km == 0.0
        ),
        components=tuple(len(c) for c in components),
        removed_nodes=tuple(removed),
        notes=tuple(raw.notes),
    )
    return graph
