"""The walk-model search: the cheapest walks of a family's model on one design.

:class:`Search` ranks walks with the exact cost model (damaged links, then healthy links) and
finds, counts or enumerates the cheapest ones; :func:`optimal_routes` lists a design's
optimal routes. :class:`DesignError` is raised here and by the designer.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from collections.abc import Sequence
from functools import cached_property

from qnet_envs.routing.generators.families import Design, Family, Gadget
from qnet_envs.routing.generators.layout import NetworkLayout, Route

_DAMAGE_COST = 1000  # cost of a damaged link in units of healthy links (> 56 suffices)
_MAX_ENUMERATED = 20_000  # optimal walks enumerated at most (evolving stages)


class DesignError(RuntimeError):
    """No candidate route could be made optimal with the requested length."""


@dataclasses.dataclass(frozen=True)
class Search:
    """Cheapest walks of a family's model on one assignment of link states.

    ``cost`` of a walk = ``_DAMAGE_COST`` per damaged link + 1 per healthy link (pure links 0);
    search states are ``(node, automaton state, bit set of the pure links used)``: a pure link
    is walked at most once, as in a route, and routes that tie in cost but differ in length
    (pure links) end in different goal states.
    """

    layout: NetworkLayout
    family: Family
    gadget: Gadget
    damaged: frozenset[int]

    @cached_property
    def pure_bit(self) -> dict[int, int]:
        return {edge: 1 << k for k, edge in enumerate(sorted(self.gadget.pure))}

    def link_cost(self, edge: int) -> int:
        if edge in self.gadget.pure:
            return 0
        return _DAMAGE_COST if edge in self.damaged else 1

    @cached_property
    def tree(self) -> tuple[dict[tuple[int, int, int], int], dict[tuple, list]]:
        """Dijkstra from Alice: ``(distance, predecessors)`` per search state."""
        start = (self.layout.alice, self.family.start(), 0)
        distance = {start: 0}
        parents: dict[tuple, list] = {start: []}
        heap = [(0, start)]
        while heap:
            cost, here = heapq.heappop(heap)
            if cost > distance[here]:
                continue
            node, state, used = here
            if node == self.layout.bob:
                continue  # arriving at Bob ends the episode
            for edge, there in self.layout.incidence[node]:
                bit = self.pure_bit.get(edge, 0)
                after = self.family.step(self.gadget, edge, node, there, state)
                if after is None or used & bit:
                    continue
                nxt = (there, after, used | bit)
                new = cost + self.link_cost(edge)
                if new < distance.get(nxt, math.inf):
                    distance[nxt] = new
                    parents[nxt] = [(here, edge)]
                    heapq.heappush(heap, (new, nxt))
                elif new == distance[nxt]:
                    parents[nxt].append((here, edge))
        return distance, parents

    def goals(self) -> dict[tuple[int, int, int], tuple[int, int]]:
        """Per reachable goal state: ``(cost, links)`` of its cheapest walks."""
        distance, _ = self.tree
        found = {}
        for key, cost in distance.items():
            node, state, used = key
            if node == self.layout.bob and self.family.accepts(state):
                pure = used.bit_count()
                found[key] = (cost, cost // _DAMAGE_COST + cost % _DAMAGE_COST + pure)
        return found

    def edge_counts(self, goals: Sequence[tuple]) -> dict[int, int]:
        """How many cheapest walks to ``goals`` cross each link (counted with multiplicity)."""
        _, parents = self.tree
        order = self._ancestors_in_order(goals)
        from_start: dict[tuple, int] = {}
        for key in order:
            from_start[key] = sum(from_start[p] for p, _ in parents[key]) if parents[key] else 1
        to_goal = {key: int(key in goals) for key in order}
        counts: dict[int, int] = {}
        for key in reversed(order):
            for parent, edge in parents[key]:
                to_goal[parent] += to_goal[key]
                counts[edge] = counts.get(edge, 0) + from_start[parent] * to_goal[key]
        return counts

    def walks(self, goals: Sequence[tuple]) -> list[Route]:
        """Every cheapest walk to ``goals``, as edge indices (at most ``_MAX_ENUMERATED``)."""
        _, parents = self.tree
        found: list[Route] = []

        def extend(key: tuple, suffix: Route) -> None:
            if not parents[key]:
                found.append(suffix)
                if len(found) > _MAX_ENUMERATED:
                    raise DesignError(f"more than {_MAX_ENUMERATED} optimal walks")
                return
            for parent, edge in parents[key]:
                extend(parent, (edge, *suffix))

        for goal in goals:
            extend(goal, ())
        return found

    def _ancestors_in_order(self, goals: Sequence[tuple]) -> list[tuple]:
        """``goals`` and every state on a cheapest walk to them, each after its predecessors.

        The predecessor graph is acyclic: every arc costs a link, or uses a new pure link.
        """
        _, parents = self.tree
        order: list[tuple] = []
        seen: set[tuple] = set()
        for goal in goals:
            stack = [(goal, False)]
            while stack:
                key, expanded = stack.pop()
                if expanded:
                    order.append(key)
                    continue
                if key in seen:
                    continue
                seen.add(key)
                stack.append((key, True))
                stack.extend((parent, False) for parent, _ in parents[key] if parent not in seen)
        return order


def _is_trail(route: Route) -> bool:
    return len(set(route)) == len(route)


def optimal_routes(layout: NetworkLayout, family: Family, design_: Design) -> list[Route]:
    """Every optimal route of a design under its family's model (trails), edge indices."""
    search = Search(layout, family, design_.gadget, design_.damaged)
    goals = search.goals()
    best = min(cost for cost, _ in goals.values())
    walks = search.walks([key for key, (cost, _) in goals.items() if cost == best])
    return [walk for walk in walks if _is_trail(walk)]
