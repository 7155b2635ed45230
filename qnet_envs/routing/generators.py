"""Scenario families of the swap-routing game, as seeded, deterministic generators.

Reference: "Routing in quantum networks using reinforcement learning", Sec. 2 (the clustered
topology, at most four links per node) and Sec. 4 (white noise, amplitude damping, correlated
phase noise, an evolving network). Every family here builds on one :class:`NetworkLayout`: the
clustered topology of :func:`qnet_envs.topology.clustered_topology` with Alice and Bob two users
seven hops apart, so that on the undamaged network the optimal route has six intermediary nodes.

A family turns a number of intermediary nodes ``k`` into a :class:`Design`: the scenario in the
parametric dict layout of :meth:`Scenario.from_dict` (so it can be written as a readable TOML
file) and the route of ``k + 1`` links it was built around. A design is made in three steps:

1. pick a candidate route ``P`` of ``k + 1`` links (a seeded randomised depth-first search over
   simple paths of healthy links);
2. place the family's *gadget* on it: the pure links (amplitude damped, phase shifted) that make
   the family what it is, among them the one link that cancels the others' damage;
3. damage links (Werner ``F = DAMAGED_FIDELITY``) of every competitor that would be at least as
   good as ``P`` with another length, most shared link first, until no route beats ``P`` and
   every route as good as ``P`` has its length.

Step 3 ranks routes with a cost model that is exact for these families, so the designed length
is the optimal length of the game (``scripts/make_routing_scenarios.py`` checks every shipped
file against the exact oracle). Werner links compose as ``F = (1 + 3 prod p) / 4``, and one
damaged link (``p = 0.467``) costs more than 56 healthy ones (``p = 0.98667``), so among routes
of at most 56 links ``F`` orders them by (damaged links, healthy links), lexicographically. A
family's gadget adds pure links whose damage cancels exactly on the walks the family's
:meth:`Family.step` allows (and only there); every other walk over a pure link ends far below
the designed route's ``F``, so the model forbids it.

Adding a family means subclassing :class:`Family` (``candidate_ok``, ``gadget``, ``start``,
``accepts``, ``step``); nothing else changes. Pure: networkx and numpy, no Gymnasium, no agents.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any

import networkx as nx
import numpy as np

from qnet_envs.routing import core
from qnet_envs.routing.evolving import EvolvingScenario
from qnet_envs.routing.scenario import Scenario
from qnet_envs.topology import clustered_topology

#: Singlet fidelity of an undamaged link (white noise only), as in the paper.
HEALTHY_FIDELITY = 0.99
#: Singlet fidelity of a damaged link (white noise), as in the paper.
DAMAGED_FIDELITY = 0.6
#: ``theta`` (rad) of an amplitude-damped link; its singlet fidelity is (1 + sin 2 theta)/2 = 0.69.
DAMPING_THETA = 0.2
#: ``phi`` (rad) of a phase-shifted link; its singlet fidelity is cos^2(phi / 2) = 0.5.
PHASE_SHIFT = math.pi / 2
#: Hop distance of Alice and Bob on the undamaged network (6 intermediary nodes).
ENDPOINT_DISTANCE = 7
#: The paper's action budget; kept wherever the designed route fits in it with slack.
PAPER_MAX_ACTIONS = 15
#: Actions beyond the designed route's length granted when 15 would leave fewer.
ACTION_SLACK = 3
#: An evolving stage "breaks" a route whose singlet fidelity falls below this (paper, Sec. 4.4).
WORKING_FIDELITY = 0.8
#: Intermediary counts of the shipped white-noise, amplitude-damping and phase-noise files.
INTERMEDIARIES: tuple[int, ...] = (6, 8, 10, 12, 14, 16)

StateSpec = dict[str, Any]  # a parametric edge state, e.g. {"kind": "werner", "fidelity": 0.99}
Route = tuple[int, ...]  # edge indices, in walking order from Alice

_DAMAGE_COST = 1000  # cost of a damaged link in units of healthy links (> 56 suffices)
_MAX_ROUTE_LINKS = 56  # the cost model is exact for routes up to this many links
_CANDIDATES = 12  # candidate routes tried per design; the one needing least damage wins
_DFS_BUDGET = 20_000  # node expansions per randomised depth-first search
_MAX_ENUMERATED = 20_000  # optimal walks enumerated at most (evolving stages)


class DesignError(RuntimeError):
    """No candidate route could be made optimal with the requested length."""


def healthy_state() -> StateSpec:
    """An undamaged link: Werner, ``F = HEALTHY_FIDELITY``."""
    return {"kind": "werner", "fidelity": HEALTHY_FIDELITY}


def damaged_state() -> StateSpec:
    """A damaged link: Werner, ``F = DAMAGED_FIDELITY``."""
    return {"kind": "werner", "fidelity": DAMAGED_FIDELITY}


def max_actions_for(links: int) -> int:
    """Action budget of a scenario whose optimal route has ``links`` links.

    The paper's 15 while the route plus :data:`ACTION_SLACK` fits in it, else the route plus the
    slack (a 16-intermediary route takes 17 actions).
    """
    return max(PAPER_MAX_ACTIONS, links + ACTION_SLACK)


# ------------------------------------------------------------------------------- the network
@dataclasses.dataclass(frozen=True, eq=False)
class NetworkLayout:
    """A topology with its endpoints: what every design of a family shares.

    Attributes:
        graph: simple undirected graph on nodes ``0..n-1``, degree <= ``MAX_DEGREE``.
        edges: ``(u, v)`` per link, in the graph's edge order (the scenario's edge order, which
            fixes the action slots).
        alice: start node.
        bob: goal node.
        positions: drawing coordinates per node, shape (num_nodes, 2), layout units.
        label: how the layout was made, for descriptions.
    """

    graph: nx.Graph
    edges: tuple[tuple[int, int], ...]
    alice: int
    bob: int
    positions: tuple[tuple[float, float], ...]
    label: str

    @classmethod
    def clustered(
        cls,
        n_clusters: int = 10,
        cluster_size: int = 6,
        topology_seed: int = 1,
        distance: int = ENDPOINT_DISTANCE,
        seed: int = 0,
    ) -> NetworkLayout:
        """The paper's clustered topology with Alice and Bob ``distance`` hops apart.

        Alice and Bob are drawn (``numpy.random.default_rng(seed)``) among pairs of cluster
        gateways (users with three links: two in the cluster ring, one to a hub) at exactly
        ``distance`` hops, so each has three links to damage or to phase-shift.

        The topology seed defaults to 1, not the topology's own default 0: routes between two
        clusters go round the ring of clusters, so only some lengths exist, and with seed 1 the
        gateway pairs 7 hops apart have simple routes of every odd length from 7 to 17 links
        (with seed 0 no 13-link route exists, so no 12-intermediary white-noise scenario).
        """
        graph = clustered_topology(n_clusters, cluster_size, seed=topology_seed)
        lengths = dict(nx.all_pairs_shortest_path_length(graph))
        gateways = sorted(
            n for n in graph if graph.nodes[n]["role"] == "user" and graph.degree(n) == 3
        )
        pairs = [(a, b) for a in gateways for b in gateways if a < b and lengths[a][b] == distance]
        if not pairs:
            raise ValueError(
                f"distance: no two gateways of this topology are {distance} hops apart; "
                f"its diameter is {nx.diameter(graph)}"
            )
        alice, bob = pairs[int(np.random.default_rng(seed).integers(len(pairs)))]
        label = (
            f"clustered_topology(n_clusters={n_clusters}, cluster_size={cluster_size}, "
            f"seed={topology_seed}), Alice {alice} and Bob {bob} {distance} hops apart"
        )
        return cls.from_graph(graph, alice, bob, label)

    @classmethod
    def from_graph(cls, graph: nx.Graph, alice: int, bob: int, label: str) -> NetworkLayout:
        """A layout of any graph on nodes ``0..n-1`` whose nodes carry a ``pos`` attribute."""
        if sorted(graph) != list(range(graph.number_of_nodes())):
            raise ValueError("graph: nodes must be the integers 0..n-1")
        positions = tuple(
            (float(graph.nodes[n]["pos"][0]), float(graph.nodes[n]["pos"][1]))
            for n in range(graph.number_of_nodes())
        )
        edges = tuple((int(u), int(v)) for u, v in graph.edges())
        return cls(graph, edges, int(alice), int(bob), positions, label)

    @cached_property
    def edge_index(self) -> dict[frozenset[int], int]:
        """Edge index of each unordered node pair."""
        return {frozenset(edge): i for i, edge in enumerate(self.edges)}

    @cached_property
    def incidence(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Per node, its ``(edge index, neighbour)`` pairs in edge order."""
        table: list[list[tuple[int, int]]] = [[] for _ in self.positions]
        for i, (u, v) in enumerate(self.edges):
            table[u].append((i, v))
            table[v].append((i, u))
        return tuple(tuple(row) for row in table)

    def route_edges(self, nodes: Sequence[int]) -> Route:
        """Edge indices of a walk given as its node sequence."""
        return tuple(self.edge_index[frozenset(pair)] for pair in itertools.pairwise(nodes))

    def route_nodes(self, route: Route) -> tuple[int, ...]:
        """Node sequence of a route given as edge indices, starting at Alice."""
        nodes = [self.alice]
        for edge in route:
            u, v = self.edges[edge]
            nodes.append(v if nodes[-1] == u else u)
        return tuple(nodes)


# ------------------------------------------------------------------------------ the designs
@dataclasses.dataclass(frozen=True)
class Gadget:
    """The pure links a family places on a candidate route.

    Attributes:
        pure: edge index -> ``((u, v), state)``: the orientation the state is written in (first
            qubit at ``u``) and its parametric state.
        compensator: ``(edge, from, to)``: the link whose damage cancels the others, and the
            direction in which it does; ``None`` for families without one.
    """

    pure: Mapping[int, tuple[tuple[int, int], StateSpec]]
    compensator: tuple[int, int, int] | None = None


@dataclasses.dataclass(frozen=True)
class Design:
    """A generated scenario and the optimal route it was built around.

    Attributes:
        spec: the dict layout of :meth:`Scenario.from_dict` with parametric states.
        route: the designed optimal route, edge indices from Alice.
        damaged: indices of the damaged links (Werner ``F = DAMAGED_FIDELITY``).
        gadget: the family's pure links on and around ``route``.
    """

    spec: dict[str, Any]
    route: Route
    damaged: frozenset[int]
    gadget: Gadget

    def scenario(self) -> Scenario:
        """The validated :class:`Scenario`."""
        return Scenario.from_dict(self.spec)

    @property
    def intermediaries(self) -> int:
        """Intermediary nodes of the designed route (its links minus one)."""
        return len(self.route) - 1


class Family(ABC):
    """A scenario family: which routes it designs around and which walks can cancel its damage.

    The walk model is a finite automaton run alongside the walk: :meth:`start` is its state at
    Alice, :meth:`step` its transition over one link (``None`` where the family's model forbids
    the move, because the walk could no longer cancel its damage), and a walk counts as a route
    when it reaches Bob in a state for which :meth:`accepts` holds.
    """

    #: Family name, the prefix of its scenario names.
    name: str = ""
    #: One-paragraph description written into every scenario of the family.
    summary: str = ""

    def candidate_ok(self, layout: NetworkLayout, nodes: Sequence[int]) -> bool:
        """Whether a simple path (node sequence, Alice to Bob) can carry the gadget."""
        return True

    @abstractmethod
    def gadget(
        self, layout: NetworkLayout, nodes: Sequence[int], rng: np.random.Generator
    ) -> Gadget:
        """The pure links of a design around the candidate path ``nodes``."""

    def start(self) -> int:
        """Automaton state at Alice."""
        return 0

    def accepts(self, state: int) -> bool:
        """Whether arriving at Bob in ``state`` completes a route of the model."""
        return state == 0

    @abstractmethod
    def step(self, gadget: Gadget, edge: int, here: int, there: int, state: int) -> int | None:
        """Automaton state after walking ``edge`` from ``here`` to ``there``, or ``None``."""


class WhiteNoiseFamily(Family):
    """Werner links only: the optimal route is the one with fewest damaged, then healthy, links."""

    name = "white-noise"
    summary = (
        "White noise (paper Sec. 4.1): every link is a Werner state, healthy F = 0.99 or "
        "damaged F = 0.6; damage is cumulative along the family (white-noise-06 is undamaged), "
        "each file adding the damaged links that force an optimal route two links longer. "
        "White noise is additive, so Dijkstra on -log F finds the optimum."
    )

    def gadget(
        self, layout: NetworkLayout, nodes: Sequence[int], rng: np.random.Generator
    ) -> Gadget:
        return Gadget(pure={})

    def step(self, gadget: Gadget, edge: int, here: int, there: int, state: int) -> int | None:
        return state


class AmplitudeDampingFamily(Family):
    """Bob's links amplitude damped; one link next to the route's last one undoes the damping.

    Every link into Bob holds ``amplitude_damped(theta)`` written from the Bob-side neighbour
    ``n`` (walking ``n -> Bob`` gives ``theta``: ``|01>`` amplitude ``cos theta``). The
    compensator ``(n*, x)`` holds the same state written from ``n*``, so walking it the way the
    route does, ``x -> n*``, gives ``pi/2 - theta``. In postselected swapping the two filters
    multiply to a multiple of the identity when adjacent: the route ``... x -> n* -> Bob`` keeps
    the Werner fidelity of its other links exactly. Any other walk keeps a net damping
    (F <= 0.69) or lets white noise in between the two filters, which they then amplify.
    """

    name = "amplitude-damping"
    theta = DAMPING_THETA
    summary = (
        "Amplitude damping (paper Sec. 4.2), postselected swapping: every link into Bob is "
        f"amplitude damped (theta = {DAMPING_THETA} rad, F = 0.69), so every route crosses a "
        "damped link; one link next to a Bob neighbour holds the same damping written the "
        "other way round, and walking it just before the last link cancels the damping "
        "exactly. The optimal route uses it; Dijkstra on -log F avoids it and ends with the "
        "damping uncancelled. Other links are Werner, healthy F = 0.99 or damaged F = 0.6 "
        "(the damage forces the optimal route's length)."
    )

    def candidate_ok(self, layout: NetworkLayout, nodes: Sequence[int]) -> bool:
        return len(nodes) >= 4

    def gadget(
        self, layout: NetworkLayout, nodes: Sequence[int], rng: np.random.Generator
    ) -> Gadget:
        bob = layout.bob
        damping = {"kind": "amplitude_damped", "theta": self.theta}
        pure = {edge: ((n, bob), damping) for edge, n in layout.incidence[bob]}
        x, n_star = nodes[-3], nodes[-2]
        compensator = layout.edge_index[frozenset((x, n_star))]
        pure[compensator] = ((n_star, x), damping)
        return Gadget(pure=pure, compensator=(compensator, x, n_star))

    def accepts(self, state: int) -> bool:
        return state == 2

    def step(self, gadget: Gadget, edge: int, here: int, there: int, state: int) -> int | None:
        assert gadget.compensator is not None
        compensator, x, _ = gadget.compensator
        if edge == compensator:
            return 1 if (state, here) == (0, x) else None
        if edge in gadget.pure:  # a link into Bob: only right after the compensator
            return 2 if state == 1 else None
        return 0 if state == 0 else None


class PhaseNoiseFamily(Family):
    """Alice's links phase shifted by ``phi``; one link further on shifts back by ``-phi``.

    Every link at Alice holds ``phase_shifted(phi)`` written from Alice, so every first hop adds
    ``phi``; a walk that comes back to Alice and leaves again adds ``-phi + phi``, so Alice's links
    always leave ``phi`` in total. The compensator holds ``phase_shifted(phi)`` written from its
    far end, so walking it the route's way adds ``-phi``. Phases are local unitaries and commute
    with white noise: a route that crosses the compensator that way keeps the Werner fidelity of
    its other links exactly, wherever the compensator sits; any other route ends with a net
    phase ``phi`` or ``2 phi`` (F <= 0.5).
    """

    name = "phase-noise"
    phi = PHASE_SHIFT
    summary = (
        "Correlated phase noise (paper Sec. 4.3), postselected swapping: every first hop from "
        "Alice is phase shifted (phi = pi/2 rad, F = 0.5); one link further on holds the "
        "reversing shift -phi in the direction of the optimal route, which must find it, "
        "then Bob. Dijkstra on -log F avoids that link and keeps the phase. Other links "
        "are Werner, healthy F = 0.99 or damaged F = 0.6 (the damage forces the optimal "
        "route's length)."
    )

    def candidate_ok(self, layout: NetworkLayout, nodes: Sequence[int]) -> bool:
        return len(nodes) >= 4

    def gadget(
        self, layout: NetworkLayout, nodes: Sequence[int], rng: np.random.Generator
    ) -> Gadget:
        alice = layout.alice
        shift = {"kind": "phase_shifted", "phi": self.phi}
        pure = {edge: ((alice, n), shift) for edge, n in layout.incidence[alice]}
        # The compensator is link j of the route, 1 <= j <= len - 2: after the first hop, before
        # the last one.
        j = int(rng.integers(1, len(nodes) - 2))
        x, y = nodes[j], nodes[j + 1]
        compensator = layout.edge_index[frozenset((x, y))]
        pure[compensator] = ((y, x), shift)
        return Gadget(pure=pure, compensator=(compensator, x, y))

    def accepts(self, state: int) -> bool:
        return state == 1

    def step(self, gadget: Gadget, edge: int, here: int, there: int, state: int) -> int | None:
        assert gadget.compensator is not None
        compensator, x, _ = gadget.compensator
        if edge == compensator:
            return 1 if (state, here) == (0, x) else None
        return state


WHITE_NOISE = WhiteNoiseFamily()
AMPLITUDE_DAMPING = AmplitudeDampingFamily()
PHASE_NOISE = PhaseNoiseFamily()


# ----------------------------------------------------------------------- the walk-model search
@dataclasses.dataclass(frozen=True)
class _Search:
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
    search = _Search(layout, family, design_.gadget, design_.damaged)
    goals = search.goals()
    best = min(cost for cost, _ in goals.values())
    walks = search.walks([key for key, (cost, _) in goals.items() if cost == best])
    return [walk for walk in walks if _is_trail(walk)]


# ------------------------------------------------------------------------- designing a route
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
        search = _Search(layout, family, gadget, damaged)
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


# --------------------------------------------------------------------------- the generators
def _description(family: Family, layout: NetworkLayout, design_: Design, max_actions: int) -> str:
    slack = (
        f"max_actions = {max_actions}: the paper's 15"
        if max_actions == PAPER_MAX_ACTIONS
        else f"max_actions = {max_actions}: the optimal route's {len(design_.route)} links plus "
        f"{ACTION_SLACK} (the paper's 15 would not fit it with slack)"
    )
    return (
        f"{family.summary} Optimal route: {design_.intermediaries} intermediary nodes "
        f"({len(design_.route)} links); {len(design_.damaged)} damaged links. {slack}. "
        f"Network: {layout.label}."
    )


@dataclasses.dataclass(frozen=True, eq=False)
class FamilyGenerator:
    """Seeded generator of one family's scenarios: ``generator(k)`` has ``k`` intermediaries.

    Attributes:
        family: the family.
        layout: topology and endpoints; default the paper's clustered network.
        seed: seed of the design's ``numpy.random.default_rng``; each ``k`` uses
            ``default_rng([seed, k])``.
        cumulative: damage accumulates with ``k`` (``k`` starts from ``k - 2``'s damage, and the
            smallest ``k`` from the undamaged network), as in the paper's white-noise series.
    """

    family: Family
    layout: NetworkLayout = dataclasses.field(default_factory=NetworkLayout.clustered)
    seed: int = 0
    cumulative: bool = False

    def __call__(self, intermediaries: int) -> Scenario:
        """The scenario with ``intermediaries`` intermediary nodes on its optimal route."""
        return self.design(intermediaries).scenario()

    @property
    def minimum(self) -> int:
        """Fewest intermediaries the family can force on this layout (Alice-Bob hops - 1)."""
        hops = nx.shortest_path_length(self.layout.graph, self.layout.alice, self.layout.bob)
        return int(hops) - 1

    def name_of(self, intermediaries: int) -> str:
        """Scenario name, e.g. ``white-noise-06``."""
        return f"{self.family.name}-{intermediaries:02d}"

    def design(self, intermediaries: int) -> Design:
        """The :class:`Design` with ``intermediaries`` intermediary nodes."""
        if isinstance(intermediaries, bool) or not isinstance(intermediaries, int):
            raise ValueError(f"intermediaries must be an integer, got {intermediaries!r}")
        low = self.minimum
        if intermediaries < low or (self.cumulative and (intermediaries - low) % 2):
            step = f"{low}, {low + 2}, ..." if self.cumulative else f">= {low}"
            raise ValueError(
                f"intermediaries must be {step} on this layout (Alice and Bob are {low + 1} "
                f"hops apart), got {intermediaries}"
            )
        damage: frozenset[int] = frozenset()
        if self.cumulative and intermediaries > low:
            damage = self._damage(intermediaries - 2)
        return self._design(intermediaries, damage)

    def _damage(self, intermediaries: int) -> frozenset[int]:
        return self.design(intermediaries).damaged

    def _design(self, intermediaries: int, damage: frozenset[int]) -> Design:
        links = intermediaries + 1
        rng = np.random.default_rng([self.seed, intermediaries])
        name = self.name_of(intermediaries)
        draft = design(
            self.family, self.layout, links, rng, name=name, description="", damaged=damage
        )
        text = _description(self.family, self.layout, draft, draft.spec["max_actions"])
        return dataclasses.replace(draft, spec={**draft.spec, "description": text})


def white_noise(seed: int = 0, layout: NetworkLayout | None = None) -> FamilyGenerator:
    """Generator of the white-noise family (cumulative damage, as in the paper)."""
    return FamilyGenerator(WHITE_NOISE, layout or NetworkLayout.clustered(), seed, cumulative=True)


def amplitude_damping(seed: int = 0, layout: NetworkLayout | None = None) -> FamilyGenerator:
    """Generator of the amplitude-damping family."""
    return FamilyGenerator(AMPLITUDE_DAMPING, layout or NetworkLayout.clustered(), seed)


def phase_noise(seed: int = 0, layout: NetworkLayout | None = None) -> FamilyGenerator:
    """Generator of the correlated-phase-noise family."""
    return FamilyGenerator(PHASE_NOISE, layout or NetworkLayout.clustered(), seed)


#: Family generators by scenario-name prefix: the shipped series are ``<prefix>-<kk>`` for
#: ``kk`` in :data:`INTERMEDIARIES`.
FAMILIES: dict[str, Callable[[], FamilyGenerator]] = {
    "white-noise": white_noise,
    "amplitude-damping": amplitude_damping,
    "phase-noise": phase_noise,
}


# ------------------------------------------------------------------------ the evolving network
#: (family, links of the optimal route) per stage of the shipped evolving network: it starts
#: undamaged and slightly damaged (stages 0, 1), ends slightly damaged (stage 9), and goes
#: through every noise type in between (paper Sec. 4.4, Fig. 12).
EVOLVING_SCHEDULE: tuple[tuple[Family, int], ...] = (
    (WHITE_NOISE, 7),
    (WHITE_NOISE, 9),
    (AMPLITUDE_DAMPING, 9),
    (PHASE_NOISE, 11),
    (WHITE_NOISE, 11),
    (AMPLITUDE_DAMPING, 7),
    (PHASE_NOISE, 13),
    (WHITE_NOISE, 11),
    (AMPLITUDE_DAMPING, 11),
    (WHITE_NOISE, 9),
)


@dataclasses.dataclass(frozen=True)
class EvolvingDesign:
    """A generated evolving network and the design of each of its stages.

    Attributes:
        spec: the dict layout of :meth:`EvolvingScenario.from_dict` (base + ``stages``).
        stages: the full design of each stage (its states, route and gadget).
    """

    spec: dict[str, Any]
    stages: tuple[Design, ...]

    def scenario(self) -> EvolvingScenario:
        """The validated :class:`EvolvingScenario`."""
        return EvolvingScenario.from_dict(self.spec)


@dataclasses.dataclass(frozen=True, eq=False)
class EvolvingGenerator:
    """Seeded generator of an evolving network (paper Sec. 4.4).

    Stage ``i`` is a design of ``schedule[i]``'s family, made from the undamaged network, whose
    optimal route has ``schedule[i]``'s number of links and in which every optimal route of stage
    ``i - 1`` has ``F < WORKING_FIDELITY`` (links are damaged until it does). Its events are
    the links whose state differs from stage ``i - 1``'s: damage (white noise, amplitude
    damping, phase shifts) and healing back to ``F = HEALTHY_FIDELITY``. Every stage has a
    route with ``F > WORKING_FIDELITY``: its designed route.

    Attributes:
        layout: topology and endpoints; default the paper's clustered network.
        seed: stage ``i`` uses ``numpy.random.default_rng([seed, 1000 + i])``.
        schedule: ``(family, links)`` per stage.
        max_actions: the action budget of every stage.
        name: scenario name.
    """

    layout: NetworkLayout = dataclasses.field(default_factory=NetworkLayout.clustered)
    seed: int = 0
    schedule: tuple[tuple[Family, int], ...] = EVOLVING_SCHEDULE
    max_actions: int = PAPER_MAX_ACTIONS
    name: str = "evolving"

    def __call__(self) -> EvolvingScenario:
        return self.design().scenario()

    def design(self) -> EvolvingDesign:
        """The :class:`EvolvingDesign` (deterministic for a given generator)."""
        stages: list[Design] = []
        previous: list[Route] = []
        for i, (family, links) in enumerate(self.schedule):
            rng = np.random.default_rng([self.seed, 1000 + i])
            text = f"stage {i}: {family.name}, optimal route {links - 1} intermediary nodes" + (
                "" if i == 0 else f"; stage {i - 1}'s optimal routes now have F < 0.8"
            )
            stage = design(
                family,
                self.layout,
                links,
                rng,
                name=f"{self.name}/stage-{i}",
                description=text,
                max_actions=self.max_actions,
                must_break=previous,
            )
            stages.append(stage)
            previous = optimal_routes(self.layout, family, stage)
        return EvolvingDesign(self._spec(stages), tuple(stages))

    def _spec(self, stages: Sequence[Design]) -> dict[str, Any]:
        base = dict(stages[0].spec)
        names = ", ".join(f"{f.name} ({links - 1})" for f, links in self.schedule)
        base["name"] = self.name
        base["description"] = (
            f"Evolving network (paper Sec. 4.4), postselected swapping: {len(stages)} stages on "
            f"one network; each stage's events damage links (white noise F = {DAMAGED_FIDELITY}, "
            f"amplitude damping theta = {DAMPING_THETA} rad, phase shift phi = pi/2 rad) or heal "
            f"them (F = {HEALTHY_FIDELITY}) so that every optimal route of the previous stage "
            f"falls below F = {WORKING_FIDELITY} while a route above it exists. Stage families "
            f"(optimal intermediary nodes): {names}. max_actions = {self.max_actions}, the "
            f"paper's. Network: {self.layout.label}."
        )
        entries = [{"description": stages[0].spec["description"], "events": []}]
        for before, after in itertools.pairwise(stages):
            events = [
                new
                for old, new in zip(before.spec["edges"], after.spec["edges"], strict=True)
                if old != new
            ]
            entries.append({"description": after.spec["description"], "events": events})
        base["stages"] = entries
        return base


# ----------------------------------------------------------------------------- the small ones
def ladder_layout(length: int = 4) -> NetworkLayout:
    """Two rows of ``length`` nodes joined by rungs; Alice and Bob at the ends of the top row.

    Nodes ``0..length-1`` are the top row (Alice 0, Bob ``length - 1``), ``length..2 length-1``
    the bottom row; degree <= 3.
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 2:
        raise ValueError(f"length must be an integer >= 2, got {length!r}")
    graph = nx.Graph()
    for row in (0, 1):
        for i in range(length):
            graph.add_node(row * length + i, pos=(float(i), 1.0 - row))
    for row in (0, 1):
        for i in range(length - 1):
            graph.add_edge(row * length + i, row * length + i + 1)
    for i in range(length):
        graph.add_edge(i, length + i)
    return NetworkLayout.from_graph(
        graph, 0, length - 1, f"ladder of 2 x {length} nodes, Alice 0 and Bob {length - 1}"
    )


def tiny(seed: int = 0) -> Design:
    """An 8-node white-noise scenario for learnability tests (PPO solves it in a few 10k steps).

    A 2 x 4 ladder whose direct 3-link route along the top is broken by damage, so the optimal
    route takes 5 links (4 intermediary nodes); 8 actions per episode.
    """
    layout = ladder_layout(4)
    draft = design(
        WHITE_NOISE,
        layout,
        5,
        np.random.default_rng([seed, 5]),
        name="tiny",
        description="",
        max_actions=8,
    )
    text = (
        f"Tiny white-noise scenario for learnability tests: {layout.label}; Werner links, "
        f"healthy F = {HEALTHY_FIDELITY}, damaged F = {DAMAGED_FIDELITY} "
        f"({len(draft.damaged)} damaged). The direct 3-link route is damaged, the optimal route "
        "has 4 intermediary nodes (5 links). max_actions = 8: the route plus 3, short episodes "
        "for a quick learner."
    )
    return dataclasses.replace(draft, spec={**draft.spec, "description": text})


def shipped_specs() -> dict[str, dict[str, Any]]:
    """Every scenario file of ``scenarios/routing``, by name, in the dict layout.

    The three families at :data:`INTERMEDIARIES`, ``evolving``, ``default`` (a copy of
    ``white-noise-06``, the default of ``SwapRouting-v0``) and ``tiny``.
    """
    specs: dict[str, dict[str, Any]] = {}
    for make in FAMILIES.values():
        generator = make()
        for k in INTERMEDIARIES:
            specs[generator.name_of(k)] = generator.design(k).spec
    specs["evolving"] = EvolvingGenerator().design().spec
    specs["default"] = {
        **specs["white-noise-06"],
        "name": "default",
        "description": "The default scenario of SwapRouting-v0: a copy of white-noise-06. "
        + specs["white-noise-06"]["description"],
    }
    specs["tiny"] = tiny().spec
    return specs
