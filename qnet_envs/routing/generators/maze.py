"""The harder evolving network: every stage a maze of healthy links on a grid.

The shipped ``evolving`` network (paper Sec. 4.4) damages only what it must, so many healthy
routes survive in every stage and random valid play finds one within a few thousand actions.
Here each stage is a maze: its healthy links (Werner ``F = HEALTHY_FIDELITY``) are a spanning
tree of a grid network plus a few more links, and every other link is damaged
(``F = DAMAGED_FIDELITY``). Werner links compose as ``F = (1 + 3 prod p) / 4``, so one damaged
link (``p = 0.467``) keeps any route below ``F = 0.6``, while up to 23 healthy links keep
``F > WORKING_FIDELITY``: with ``max_actions <= 23`` the routes with ``F > 0.8`` are exactly the
trails of healthy links from Alice to Bob.

Stage ``i`` draws a uniformly random spanning tree (Wilson's algorithm) until the tree's path
from Alice to Bob has ``schedule[i]`` links (13 to 17: 12 to 16 intermediary nodes, where Alice
and Bob are 9 hops apart), then heals up to ``healed`` more links, each only if the healthy
links still join Alice and Bob in no fewer than ``schedule[i]`` hops. So every working route
has at least ``schedule[i] - 1`` intermediary nodes, and the shortest has exactly that many.
Every working route of stage ``i - 1`` must cross a link damaged in stage ``i``: the links
healthy in both stages must not join Alice and Bob within ``max_actions`` hops (a trail
contains a path no longer than itself), for the tree and for each healed link.

Random valid play holds a working route only by walking one of a dozen to a few hundred long
trails out of some 10^8, with probability about 10^-7 to 10^-4 per game
(``scripts/make_routing_scenarios.py`` checks every stage with the exact oracle and prints it).
A learner can do better: the per-step reward ``F_i - F_{i-1}`` drops by about 0.4 on a damaged
link, so it can learn to stay on healthy links and then has only the maze to solve.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np

from qnet_envs.routing.evolving import EvolvingScenario
from qnet_envs.routing.generators.evolving import EvolvingDesign, stage_entries
from qnet_envs.routing.generators.families import Design, Gadget
from qnet_envs.routing.generators.layout import (
    DAMAGED_FIDELITY,
    HEALTHY_FIDELITY,
    WORKING_FIDELITY,
    NetworkLayout,
    Route,
    damaged_state,
    healthy_state,
)
from qnet_envs.routing.generators.search import DesignError

#: Links of the shortest working route (the tree's path) per stage of the shipped maze network.
MAZE_SCHEDULE: tuple[int, ...] = (13, 15, 17, 15, 13, 17, 15, 17, 13, 15)
#: Action budget of every stage: the longest path (17 links) plus ``ACTION_SLACK``.
MAZE_MAX_ACTIONS = 20
#: Links outside the tree kept healthy per stage, at most: more working routes (none shorter
#: than the tree's path) and fewer dead ends, so that a learner can find one.
MAZE_HEALED = 16
_TREE_DRAWS = 5_000  # spanning trees drawn at most per stage


def grid_layout(
    rows: int = 8,
    cols: int = 8,
    alice: tuple[int, int] = (2, 0),
    bob: tuple[int, int] = (4, 7),
) -> NetworkLayout:
    """A ``rows x cols`` grid network (degree <= 4); node ``r * cols + c`` at row ``r``, column
    ``c``, drawn at ``(c, -r)``; Alice and Bob given as ``(row, column)``.

    The default puts Alice on the left edge and Bob on the right edge, 9 hops apart.
    """
    for name, value in (("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise ValueError(f"{name} must be an integer >= 2, got {value!r}")
    for name, (r, c) in (("alice", alice), ("bob", bob)):
        if not (0 <= r < rows and 0 <= c < cols):
            raise ValueError(
                f"{name} must be a (row, column) inside the {rows} x {cols} grid, got {(r, c)}"
            )
    if alice == bob:
        raise ValueError(f"alice and bob must differ, got {alice} for both")
    graph = nx.Graph()
    for r in range(rows):
        for c in range(cols):
            graph.add_node(r * cols + c, pos=(float(c), float(-r)))
    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols:
                graph.add_edge(r * cols + c, r * cols + c + 1)
            if r + 1 < rows:
                graph.add_edge(r * cols + c, (r + 1) * cols + c)
    a, b = alice[0] * cols + alice[1], bob[0] * cols + bob[1]
    hops = abs(alice[0] - bob[0]) + abs(alice[1] - bob[1])
    label = (
        f"{rows} x {cols} grid, Alice {a} (row {alice[0]}, column {alice[1]}) and Bob {b} "
        f"(row {bob[0]}, column {bob[1]}) {hops} hops apart"
    )
    return NetworkLayout.from_graph(graph, a, b, label)


def random_spanning_tree(layout: NetworkLayout, rng: np.random.Generator) -> frozenset[int]:
    """Edge indices of a uniformly random spanning tree (Wilson's algorithm).

    Loop-erased random walks from each node not yet in the tree (in node order) to the tree,
    rooted at node 0; neighbours are drawn from ``layout.incidence`` order, so the tree is a
    function of the layout and ``rng`` alone.
    """
    n = len(layout.positions)
    in_tree = [False] * n
    in_tree[0] = True
    step_edge = [-1] * n  # the edge the last walk left each node by
    step_next = [-1] * n
    tree: set[int] = set()
    for start in range(n):
        node = start
        while not in_tree[node]:
            choices = layout.incidence[node]
            edge, there = choices[int(rng.integers(len(choices)))]
            step_edge[node], step_next[node] = edge, there
            node = there
        node = start
        while not in_tree[node]:
            in_tree[node] = True
            tree.add(step_edge[node])
            node = step_next[node]
    return frozenset(tree)


def tree_path(layout: NetworkLayout, tree: frozenset[int]) -> Route:
    """The path from Alice to Bob over the links of ``tree`` (edge indices, from Alice)."""
    graph = nx.Graph(layout.edges[e] for e in tree)
    return layout.route_edges(nx.shortest_path(graph, layout.alice, layout.bob))


@dataclasses.dataclass(frozen=True, eq=False)
class MazeGenerator:
    """Seeded generator of the harder evolving network (module docstring).

    Stage ``i`` draws spanning trees with ``numpy.random.default_rng([seed, 2000 + i])`` until
    one's path from Alice to Bob has ``schedule[i]`` links and breaks stage ``i - 1``'s working
    routes, then heals up to ``healed`` more links with the same generator (module docstring);
    every other link is damaged.

    Attributes:
        layout: the grid (default :func:`grid_layout`); any layout works.
        seed: the generator's seed.
        schedule: links of the shortest working route per stage (each at least Alice and Bob's
            hop distance, and at most 23, or no route would keep ``F > 0.8``).
        max_actions: the action budget of every stage (at least the longest path, at most 23).
        healed: links outside the tree healed per stage, at most.
        name: scenario name.
    """

    layout: NetworkLayout = dataclasses.field(default_factory=grid_layout)
    seed: int = 0
    schedule: tuple[int, ...] = MAZE_SCHEDULE
    max_actions: int = MAZE_MAX_ACTIONS
    healed: int = MAZE_HEALED
    name: str = "evolving-maze"

    def __post_init__(self) -> None:
        if not self.schedule:
            raise ValueError("schedule must list at least one stage")
        for i, links in enumerate(self.schedule):
            if isinstance(links, bool) or not isinstance(links, int) or not 1 <= links <= 23:
                raise ValueError(f"schedule[{i}] must be an integer in [1, 23], got {links!r}")
        if isinstance(self.healed, bool) or not isinstance(self.healed, int) or self.healed < 0:
            raise ValueError(f"healed must be an integer >= 0, got {self.healed!r}")
        if isinstance(self.max_actions, bool) or not isinstance(self.max_actions, int):
            raise ValueError(f"max_actions must be an integer, got {self.max_actions!r}")
        if self.max_actions > 23:
            raise ValueError(
                f"max_actions must be <= 23 (longer healthy trails fall below F = 0.8), "
                f"got {self.max_actions}"
            )
        if max(self.schedule) > self.max_actions:
            raise ValueError(
                f"max_actions must be >= the longest path ({max(self.schedule)}), "
                f"got {self.max_actions}"
            )

    def __call__(self) -> EvolvingScenario:
        return self.design().scenario()

    def design(self) -> EvolvingDesign:
        """The :class:`EvolvingDesign` (deterministic for a given generator).

        Raises:
            DesignError: no tree of :data:`_TREE_DRAWS` drawn has the stage's path length and
                breaks the previous stage's working routes.
        """
        stages: list[Design] = []
        previous_healthy: frozenset[int] = frozenset()
        for i, links in enumerate(self.schedule):
            rng = np.random.default_rng([self.seed, 2000 + i])
            for _ in range(_TREE_DRAWS):
                tree = random_spanning_tree(self.layout, rng)
                path = tree_path(self.layout, tree)
                if len(path) == links and self._breaks(tree, previous_healthy):
                    break
            else:
                raise DesignError(
                    f"{self.name}/stage-{i}: no spanning tree of {_TREE_DRAWS} drawn has a "
                    f"path of {links} links from Alice to Bob that breaks the previous stage"
                )
            healthy = self._heal(tree, links, previous_healthy, rng)
            damaged = frozenset(range(len(self.layout.edges))) - healthy
            text = (
                f"stage {i}: a new maze ({len(damaged)} links damaged); the shortest route with "
                f"F > 0.8 has {links - 1} intermediary nodes"
                + ("" if i == 0 else f"; stage {i - 1}'s working routes now have F < 0.8")
            )
            spec = self._stage_spec(damaged, f"{self.name}/stage-{i}", text)
            stages.append(Design(spec, path, damaged, Gadget(pure={})))
            previous_healthy = healthy
        return EvolvingDesign(self._spec(stages), tuple(stages))

    def _distance(self, links: frozenset[int]) -> float:
        """Hops from Alice to Bob over ``links`` (``inf`` if they do not join them)."""
        graph = nx.Graph(self.layout.edges[e] for e in links)
        if self.layout.alice not in graph or self.layout.bob not in graph:
            return math.inf
        try:
            return nx.shortest_path_length(graph, self.layout.alice, self.layout.bob)
        except nx.NetworkXNoPath:
            return math.inf

    def _breaks(self, healthy: frozenset[int], previous: frozenset[int]) -> bool:
        """Whether every working route of the previous stage (a trail of its healthy links of
        at most ``max_actions``) crosses a link that is damaged with ``healthy``: no path of
        links healthy in both joins Alice and Bob within ``max_actions`` hops (a trail contains
        a path no longer than itself)."""
        return not previous or self._distance(healthy & previous) > self.max_actions

    def _heal(
        self,
        tree: frozenset[int],
        links: int,
        previous: frozenset[int],
        rng: np.random.Generator,
    ) -> frozenset[int]:
        """``tree`` plus up to ``healed`` more healthy links, tried in a random order, each kept
        if Alice and Bob stay ``links`` hops apart over healthy links and the previous stage's
        working routes stay broken."""
        healthy = tree
        others = sorted(set(range(len(self.layout.edges))) - tree)
        for k in rng.permutation(len(others)):
            if len(healthy) - len(tree) == self.healed:
                break
            trial = healthy | {others[int(k)]}
            if self._distance(trial) == links and self._breaks(trial, previous):
                healthy = trial
        return healthy

    def _stage_spec(self, damaged: frozenset[int], name: str, text: str) -> dict[str, Any]:
        edges = [
            {"u": u, "v": v, "state": damaged_state() if i in damaged else healthy_state()}
            for i, (u, v) in enumerate(self.layout.edges)
        ]
        return {
            "name": name,
            "description": text,
            "nodes": len(self.layout.positions),
            "alice": self.layout.alice,
            "bob": self.layout.bob,
            "max_actions": self.max_actions,
            "swap_mode": "postselected",
            "figure_of_merit": "singlet_fidelity",
            "edges": edges,
            "positions": [list(p) for p in self.layout.positions],
        }

    def _spec(self, stages: Sequence[Design]) -> dict[str, Any]:
        base = dict(stages[0].spec)
        base["name"] = self.name
        base["description"] = (
            f"Harder evolving network (a benchmark beyond the paper's Sec. 4.4), postselected "
            f"swapping, Werner links only: {len(stages)} stages, each a maze whose healthy "
            f"links (F = {HEALTHY_FIDELITY}) are a random spanning tree of the network and up "
            f"to {self.healed} more links, every other link damaged (F = {DAMAGED_FIDELITY}); "
            f"the routes with F > {WORKING_FIDELITY} are the trails of healthy links, the "
            f"shortest with {', '.join(str(k - 1) for k in self.schedule)} intermediary nodes "
            f"in the stages. Each stage's events re-draw the maze, breaking every working "
            f"route of the previous stage. max_actions = {self.max_actions}. Network: "
            f"{self.layout.label}."
        )
        base["stages"] = stage_entries(stages)
        return base
