"""Network topologies: generators, Topology Zoo / topohub loaders, k shortest paths.

Pure networkx/numpy; ``topohub`` is imported only when a topohub graph is loaded. Every graph
returned here is a simple undirected ``networkx.Graph`` on nodes ``0..n-1`` whose edges carry
``length_km``, with a :class:`Repairs` report in ``graph.graph["repairs"]``. See
``docs/topology.md``.
"""

from qnet_envs.topology.clustered import clustered_topology
from qnet_envs.topology.loaders import data_search_path, load
from qnet_envs.topology.paths import k_shortest_paths
from qnet_envs.topology.repairs import Repairs
from qnet_envs.topology.waxman import waxman_topology

__all__ = [
    "Repairs",
    "clustered_topology",
    "data_search_path",
    "k_shortest_paths",
    "load",
    "waxman_topology",
]
