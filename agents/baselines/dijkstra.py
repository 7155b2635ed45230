"""Dijkstra baseline: the shortest path on link weights ``-log F_link`` (the paper's Eq. (4)).

"Routing in quantum networks using reinforcement learning", Sec. 2: if the fidelity of a
chain of swaps were the product of its links' fidelities (Eq. (3)), the distance
``d = -sum log F_i`` (Eq. (4)) would be additive and Dijkstra's algorithm would find the best
route. That holds for white noise only approximately and fails for amplitude damping and
phase noise, whose damage can cancel; this baseline makes the assumption on purpose, then plays
its route through the real game to report what the route is actually worth.

Conventions:

* ``F_link`` is the scenario's figure of merit (singlet fidelity or fully entangled fraction)
  of the link's state; both are symmetric in the two qubits, so a link weighs the same in
  either direction. A link with ``F_link = 0`` has infinite weight and is never used.
* The graph is the scenario's multigraph of links: parallel links are distinct edges.
* Paths are simple (no node twice): Dijkstra settles each node once, and a path leaves Bob
  never (it ends when Bob is settled). Bob is therefore visited only at the end, so the path
  is a walk the game accepts, provided it fits in ``max_actions`` (Dijkstra knows nothing of
  the action budget; :attr:`DijkstraResult.within_budget` says whether it fits).
* Deterministic ties: the priority is ``(cost, links, route)``: equal costs (summed left to
  right in floating point) prefer fewer links, then the lexicographically smallest sequence
  of edge indices. The order is preserved by extending two paths with the same link, so the
  label-setting search returns the minimum of that order over all simple paths.
* The reported ``fidelity`` is :func:`qnet_envs.routing.core.route_fidelity` of the route: the
  state the game would give Alice and Bob at the end of it, in the scenario's swap mode.
"""

from __future__ import annotations

import dataclasses
import heapq
import math

import numpy as np
from numpy.typing import NDArray

from qnet_envs.physics import fully_entangled_fraction, singlet_fidelity
from qnet_envs.routing import core
from qnet_envs.routing.scenario import Scenario


@dataclasses.dataclass(frozen=True)
class DijkstraResult:
    """Dijkstra's route and what it is worth.

    Attributes:
        route: edge indices in walking order from Alice, ending at Bob.
        fidelity: the route's figure of merit as the game computes it.
        probability: its postselection success probability (1 in deterministic mode).
        predicted_fidelity: ``exp(-cost)``, the product of link fidelities that the additive
            model predicts.
        within_budget: ``len(route) <= scenario.max_actions`` (otherwise the game would
            truncate the episode before Bob).
    """

    route: tuple[int, ...]
    fidelity: float
    probability: float
    predicted_fidelity: float
    within_budget: bool


def link_fidelities(scenario: Scenario) -> NDArray[np.float64]:
    """The scenario's figure of merit of every link state, shape (num_edges,)."""
    if scenario.figure_of_merit == "singlet_fidelity":
        return np.asarray(singlet_fidelity(scenario.states), dtype=np.float64)
    return np.asarray(fully_entangled_fraction(scenario.states), dtype=np.float64)


def link_weights(scenario: Scenario) -> NDArray[np.float64]:
    """``-log F_link`` per link (``inf`` where ``F_link <= 0``), shape (num_edges,)."""
    fidelity = link_fidelities(scenario)
    with np.errstate(divide="ignore"):
        weights = -np.log(np.clip(fidelity, 0.0, 1.0))
    return np.where(fidelity > 0.0, weights, np.inf)


def dijkstra_route(scenario: Scenario) -> tuple[list[int], float]:
    """Dijkstra's route and its true ``F`` (see :func:`solve`)."""
    result = solve(scenario)
    return list(result.route), result.fidelity


def solve(scenario: Scenario) -> DijkstraResult:
    """Shortest Alice-Bob path on ``-log F_link``, played through the game.

    Raises:
        ValueError: no path of finite weight joins Alice and Bob.
    """
    network = core.Network.compile(scenario)
    weights = link_weights(scenario)
    cost, route = _shortest_path(network, weights, scenario.alice, scenario.bob)
    fidelity, probability = core.route_fidelity(network, route)
    return DijkstraResult(
        route=route,
        fidelity=fidelity,
        probability=probability,
        predicted_fidelity=math.exp(-cost),
        within_budget=len(route) <= scenario.max_actions,
    )


def _shortest_path(
    network: core.Network, weights: NDArray[np.float64], source: int, target: int
) -> tuple[float, tuple[int, ...]]:
    """Label-setting Dijkstra with priority ``(cost, links, route)``; ``(cost, route)``."""
    links = [
        [(int(e), int(y)) for e, y in zip(edges, neighbors, strict=True) if e >= 0]
        for edges, neighbors in zip(
            network.slot_edge.tolist(), network.slot_neighbor.tolist(), strict=True
        )
    ]
    settled: set[int] = set()
    heap: list[tuple[float, int, tuple[int, ...], int]] = [(0.0, 0, (), source)]
    while heap:
        cost, hops, route, node = heapq.heappop(heap)
        if node in settled:
            continue
        settled.add(node)
        if node == target:
            return cost, route
        for edge, there in links[node]:
            weight = float(weights[edge])
            if there not in settled and math.isfinite(weight):
                heapq.heappush(heap, (cost + weight, hops + 1, (*route, edge), there))
    raise ValueError(
        f"Bob (node {target}) is unreachable from Alice (node {source}) over links with F_link > 0"
    )
