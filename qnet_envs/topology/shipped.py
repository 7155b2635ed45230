"""The compact file format of the shipped topologies: a GML file's records, nothing repaired.

A shipped file (``qnet_envs/topology/zoo-data/<Name>.json``, written by
``scripts/make_topology_data.py``) holds exactly what :func:`qnet_envs.topology.loaders.read_gml`
reads from a Topology Zoo GML file, before any repair: the graph's name, whether it is directed,
the reader's notes, every node as ``[id, label]`` or ``[id, label, latitude, longitude]`` (a
coordinate the GML lacks is ``null``; a node with neither has no coordinates), and every edge as
``[u, v]`` in file order, parallel edges and self-loops included. Loading one therefore runs the
same repairs as loading the GML and gives the same graph; only ``graph.graph["source"]`` (and
``Repairs.source``) differ: ``"shipped:<Name>.json"``. Values keep their JSON types (int or
float), which is how ``networkx.parse_gml`` returned them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from qnet_envs.topology.cleaning import RawEdge, RawNode, RawTopology

FORMAT = "qnet_envs-topology/1"
GML_LENGTH_SOURCE = "haversine (great-circle, R = 6371.0 km) from node coordinates"
_HEADER_KEYS = ("format", "name", "source_file", "source_sha256", "dataset", "directed", "notes")
DATASET = (
    "Internet Topology Zoo, The University of Adelaide (Knight et al., IEEE JSAC 29(9), 2011); "
    "CC BY-SA 3.0; see README.md in this folder"
)


def dumps(raw: RawTopology, source_file: str, source_bytes: bytes) -> str:
    """The file text of ``raw`` (read from ``source_file`` with contents ``source_bytes``).

    One node or edge per line so that a regenerated file diffs line by line.
    """
    header: dict[str, Any] = {
        "format": FORMAT,
        "name": raw.name,
        "source_file": source_file,
        "source_sha256": hashlib.sha256(source_bytes).hexdigest(),
        "dataset": DATASET,
        "directed": raw.directed,
        "notes": list(raw.notes),
    }
    lines = ["{"]
    lines += [f"  {json.dumps(key)}: {json.dumps(header[key])}," for key in _HEADER_KEYS]
    nodes = [json.dumps(_node_record(node)) for node in raw.nodes]
    edges = [json.dumps([edge.u, edge.v]) for edge in raw.edges]
    lines.append('  "nodes": [')
    lines += [f"    {record}," for record in nodes[:-1]] + [f"    {r}" for r in nodes[-1:]]
    lines.append("  ],")
    lines.append('  "edges": [')
    lines += [f"    {record}," for record in edges[:-1]] + [f"    {r}" for r in edges[-1:]]
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_record(node: RawNode) -> list[Any]:
    if node.coordinates is None:
        return [node.source_id, node.name]
    return [node.source_id, node.name, *node.coordinates]


def read(path: Path) -> RawTopology:
    """The raw records of a shipped file, for :func:`~qnet_envs.topology.cleaning.build_graph`.

    Raises:
        ValueError: the file is not valid JSON or not in this format.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a readable shipped topology file: {err}") from err
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: 'format' must be {FORMAT!r}")
    nodes = []
    for record in data["nodes"]:
        if len(record) not in (2, 4):
            raise ValueError(
                f"{path}: node {record!r} must be [id, label] or [id, label, lat, lon]"
            )
        coordinates = (record[2], record[3]) if len(record) == 4 else None
        nodes.append(RawNode(record[0], record[1], coordinates=coordinates))
    return RawTopology(
        name=data["name"],
        source=f"shipped:{path.name}",
        length_source=GML_LENGTH_SOURCE,
        nodes=nodes,
        edges=[RawEdge(u, v) for u, v in data["edges"]],
        directed=bool(data["directed"]),
        notes=list(data["notes"]),
    )
