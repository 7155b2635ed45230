"""Routers: a router maps the running :class:`~qnet_envs.linkquality.core.Simulation` to a path.

A router is a callable ``router(sim) -> list[int] | None`` (link indices of a path from the
current request's source to its target; ``None`` drops the request) with a ``name``. Only
:class:`~agents.linkquality.clairvoyant.ClairvoyantRouter` reads ``sim.truth()``; the others see
the measurements (``sim.features()``, ``sim.initial_features``) only.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from qnet_envs.linkquality import core


class Router(Protocol):
    name: str

    def __call__(self, sim: core.Simulation) -> list[int] | None: ...


def _best_path(network: core.Network, request: core.Request, cost: np.ndarray) -> list[int]:
    nodes = network.finder.k_shortest(request.source, request.target, 1, cost)[0]
    return network.path_edges(nodes)


class ShortestPathRouter:
    """Fewest hops (ties: the smallest node sequence); ignores link quality."""

    name = "shortest path"

    def __call__(self, sim: core.Simulation) -> list[int]:
        return _best_path(sim.network, sim.request, np.ones(sim.network.num_edges))


class GreedyRouter:
    """Hop by hop towards the target: among the neighbours one hop closer to it, the link with
    the best last observed quality ``last_p * last_F`` (so it always arrives in fewest hops)."""

    name = "greedy"

    def __call__(self, sim: core.Simulation) -> list[int]:
        network, request = sim.network, sim.request
        features = sim.features()
        quality = features[:, 0] * features[:, 1]
        node, path = request.source, []
        while node != request.target:
            closer = [
                (float(quality[link]), -neighbour, link, neighbour)
                for neighbour, link in network.finder.neighbours(node)
                if network.hops[neighbour, request.target] == network.hops[node, request.target] - 1
            ]
            _, _, link, node = max(closer)
            path.append(link)
        return path


class StaticRouter:
    """Most probable path under weights fixed at the episode's start: ``-log`` of the success
    within budget estimated from the initial probe of every link."""

    name = "static"

    def __call__(self, sim: core.Simulation) -> list[int]:
        budget = sim.network.scenario.requests.max_attempts
        p0 = sim.initial_features[:, 0].astype(np.float64)
        cost = -np.log(np.maximum(core.success_within_budget(p0, budget), core.MIN_SUCCESS))
        return _best_path(sim.network, sim.request, cost)


class EstimateRouter:
    """The first of the env's candidates: most probable path under an estimator's ``p``
    (``core.ema_estimate`` by default: the running averages; a learned predictor plugs in)."""

    def __init__(self, estimator: core.Estimator | None = None, name: str = "EMA k-shortest"):
        self.estimator = estimator or core.ema_estimate
        self.name = name

    def __call__(self, sim: core.Simulation) -> list[int]:
        estimate = np.asarray(self.estimator(sim.features()), dtype=np.float64)
        paths = core.candidate_paths(sim.network, sim.request, estimate, 1)
        return sim.network.path_edges(paths[0])
