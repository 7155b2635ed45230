"""The env's k-shortest-paths equals the topology layer's on random costs."""

import numpy as np

from qnet_envs.linkquality import LinkQualityScenario
from qnet_envs.linkquality.core import Network
from qnet_envs.topology import k_shortest_paths


def test_same_paths_as_the_topology_layer():
    network = Network.compile(LinkQualityScenario.load("waxman-50"))
    rng = np.random.default_rng(0)
    for _ in range(40):
        cost = rng.random(network.num_edges) * rng.choice([1.0, 10.0])
        source, target = (int(x) for x in rng.choice(network.num_nodes, 2, replace=False))
        k = int(rng.integers(1, 7))
        ours = network.finder.k_shortest(source, target, k, cost)
        reference = k_shortest_paths(
            network.graph, source, target, k, weight=lambda u, v, d, c=cost: float(c[d["index"]])
        )
        assert ours == reference
    assert network.finder.k_shortest(3, 3, 2, cost) == [[3]]
