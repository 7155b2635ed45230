"""Table of the topologies the loaders and generators produce, with what the loader repaired.

Usage (from the project root, with ``qnet_envs`` importable)::

    python scripts/topology_table.py                              # print the table
    python scripts/topology_table.py --markdown docs/topologies.md  # also write the docs page

The Topology Zoo rows load the copies shipped with the package (``load("Kdl")``), which give
the same graphs as the GML files (see ``docs/topology.md``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import networkx as nx

from qnet_envs import resources
from qnet_envs.topology import clustered_topology, load, waxman_topology

TOPOHUB_KEYS = ("topozoo/Abilene", "topozoo/Surfnet", "caida/2024-08/7018")
COLUMNS = (
    "topology",
    "source",
    "nodes",
    "edges",
    "components",
    "parallel edges merged",
    "nodes w/o coordinates",
    "imputed edges",
    "zero-length edges",
    "edges added",
    "total length (km)",
)

INTRO = """\
# Topologies

Every topology below is a simple undirected `networkx.Graph` on nodes `0..n-1` whose edges carry
`length_km`, produced by `qnet_envs.topology` (see [topology.md](topology.md)). Regenerate this
page with `python scripts/topology_table.py --markdown docs/topologies.md`.

What the loader repairs, and how (each repair is listed in `graph.graph["repairs"]`):

- **Parallel edges** (multigraph files such as Cogentco, Kdl, Surfnet) are merged into one
  edge that keeps the shortest length; the edge attribute `multiplicity` counts the merged
  edges. *parallel edges merged* = edges as read minus edges kept.
- **Self-loops** are removed and listed.
- **Nodes without coordinates** (Topology Zoo's `hyperedge` nodes in Cogentco and Kdl) are
  placed at the mean of their neighbours (harmonic interpolation on the sphere), flagged
  `coordinates_imputed=True`. Their edges take the great-circle length between the
  interpolated positions, or the graph's median length when that is zero or impossible, and
  are flagged `length_imputed=True` (*imputed edges*).
- **Lengths** are great-circle (haversine, R = 6371.0 km) distances for GML files and topohub's
  own `dist` for topohub graphs.
- **Co-located nodes** (two PoPs with the same coordinates, two pairs in Kdl) give 0 km edges;
  they are kept and listed (*zero-length edges*).
- **Disconnected parts** are kept and reported (*components* of the returned graph);
  `load(..., largest_component=True)` keeps only the largest one and lists the removed nodes.
- Generators report their own repairs: the Waxman sample is joined into one component by the
  shortest possible links (*edges added*).
"""


def _rows() -> list[tuple[str, str, Callable[[], nx.Graph]]]:
    rows: list[tuple[str, str, Callable[[], nx.Graph]]] = []
    for name in resources.shipped_topologies():
        rows.append((name, "Topology Zoo (shipped)", lambda name=name: load(name)))
    rows += [(key, "topohub", lambda key=key: load(key)) for key in TOPOHUB_KEYS]
    rows.append(("clustered (defaults)", "generator", clustered_topology))
    rows.append(("Waxman-850 (defaults)", "generator", lambda: waxman_topology(850)))
    return rows


def table() -> str:
    """The Markdown table, one row per topology."""
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" if i < 2 else "---:" for i in range(len(COLUMNS))) + "|",
    ]
    for name, source, make in _rows():
        graph = make()
        report = graph.graph["repairs"]
        cells = (
            name,
            source,
            graph.number_of_nodes(),
            graph.number_of_edges(),
            nx.number_connected_components(graph),
            report.parallel_edges_merged,
            len(report.nodes_without_coordinates),
            len(report.imputed_edges),
            len(report.zero_length_edges),
            len(report.edges_added),
            f"{graph.size(weight='length_km'):,.1f}",
        )
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", type=Path, help="write the docs page (intro + table) here")
    args = parser.parse_args(argv)
    text = table()
    print(text)
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(INTRO + "\n" + text + "\n", encoding="utf-8")
        print(f"wrote {args.markdown}", file=sys.stderr)


if __name__ == "__main__":
    main()
