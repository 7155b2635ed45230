"""Designing a route: a scenario of one family whose optimal routes have a given length.

:func:`design` picks candidate routes (randomised depth-first search), places the family's
gadget on each and damages competitors until the candidate is optimal; the candidate needing
least damage wins.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from qnet_envs.routing import core
from qnet_envs.routing.generators.families import Design, Family, Gadget
from qnet_envs.routing.generators.layout import (
    WORKING_FIDELITY,
    NetworkLayout,
    Route,
    damaged_state,
    healthy_state,
    max_actions_for,
)
from qnet_envs.routing.generators.search import DesignError, Search
from qnet_envs.routing.scenario import Scenario

_MAX_ROUTE_LINKS = 56  # the cost model is exact for routes up to this many links
_CANDIDATES = 12  # candidate routes tried per design; the one needing least damage wins
_DFS_BUDGET = 20_000  # node expansions per randomised depth-first search


def _random_paths(
    layout: NetworkLayout,
    links: int,
    blocked: frozenset[int],
    rng: np.random.Generator,
    count: int,
) -> list[tuple[int, ...]]:
    """Up to ``count`` distinct simple paths Alice -> Bob of exactly ``links`` links.

    Each is the first path of a depth-first search with neighbours in a random order (over
    links not in ``blocked``), pruned where Bob is too far for the links left.
    """
    graph = nx.Graph(layout.graph)
    graph.remove_edges_from(layout.edges[e] for e in blocked)
    to_bob = nx.single_source_shortest_path_length(graph, layout.bob)
    found: list[tuple[int, ...]] = []
    for _ in range(4 * count):
        path = _one_random_path(layout, graph, links, to_bob, rng)
        if path is not None and path not in found:
            found.append(path)
            if len(found) == count:
                break
    return found


def _one_random_path(
    layout: NetworkLayout,
    graph: nx.Graph,
    links: int,
    to_bob: Mapping[int, int],
    rng: np.random.Generator,
) -> tuple[int, ...] | None:
    path, on_path, budget = [layout.alice], {layout.alice}, [_DFS_BUDGET]

    def dfs() -> bool:
        node = path[-1]
        left = links - (len(path) - 1)
        if node == layout.bob:
            return left == 0
        budget[0] -= 1
        if left <= 0 or budget[0] <= 0 or to_bob.get(node, math.inf) > left:
            return False
        neighbours = sorted(graph[node])
        for k in rng.permutation(len(neighbours)):
            there = neighbours[int(k)]
            if there in on_path:
                continue
            path.append(there)
            on_path.add(there)
            if dfs():
                return True
            on_path.discard(path.pop())
        return False

    return tuple(path) if dfs() else None


def _follows_model(layout: NetworkLayout, family: Family, gadget: Gadget, route: Route) -> bool:
    """Whether ``route`` is a route of the family's walk model (its gadget cancels on it)."""
    state = family.start()
    for edge, (here, there) in zip(
        route, itertools.pairwise(layout.route_nodes(route)), strict=True
    ):
        after = family.step(gadget, edge, here, there, state)
        if after is None:
            return False
        state = after
    return family.accepts(state)


def _enforce(
    layout: NetworkLayout,
    family: Family,
    gadget: Gadget,
    route: Route,
    damaged: frozenset[int],
    rng: np.random.Generator,
) -> frozenset[int] | None:
    """Damage links until ``route`` is optimal and every equally good route has its length.

    Returns the damaged set, or ``None`` if a competitor has no link left to damage.
    """
    if not _follows_model(layout, family, gadget, route):
        return None
    protected = set(route) | set(gadget.pure)
    while True:
        search = Search(layout, family, gadget, damaged)
        target = sum(search.link_cost(e) for e in route)
        rivals = [
            key
            for key, (cost, links) in search.goals().items()
            if cost < target or (cost == target and links != len(route))
        ]
        if not rivals:
            return damaged
        counts = search.edge_counts(rivals)
        options = [e for e in counts if e not in protected and e not in damaged]
        if not options:
            return None
        top = max(counts[e] for e in options)
        best = sorted(e for e in options if counts[e] == top)
        damaged = damaged | {best[int(rng.integers(len(best)))]}


def _spec(
    layout: NetworkLayout,
    gadget: Gadget,
    damaged: frozenset[int],
    name: str,
    max_actions: int,
    description: str,
) -> dict[str, Any]:
    """The dict layout of :meth:`Scenario.from_dict` with parametric states."""
    edges = []
    for i, (u, v) in enumerate(layout.edges):
        if i in gadget.pure:
            (u, v), state = gadget.pure[i]
        else:
            state = damaged_state() if i in damaged else healthy_state()
        edges.append({"u": u, "v": v, "state": dict(state)})
    return {
        "name": name,
        "description": description,
        "nodes": len(layout.positions),
        "alice": layout.alice,
        "bob": layout.bob,
        "max_actions": max_actions,
        "swap_mode": "postselected",
        "figure_of_merit": "singlet_fidelity",
        "edges": edges,
        "positions": [list(p) for p in layout.positions],
    }


def design(
    family: Family,
    layout: NetworkLayout,
    links: int,
    rng: np.random.Generator,
    *,
    name: str,
    description: str,
    max_actions: int | None = None,
    damaged: frozenset[int] = frozenset(),
    must_break: Sequence[Route] = (),
) -> Design:
    """Design a scenario of ``family`` whose optimal routes have exactly ``links`` links.

    Args:
        family: the family (gadget and walk model).
        layout: topology and endpoints.
        links: links of the optimal route (intermediary nodes + 1), ``>= 1``.
        rng: the only source of randomness (candidate routes, ties between links to damage).
        name: scenario name.
        description: scenario description (the family summary is the caller's to add).
        max_actions: action budget; default :func:`max_actions_for` ``(links)``.
        damaged: links damaged before the design starts (cumulative families); the designed
            route avoids them.
        must_break: routes that must end with ``F < WORKING_FIDELITY`` in the design (evolving
            stages: the previous stage's optimal routes); more links are damaged where needed.

    Raises:
        DesignError: no candidate route could be made optimal.
    """
    if not 1 <= links <= _MAX_ROUTE_LINKS:
        raise ValueError(f"links must be in [1, {_MAX_ROUTE_LINKS}], got {links}")
    budget = max_actions if max_actions is not None else max_actions_for(links)
    if budget < links:
        raise ValueError(f"max_actions must be >= links ({links}), got {budget}")
    paths = _random_paths(layout, links, damaged, rng, _CANDIDATES)
    best: Design | None = None
    for nodes in paths:
        if not family.candidate_ok(layout, nodes):
            continue
        route = layout.route_edges(nodes)
        if any(set(old) <= set(route) for old in must_break):
            continue
        gadget = family.gadget(layout, nodes, rng)
        result = _make_optimal(layout, family, gadget, route, damaged, must_break, rng, budget)
        if result is None:
            continue
        candidate = Design(
            _spec(layout, gadget, result, name, budget, description), route, result, gadget
        )
        if best is None or len(candidate.damaged) < len(best.damaged):
            best = candidate
    if best is None:
        raise DesignError(
            f"{name}: none of {len(paths)} candidate routes of {links} links could be made "
            f"optimal for the {family.name} family"
        )
    return best


def _make_optimal(
    layout: NetworkLayout,
    family: Family,
    gadget: Gadget,
    route: Route,
    damaged: frozenset[int],
    must_break: Sequence[Route],
    rng: np.random.Generator,
    max_actions: int,
) -> frozenset[int] | None:
    """:func:`_enforce`, then damage links of unbroken ``must_break`` routes until all break.

    With ``must_break`` the designed route must also keep ``F > WORKING_FIDELITY``.
    """
    while True:
        result = _enforce(layout, family, gadget, route, damaged, rng)
        if result is None:
            return None
        damaged = result
        if not must_break:
            return damaged
        network = core.Network.compile(
            Scenario.from_dict(_spec(layout, gadget, damaged, "check", max_actions, ""))
        )
        if core.route_fidelity(network, route)[0] <= WORKING_FIDELITY:
            return None  # the stage would have no working route
        protected = set(route) | set(gadget.pure) | damaged
        unbroken = [
            old for old in must_break if core.route_fidelity(network, old)[0] >= WORKING_FIDELITY
        ]
        if not unbroken:
            return damaged
        options = sorted(set(unbroken[0]) - protected)
        if not options:
            return None
        damaged = damaged | {options[int(rng.integers(len(options)))]}
