"""The report of what a loader or generator did to produce a clean graph.

Every graph from :func:`qnet_envs.topology.load`, :func:`~qnet_envs.topology.clustered_topology`
and :func:`~qnet_envs.topology.waxman_topology` carries one :class:`Repairs` in
``graph.graph["repairs"]``. Nodes in the report are named by their *source id* (the ``id`` of
the GML file or the topohub record, also stored as the node attribute ``source_id``), because
that name survives relabelling; generated graphs use their own integer nodes.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import asdict, dataclass
from typing import Any

# (source id u, source id v, number of input edges merged into one)
ParallelEdge = tuple[Hashable, Hashable, int]
# (source id u, source id v, how the length was set: "interpolated", "median" or "default")
ImputedEdge = tuple[Hashable, Hashable, str]
# (node u, node v, length_km) of an edge a generator added to join components
AddedEdge = tuple[int, int, float]


@dataclass(frozen=True)
class Repairs:
    """What was changed, merged, imputed or removed on the way to a simple undirected graph.

    Attributes:
        source: where the data came from, e.g. ``"gml:/path/Kdl.gml"``,
            ``"topohub:topozoo/Abilene"`` or ``"generator:waxman_topology"``.
        input_nodes: node count as read (or as generated, before any repair).
        input_edges: edge (or arc) count as read, including parallel edges and self-loops.
        length_source: how ``length_km`` was obtained for edges with usable data.
        directed_input: the input was directed; arcs ``u->v`` and ``v->u`` became one edge.
        self_loops_removed: source id of each removed self-loop (repeated per loop).
        parallel_edges: one entry per node pair that had more than one edge; the merged edge keeps
            the shortest length and stores the count in its ``multiplicity`` attribute. For
            directed input, the count is the larger of the two directions' arc counts.
        nodes_without_coordinates: nodes whose input had no usable latitude/longitude
            (missing or invalid).
        invalid_coordinates: the subset of those whose coordinates were present but unusable
            (only one of the pair, non-numeric, non-finite, or latitude/longitude outside
            ``[-90, 90]`` x ``[-180, 180]`` degrees).
        coordinates_imputed: nodes that received interpolated coordinates (node attribute
            ``coordinates_imputed=True``); the rest of ``nodes_without_coordinates`` lie in a
            component with no located node and have no coordinates.
        imputed_edges: edges whose length is not backed by data (edge attribute
            ``length_imputed=True``) and the method used.
        zero_length_edges: edges (source ids) whose data-backed length is exactly 0 km, kept as is.
        components: sizes of the connected components of the cleaned graph before any pruning,
            largest first. ``(n,)`` means connected.
        removed_nodes: nodes dropped by ``largest_component=True``; empty otherwise.
        edges_added: edges a generator added to join components (generators only).
        notes: human-readable remarks that fit no field above.
    """

    source: str
    input_nodes: int
    input_edges: int
    length_source: str
    directed_input: bool = False
    self_loops_removed: tuple[Hashable, ...] = ()
    parallel_edges: tuple[ParallelEdge, ...] = ()
    nodes_without_coordinates: tuple[Hashable, ...] = ()
    invalid_coordinates: tuple[Hashable, ...] = ()
    coordinates_imputed: tuple[Hashable, ...] = ()
    imputed_edges: tuple[ImputedEdge, ...] = ()
    zero_length_edges: tuple[tuple[Hashable, Hashable], ...] = ()
    components: tuple[int, ...] = ()
    removed_nodes: tuple[Hashable, ...] = ()
    edges_added: tuple[AddedEdge, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def parallel_edges_merged(self) -> int:
        """Number of input edges that disappeared by merging (multiplicity minus one, summed)."""
        return sum(count - 1 for _, _, count in self.parallel_edges)

    @property
    def is_clean(self) -> bool:
        """True when the input needed no repair at all."""
        return not (
            self.directed_input
            or self.self_loops_removed
            or self.parallel_edges
            or self.nodes_without_coordinates
            or self.imputed_edges
            or len(self.components) > 1
            or self.removed_nodes
            or self.edges_added
            or self.notes
        )

    def as_dict(self) -> dict[str, Any]:
        """A plain ``dict`` (lists instead of tuples) for JSON or logging."""
        data = asdict(self)
        data["parallel_edges_merged"] = self.parallel_edges_merged
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in data.items()
        }

    def summary(self) -> str:
        """One line per kind of repair, for printing."""
        lines = [f"{self.source}: {self.input_nodes} nodes, {self.input_edges} edges as read"]
        if self.directed_input:
            lines.append("directed input: arcs merged into undirected edges")
        if self.self_loops_removed:
            lines.append(f"self-loops removed: {len(self.self_loops_removed)}")
        if self.parallel_edges:
            lines.append(
                f"parallel edges merged: {self.parallel_edges_merged} "
                f"(on {len(self.parallel_edges)} node pairs)"
            )
        if self.nodes_without_coordinates:
            lines.append(
                f"nodes without coordinates: {len(self.nodes_without_coordinates)} "
                f"({len(self.coordinates_imputed)} interpolated)"
            )
        if self.imputed_edges:
            lines.append(f"edges with imputed length: {len(self.imputed_edges)}")
        if self.zero_length_edges:
            lines.append(f"zero-length edges kept: {len(self.zero_length_edges)}")
        if len(self.components) > 1:
            when = " before repair" if self.edges_added else ""
            lines.append(
                f"components{when}: {len(self.components)} of sizes {list(self.components)}"
            )
        if self.removed_nodes:
            lines.append(f"nodes removed outside the largest component: {len(self.removed_nodes)}")
        if self.edges_added:
            lines.append(f"edges added to join components: {len(self.edges_added)}")
        lines.extend(self.notes)
        return "\n".join(lines)
