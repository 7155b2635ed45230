"""Exact oracle of the swap-routing game: the best admissible walk from Alice to Bob.

The game's rules are those of :mod:`qnet_envs.routing.core`. A walk is *admissible* when it
starts at Alice, uses every link at most once (nodes may repeat), visits Bob only as its last
node (arriving at Bob ends the episode) and has at most ``scenario.max_actions`` links. Its
fidelity ``F`` is the scenario's figure of merit of the state Alice and Bob share after the
last swap, in the scenario's swap mode. Walks that stop anywhere but Bob score nothing.

:func:`best_route` returns the admissible walk of largest ``F``. Ties: walks within
:data:`TIE_TOLERANCE` of the best ``F`` are equal; among them the one with the fewest actions
wins, then the lexicographically smallest sequence of edge indices. The reported ``F`` (and
the tie-breaking) use the game's own arithmetic: every finalist is replayed through
:func:`qnet_envs.routing.core.route_fidelity`.

Algorithm
---------
Physics is not additive (opposite amplitude damping or phases cancel), so there is no
Dijkstra-like label setting; the oracle is a layered branch and bound over walks.

*Representation.* A held state ``rho`` (Alice, current node) is kept as its Pauli coefficients
``c[i, j] = tr(rho sigma_i x sigma_j)`` (real 4x4, ``i`` Alice's Pauli, ``j`` the current node's),
normalised to ``c[0, 0] = tr rho = 1``. Swapping a link into ``rho`` acts on the current node's
qubit only, as a linear map: ``c' = c @ R.T`` with ``R`` the link's real 4x4 Pauli transfer
matrix, derived once per slot from ``Network.slot_swap`` (and checked to have that form). A
step of a whole frontier is one batched 4x4 product per walk; ``c'[0, 0]`` is the postselection
probability (states below ``ZERO_PROBABILITY`` reset to ``I/4``, as in the game).

*Search.* Layer ``d`` holds every surviving walk of ``d`` links, in lexicographic order of its
edge sequence. Each layer is expanded over the 4 slots of every walk's node at once; children
on a used link or an empty slot are dropped; children at Bob are complete walks (scored, and
kept as finalists when within ``1e-9`` of the incumbent); the others are pruned by the rules
below, deduplicated, and form layer ``d + 1``. A cheap beam search (the same expansion, the
best ``beam_width`` walks per layer by bound) runs first and gives the exact pass a good
incumbent. The exact pass never uses a beam.

Pruning rules, each exact:

1. *Reachability.* A walk at node ``y`` with ``r`` actions left is dropped if the hop distance
   from ``y`` to Bob exceeds ``r``: distances ignoring which links are used are lower bounds of
   the distances that respect them, so no admissible completion is lost.
2. *Bound.* A walk is dropped if an upper bound ``B`` on ``F`` over all its completions is below
   ``incumbent - 2e-9``; every walk within ``1e-9`` of the optimum therefore survives, and
   ``1e-9`` dwarfs the rounding error of ``B``. Two bounds, both proven for every link state:

   *Nuclear-norm bound* (deterministic mode, and postselected mode once no filter link can be
   reached). Call a link *nice* if its normalised map is a trace-preserving channel whose
   action on the correlations is ``C -> C T.T`` (``C = c[1:, 1:]``): every link in deterministic
   mode (the Pauli correction makes the map trace preserving, and Alice's marginal stays
   maximally mixed), and links with ``R[0, 1:] = R[1:, 0] = 0`` in postselected mode (Werner
   and phase-shifted links: unital, trace scaling). For a channel ``||T||_op <= 1``. Along
   nice links the final correlations are ``C Q.T`` with ``Q`` the product of the remaining
   ``T``; both figures of merit satisfy ``F <= (1 + ||C_final||_*) / 4`` (the fully entangled
   fraction is ``(1 + max_{O in SO(3)} tr(-C O)) / 4``), and
   ``||C Q.T||_* <= ||C||_* prod ||T_e||_op`` (von Neumann's trace inequality). So
   ``B = (1 + ||C||_* beta(y, r)) / 4`` with ``beta(y, r)`` the largest product of
   ``||T_e||_op`` over walks of at most ``r`` nice links from ``y`` to Bob, a dynamic program
   over (node, budget) that may reuse links (a relaxation, hence still an upper bound). For
   Werner links ``T = p I``: this is exactly the product of Werner parameters.

   *Filter bound* (postselected mode while an unused *filter* link — a non-nice one, e.g.
   amplitude damped — can still be reached). A postselected swap is a completely positive map
   on the current node's qubit; every completion of the walk is therefore some completely
   positive map ``Psi`` applied to the current state, so ``F`` is at most
   ``phi(rho) = sup_K F((I x K) rho (I x K)^dag / tr)`` = ``lambda_max(S rho S) / 2`` with
   ``S = I x rho_B^{-1/2}`` (``rho_B`` the current node's marginal; the supremum over
   multi-Kraus maps equals the one over single filters ``K`` because a ratio of sums is at most
   the largest ratio; the closed form follows from ``K -> (I x K^dag)|psi->`` being a bijection
   onto C^4 with ``||.||^2 = ||K||_F^2 / 2``). ``phi`` never increases under completely
   positive maps, and a Werner link of parameter ``p`` in ``[0, 1]`` contracts it: for
   ``phi >= 1/2``, ``phi' - 1/2 <= (phi - 1/2) p / (p + phi (1 - p))`` (write
   ``D_p(sigma) = p sigma + (1-p) sigma_A x I/2``; the product term has ``F <= 1/2``, its norm is
   at least half the other's, and ``(I x K^dag)|psi->`` bounds the singlet overlap of the first
   term by Cauchy-Schwarz; maximising the resulting ratio gives this map). Every completion
   ending at or above a level ``f`` keeps ``phi >= f`` all along, so each Werner link contracts
   ``phi - 1/2`` by at least ``gamma = p / (p + f (1 - p))``, and
   ``B = 1/2 + (phi - 1/2) H(y, r)`` with ``H`` the largest product of ``gamma`` over walks
   (non-Werner links count 1) is an upper bound on every completion that could matter. A
   walk whose ``phi`` is below ``1/2``, or a level ``f <= 1/2``, gives ``B = max(phi, 1/2)``.
   When probabilities vanish the game resets the state to ``I/4``, whose completions all have
   ``F <= 1/2 <= B``.

   Whether a filter link is reachable is decided per walk: an unused filter link ``(u, v)`` is
   reachable when ``dist'(y, u) + 1 + dist(v, Bob) <= r`` (or with ``u, v`` exchanged),
   ``dist'`` avoiding Bob; with more than 64 filter links the used ones are not excluded.
3. *Duplicates.* Two walks of one layer at the same node with the same set of used links and
   the same held state (Pauli coefficients equal after rounding to 1e-12) have the same
   completions with the same ``F``, and (same number of links) the lexicographic order of their
   completions is that of the walks; only the lexicographically first is kept. Walks whose
   states differ below the rounding grain are never merged unless they round alike, which is
   the floating-point identity of the game itself.

Complexity. Let ``N_d`` be the number of walks of ``d`` links that survive pruning. A layer
costs ``O(4 N_d)`` batched 4x4 products, ``N_d`` 3x3 singular value decompositions (or 4x4
eigenvalue problems) for the bounds and an ``O(N_d log N_d)`` sort for duplicates; memory is
``O(sum_d N_d)`` parent pointers. ``N_d`` is at most the number of trails of length ``d`` from
Alice, ``<= 4 * 3^(d-1)`` for degree ``<= 4``; in the worst case (every route equally good) no
bound prunes and the search is exponential in ``max_actions``, as any exact method must be
for some instances. On the shipped clustered networks (65 nodes, degree <= 4, routes of 7 to
17 links, ``max_actions`` up to 20) a few thousand walks are expanded at most.

:func:`iter_routes` / :func:`enumerate_routes` are the brute force this is tested against: a
plain depth-first search over all action sequences through :func:`core.transition`.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from qnet_envs.physics.states import PAULIS
from qnet_envs.physics.swapping import ZERO_PROBABILITY
from qnet_envs.routing import core
from qnet_envs.routing.scenario import MAX_DEGREE, Scenario

#: Walks whose ``F`` differ by at most this are tied (then fewer actions, then lexicographic).
TIE_TOLERANCE = 1e-12
#: Beam width of the incumbent-finding pre-pass (the exact pass never uses a beam).
DEFAULT_BEAM_WIDTH = 64

_WINDOW = 1e-9  # complete walks this close to the incumbent are finalists
_SLACK = 1e-9  # allowance for rounding in the bounds
_KEY_GRAIN = 1e12  # duplicates: Pauli coefficients rounded to 1 / _KEY_GRAIN
_MIN_MARGINAL = 1e-6  # filter bound: below this marginal eigenvalue, use the trivial bound 1
_CLASSIFY_TOL = 1e-12  # relative tolerance of the nice / Werner classification of links
_MAX_TRACKED_FILTERS = 64  # more filter links than this: ignore their used status
_UNREACHABLE = np.iinfo(np.int64).max // 4

# Pauli basis: _PAULI_PAIRS[i, j] = sigma_i x sigma_j, shape (4, 4, 4, 4).
_PAULI_PAIRS = np.einsum("iab,jcd->ijacbd", PAULIS, PAULIS).reshape(4, 4, 4, 4)
# c_flat = _TO_PAULI @ rho_flat and rho_flat = _FROM_PAULI @ c_flat, shapes (16, 16).
_TO_PAULI = np.stack([p.T.ravel() for p in _PAULI_PAIRS.reshape(16, 4, 4)])
_FROM_PAULI = np.stack([p.ravel() / 4.0 for p in _PAULI_PAIRS.reshape(16, 4, 4)], axis=1)
_SINGLET_PAULI = np.diag([1.0, -1.0, -1.0, -1.0])
_MIXED_PAULI = np.diag([1.0, 0.0, 0.0, 0.0])


class RouteOutcome(NamedTuple):
    """A complete walk from Alice to Bob and what the game makes of it.

    ``route`` is the tuple of edge indices in walking order; ``fidelity`` the figure of merit
    at Bob; ``probability`` the postselection success probability (1 in deterministic mode).
    """

    route: tuple[int, ...]
    fidelity: float
    probability: float


@dataclasses.dataclass(frozen=True)
class OracleResult:
    """The optimum and how much work finding it took.

    Attributes:
        route: the best admissible walk (edge indices from Alice, ending at Bob).
        fidelity: its figure of merit, as the game computes it.
        probability: its postselection success probability (1 in deterministic mode).
        expanded: partial walks generated by the exact pass (valid, in-reach extensions).
        finalists: complete walks replayed through the game to apply the tie rule.
    """

    route: tuple[int, ...]
    fidelity: float
    probability: float
    expanded: int
    finalists: int


# ------------------------------------------------------------------------------ public API
def best_route(scenario: Scenario) -> tuple[list[int], float]:
    """The best admissible walk and its ``F``; raises ``ValueError`` if Bob is unreachable."""
    result = solve(scenario)
    return list(result.route), result.fidelity


def solve(scenario: Scenario, beam_width: int = DEFAULT_BEAM_WIDTH) -> OracleResult:
    """Exact optimum of ``scenario`` with search statistics (see the module docstring).

    Args:
        scenario: the game instance.
        beam_width: walks per layer in the incumbent-finding pre-pass, ``>= 1``; it changes
            only the speed, never the result.

    Raises:
        ValueError: no admissible walk reaches Bob, or ``beam_width < 1``.
    """
    if isinstance(beam_width, bool) or not isinstance(beam_width, int) or beam_width < 1:
        raise ValueError(f"beam_width must be an integer >= 1, got {beam_width!r}")
    model = _Model.compile(scenario)
    beam = _search(model, level=-np.inf, beam_width=beam_width, dedup=True, fixed=False)
    exact = _search(model, level=beam.best, beam_width=None, dedup=True, fixed=False)
    if not exact.finalists:
        raise _unreachable(scenario)
    winner = select_best(_replay(model.network, exact.finalists))
    return OracleResult(
        winner.route, winner.fidelity, winner.probability, exact.expanded, len(exact.finalists)
    )


def routes_at_least(scenario: Scenario, threshold: float) -> list[RouteOutcome]:
    """Every admissible walk whose ``F`` (as the game computes it) is ``>= threshold``.

    Sorted by number of actions, then lexicographically. Exact: the same pruned search as
    :func:`solve` with the incumbent fixed at ``threshold`` and without merging duplicates
    (walks with equal states are distinct routes here).
    """
    model = _Model.compile(scenario)
    found = _search(model, level=float(threshold), beam_width=None, dedup=False, fixed=True)
    outcomes = [o for o in _replay(model.network, found.finalists) if o.fidelity >= threshold]
    return sorted(outcomes, key=lambda o: (len(o.route), o.route))


def select_best(outcomes: Iterable[RouteOutcome]) -> RouteOutcome:
    """The tie rule: highest ``F``; within :data:`TIE_TOLERANCE` of it, fewest actions, then
    the lexicographically smallest route. Raises ``ValueError`` on an empty input."""
    pool = list(outcomes)
    if not pool:
        raise ValueError("select_best needs at least one route")
    top = max(o.fidelity for o in pool)
    tied = [o for o in pool if o.fidelity >= top - TIE_TOLERANCE]
    return min(tied, key=lambda o: (len(o.route), o.route))


def iter_routes(scenario: Scenario) -> Iterator[RouteOutcome]:
    """Brute force: every admissible walk, by depth-first search over all action sequences.

    Plays :func:`qnet_envs.routing.core.transition` for each of the ``MAX_DEGREE`` actions at
    every state; yields the walks that arrive at Bob, in lexicographic order of their slot
    sequences. Exponential; meant for small scenarios and for checking :func:`solve`.
    """
    network = core.Network.compile(scenario)

    def walk(state: core.GameState) -> Iterator[RouteOutcome]:
        for action in range(MAX_DEGREE):
            after, outcome = core.transition(network, state, action)
            if outcome.event == "arrived":
                yield RouteOutcome(after.route, after.fidelity, after.probability)
            elif not (outcome.terminated or outcome.truncated):
                yield from walk(after)

    yield from walk(core.initial(network))


def enumerate_routes(scenario: Scenario, max_routes: int | None = None) -> list[RouteOutcome]:
    """All admissible walks (see :func:`iter_routes`) as a list.

    Raises:
        ValueError: more than ``max_routes`` walks exist (the enumeration stops there rather
            than return a silently truncated list).
    """
    routes: list[RouteOutcome] = []
    for outcome in iter_routes(scenario):
        if max_routes is not None and len(routes) >= max_routes:
            raise ValueError(f"more than max_routes={max_routes} admissible walks")
        routes.append(outcome)
    return routes


def brute_force_best(scenario: Scenario) -> tuple[list[int], float]:
    """:func:`best_route` by exhaustive enumeration; raises ``ValueError`` if none exists."""
    routes = enumerate_routes(scenario)
    if not routes:
        raise _unreachable(scenario)
    winner = select_best(routes)
    return list(winner.route), winner.fidelity


# ------------------------------------------------------------------------ compiled model
@dataclasses.dataclass(frozen=True, eq=False)
class _Model:
    """A scenario compiled for the search; every table is indexed by (node, slot)."""

    network: core.Network
    ptm: NDArray[np.float64]  # (n, MAX_DEGREE, 4, 4) unnormalised Pauli transfer matrices
    nice: NDArray[np.bool_]  # (n, MAX_DEGREE) trace-scaling maps with C -> C T.T
    werner_p: NDArray[np.float64]  # (n, MAX_DEGREE) Werner parameter, NaN if not Werner
    op_norm: NDArray[np.float64]  # (n, MAX_DEGREE) ||T||_op of the normalised map
    dist: NDArray[np.int64]  # (n,) hops to Bob
    beta: NDArray[np.float64]  # (n, max_actions + 1) nuclear-norm factor
    filter_edges: NDArray[np.int64]  # (f,) edges with a non-nice orientation (postselected)
    filter_steps: NDArray[np.int64]  # (f, n) fewest actions to use the filter link and finish
    words: int  # 64-bit words of the used-link bit set

    @classmethod
    def compile(cls, scenario: Scenario) -> _Model:
        network = core.Network.compile(scenario)
        ptm = _slot_ptms(network)
        present = network.slot_edge >= 0
        scale = ptm[..., 0, 0]
        positive = present & (scale > ZERO_PROBABILITY)
        safe = np.where(positive, scale, 1.0)[..., None, None]
        normalised = ptm / safe
        tol = _CLASSIFY_TOL
        if scenario.swap_mode == "deterministic":
            nice = present.copy()
        else:
            off = np.maximum(
                np.abs(normalised[..., 0, 1:]).max(-1), np.abs(normalised[..., 1:, 0]).max(-1)
            )
            nice = positive & (off <= tol)
        block = normalised[..., 1:, 1:]
        p = np.trace(block, axis1=-2, axis2=-1) / 3.0
        werner_like = np.abs(block - p[..., None, None] * np.eye(3)).max(axis=(-2, -1)) <= tol
        werner_like &= nice & (np.abs(normalised[..., 0, 1:]).max(-1) <= tol)
        werner_p = np.where(werner_like, p, np.nan)
        op_norm = np.where(nice, np.linalg.norm(block, ord=2, axis=(-2, -1)), 0.0)
        dist = _hops_to(network, scenario.bob, avoid=None)
        beta = _best_products(network, scenario, np.where(nice, op_norm, 0.0))
        filter_edges, filter_steps = _filter_tables(network, scenario, present & ~nice, dist)
        words = max(1, -(-scenario.num_edges // 64))
        return cls(
            network, ptm, nice, werner_p, op_norm, dist, beta, filter_edges, filter_steps, words
        )

    def gamma_products(self, level: float) -> NDArray[np.float64]:
        """``H(y, r)``: the filter bound's largest product of Werner contractions at ``level``."""
        p = self.werner_p
        if level <= 0.5:
            factors = np.ones_like(p)
        else:
            werner = np.isfinite(p) & (np.nan_to_num(p, nan=-1.0) >= 0.0)
            pw = np.where(werner, p, 1.0)
            factors = np.where(werner, pw / (pw + level * (1.0 - pw)), 1.0)
        present = self.network.slot_edge >= 0
        return _best_products(self.network, self.network.scenario, np.where(present, factors, 0.0))


def _slot_ptms(network: core.Network) -> NDArray[np.float64]:
    """Pauli transfer matrix ``R`` of every slot's swap, checked to act as ``c -> c @ R.T``."""
    full = (_TO_PAULI @ network.slot_swap @ _FROM_PAULI).real
    full = full.reshape(*full.shape[:2], 4, 4, 4, 4)  # (n, k, i', j', i, j)
    ptm = np.ascontiguousarray(full[:, :, 0, :, 0, :])
    expected = np.eye(4)[:, None, :, None] * ptm[:, :, None, :, None, :]
    if not np.allclose(full, expected, atol=1e-10):
        raise RuntimeError("a swap does not act on the current node's qubit alone")
    return ptm


def _neighbors_of(network: core.Network) -> list[list[tuple[int, int]]]:
    """``(slot, neighbour)`` pairs of every node."""
    return [
        [(k, int(y)) for k, y in enumerate(row) if y >= 0] for row in network.slot_neighbor.tolist()
    ]


def _hops_to(network: core.Network, target: int, avoid: int | None) -> NDArray[np.int64]:
    """Breadth-first hop distances to ``target`` (never passing through ``avoid``)."""
    n = network.scenario.num_nodes
    dist = np.full(n, _UNREACHABLE, dtype=np.int64)
    dist[target] = 0
    queue = deque([target])
    neighbors = _neighbors_of(network)
    while queue:
        x = queue.popleft()
        for _, y in neighbors[x]:
            if dist[y] == _UNREACHABLE and y != avoid:
                dist[y] = dist[x] + 1
                queue.append(y)
    return dist


def _best_products(
    network: core.Network, scenario: Scenario, factors: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Largest product of slot ``factors`` over walks of at most ``r`` links to Bob.

    Shape (n, max_actions + 1); ``0`` where no walk exists; links may repeat (a relaxation).
    """
    n, horizon, bob = scenario.num_nodes, scenario.max_actions, scenario.bob
    table = np.zeros((n, horizon + 1))
    table[bob, :] = 1.0
    neighbor = np.where(network.slot_neighbor >= 0, network.slot_neighbor, bob)
    for r in range(1, horizon + 1):
        table[:, r] = (factors * table[neighbor, r - 1]).max(axis=1)
        table[bob, r] = 1.0
    return table


def _filter_tables(
    network: core.Network,
    scenario: Scenario,
    filter_slots: NDArray[np.bool_],
    dist: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Filter links and, per node, the fewest actions to cross one and still reach Bob."""
    edges = np.unique(network.slot_edge[filter_slots])
    n, bob = scenario.num_nodes, scenario.bob
    steps = np.full((edges.size, n), _UNREACHABLE, dtype=np.int64)
    cache: dict[int, NDArray[np.int64]] = {}
    for i, e in enumerate(edges.tolist()):
        u, v = (int(x) for x in scenario.edges[e])
        for start, end in ((u, v), (v, u)):
            if start == bob or dist[end] >= _UNREACHABLE:
                continue
            if start not in cache:
                cache[start] = _hops_to(network, start, avoid=bob)
            reach = cache[start]
            ok = reach < _UNREACHABLE
            steps[i] = np.where(ok, np.minimum(steps[i], reach + 1 + dist[end]), steps[i])
    return edges.astype(np.int64), steps


def _unreachable(scenario: Scenario) -> ValueError:
    return ValueError(
        f"Bob (node {scenario.bob}) is unreachable from Alice (node {scenario.alice}) within "
        f"max_actions={scenario.max_actions} actions over distinct links"
    )


# --------------------------------------------------------------------------- the search
@dataclasses.dataclass
class _Frontier:
    """The walks of one layer, in lexicographic order of their edge sequences."""

    node: NDArray[np.int64]  # (N,)
    used: NDArray[np.uint64]  # (N, words)
    pauli: NDArray[np.float64]  # (N, 4, 4) normalised Pauli coefficients of the held state


@dataclasses.dataclass
class _Found:
    """What one search pass produced."""

    best: float  # best F seen (search arithmetic), -inf if none
    finalists: list[tuple[int, ...]]
    expanded: int


def _search(
    model: _Model, level: float, beam_width: int | None, dedup: bool, fixed: bool
) -> _Found:
    """Layered branch and bound; ``level`` is the incumbent (``fixed``: never raised)."""
    scenario = model.network.scenario
    frontier = _Frontier(
        node=np.array([scenario.alice], dtype=np.int64),
        used=np.zeros((1, model.words), dtype=np.uint64),
        pauli=_SINGLET_PAULI[None].copy(),
    )
    parents: list[NDArray[np.int64]] = [np.zeros(1, dtype=np.int64)]
    edges: list[NDArray[np.int64]] = [np.full(1, -1, dtype=np.int64)]
    arrivals: list[tuple[int, NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]] = []
    best, expanded = -np.inf, 0
    incumbent = level
    gamma = model.gamma_products(incumbent - _WINDOW - _SLACK)
    for depth in range(1, scenario.max_actions + 1):
        if frontier.node.size == 0:
            break
        parent, edge, node, used, pauli = _expand(model, frontier, depth)
        expanded += parent.size
        arrive = node == scenario.bob
        if arrive.any():
            fidelity = _merit(pauli[arrive], scenario.figure_of_merit)
            best = max(best, float(fidelity.max()))
            if not fixed and best > incumbent:
                incumbent = best
                gamma = model.gamma_products(incumbent - _WINDOW - _SLACK)
            close = fidelity >= incumbent - _WINDOW
            arrivals.append((depth, parent[arrive][close], edge[arrive][close], fidelity[close]))
        stay = ~arrive
        parent, edge, node, used, pauli = (a[stay] for a in (parent, edge, node, used, pauli))
        remaining = scenario.max_actions - depth
        bound = _bound(model, node, used, pauli, remaining, gamma)
        keep = bound >= incumbent - _WINDOW - _SLACK
        parent, edge, node, used, pauli, bound = (
            a[keep] for a in (parent, edge, node, used, pauli, bound)
        )
        if dedup and node.size > 1:
            first = _first_of_duplicates(node, used, pauli)
            parent, edge, node, used, pauli, bound = (
                a[first] for a in (parent, edge, node, used, pauli, bound)
            )
        if beam_width is not None and node.size > beam_width:
            top = np.sort(np.argsort(-bound, kind="stable")[:beam_width])
            parent, edge, node, used, pauli = (a[top] for a in (parent, edge, node, used, pauli))
        frontier = _Frontier(node, used, pauli)
        parents.append(parent)
        edges.append(edge)
    cut = incumbent - _WINDOW
    finalists = [
        _route(parents, edges, depth, int(p), int(e))
        for depth, ps, es, fs in arrivals
        for p, e, f in zip(ps.tolist(), es.tolist(), fs.tolist(), strict=True)
        if f >= cut
    ]
    return _Found(best, finalists, expanded)


_Children = tuple[
    NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.uint64], NDArray[np.float64]
]


def _expand(model: _Model, frontier: _Frontier, depth: int) -> _Children:
    """All valid one-link extensions of ``frontier`` that can still reach Bob in time.

    Returns ``(parent, edge, node, used, pauli)`` of the children, parent-major, slot-minor
    (so lexicographic order is kept: a node's slots list its links by increasing index).
    """
    network, scenario = model.network, model.network.scenario
    count = frontier.node.size
    parent = np.repeat(np.arange(count), MAX_DEGREE)
    slot = np.tile(np.arange(MAX_DEGREE), count)
    here = frontier.node[parent]
    edge = network.slot_edge[here, slot]
    ok = edge >= 0
    parent, slot, here, edge = parent[ok], slot[ok], here[ok], edge[ok]
    word, bit = edge // 64, (edge % 64).astype(np.uint64)
    taken = (frontier.used[parent, word] >> bit) & np.uint64(1)
    there = network.slot_neighbor[here, slot]
    remaining = scenario.max_actions - depth
    ok = (taken == 0) & ((there == scenario.bob) | (model.dist[there] <= remaining))
    parent, slot, here, edge, word, bit, there = (
        a[ok] for a in (parent, slot, here, edge, word, bit, there)
    )
    used = frontier.used[parent].copy()
    used[np.arange(parent.size), word] |= np.uint64(1) << bit
    pauli = np.einsum("nij,nkj->nik", frontier.pauli[parent], model.ptm[here, slot])
    pauli = _normalise(pauli, scenario.swap_mode)
    return parent, edge, there, used, pauli


def _normalise(pauli: NDArray[np.float64], swap_mode: str) -> NDArray[np.float64]:
    """Divide by the trace ``c[0, 0]``; vanishing postselected outcomes reset to ``I/4``."""
    trace = pauli[:, 0, 0]
    if swap_mode == "deterministic":
        return pauli / trace[:, None, None]
    possible = trace >= ZERO_PROBABILITY
    safe = np.where(possible, trace, 1.0)[:, None, None]
    return np.where(possible[:, None, None], pauli / safe, _MIXED_PAULI)


def _merit(pauli: NDArray[np.float64], figure_of_merit: str) -> NDArray[np.float64]:
    """``F`` of normalised Pauli coefficients, shape (N,)."""
    correlations = pauli[:, 1:, 1:]
    if figure_of_merit == "singlet_fidelity":
        return (1.0 - np.trace(correlations, axis1=1, axis2=2)) / 4.0
    singular = np.linalg.svd(correlations, compute_uv=False)
    sign = np.sign(np.linalg.det(correlations))
    return (1.0 + singular[:, 0] + singular[:, 1] - sign * singular[:, 2]) / 4.0


def _bound(
    model: _Model,
    node: NDArray[np.int64],
    used: NDArray[np.uint64],
    pauli: NDArray[np.float64],
    remaining: int,
    gamma: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Upper bound on ``F`` over all completions of each walk (module docstring, rule 2)."""
    if node.size == 0:
        return np.zeros(0)
    nuclear = np.linalg.svd(pauli[:, 1:, 1:], compute_uv=False).sum(axis=1)
    bound = (1.0 + nuclear * model.beta[node, remaining]) / 4.0
    if model.network.scenario.swap_mode == "deterministic" or model.filter_edges.size == 0:
        return bound
    filtered = _filter_reachable(model, node, used, remaining)
    if filtered.any():
        phi = _filter_bound(pauli[filtered])
        excess = np.maximum(phi - 0.5, 0.0)
        bound[filtered] = 0.5 + excess * gamma[node[filtered], remaining]
    return bound


def _filter_reachable(
    model: _Model, node: NDArray[np.int64], used: NDArray[np.uint64], remaining: int
) -> NDArray[np.bool_]:
    """Can each walk still cross an unused filter link and reach Bob in ``remaining``?"""
    steps = model.filter_steps[:, node] <= remaining  # (f, N)
    if model.filter_edges.size > _MAX_TRACKED_FILTERS:
        return steps.any(axis=0)
    e = model.filter_edges
    bits = (used[:, e // 64] >> (e % 64).astype(np.uint64)) & np.uint64(1)  # (N, f)
    return (steps & (bits.T == 0)).any(axis=0)


def _filter_bound(pauli: NDArray[np.float64]) -> NDArray[np.float64]:
    """``phi = lambda_max(S rho S) / 2``, ``S = I x rho_B^{-1/2}``: the best ``F`` any
    completely positive map on the current node's qubit can reach; 1 for near-pure marginals."""
    bloch = pauli[:, 0, 1:]
    length = np.linalg.norm(bloch, axis=1)
    low, high = (1.0 - length) / 2.0, (1.0 + length) / 2.0
    regular = low >= _MIN_MARGINAL
    phi = np.ones(pauli.shape[0])
    if not regular.any():
        return phi
    c, b, n = pauli[regular], bloch[regular], length[regular]
    direction = b / np.where(n > 0.0, n, 1.0)[:, None]
    a = (high[regular] ** -0.5 + low[regular] ** -0.5) / 2.0
    d = (high[regular] ** -0.5 - low[regular] ** -0.5) / 2.0
    root = a[:, None, None] * PAULIS[0] + d[:, None, None] * np.einsum(
        "nk,kab->nab", direction, PAULIS[1:]
    )
    rho = np.einsum("nij,ijab->nab", c.astype(np.complex128), _PAULI_PAIRS) / 4.0
    rho = rho.reshape(-1, 2, 2, 2, 2)
    scaled = np.einsum("nxb,nabcd,ndy->naxcy", root, rho, root).reshape(-1, 4, 4)
    phi[regular] = np.linalg.eigvalsh(scaled)[:, -1] / 2.0
    return phi


def _first_of_duplicates(
    node: NDArray[np.int64], used: NDArray[np.uint64], pauli: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Indices (ascending) of the first walk of every (node, used links, state) class."""
    state = np.rint(pauli.reshape(-1, 16) * _KEY_GRAIN).astype(np.int64)
    keys = np.concatenate([node[:, None], used.view(np.int64), state], axis=1)
    _, first = np.unique(keys, axis=0, return_index=True)
    return np.sort(first)


def _route(
    parents: list[NDArray[np.int64]], edges: list[NDArray[np.int64]], depth: int, p: int, e: int
) -> tuple[int, ...]:
    """Edge sequence of the walk that extends walk ``p`` of layer ``depth - 1`` by edge ``e``."""
    route = [e]
    for layer in range(depth - 1, 0, -1):
        route.append(int(edges[layer][p]))
        p = int(parents[layer][p])
    return tuple(reversed(route))


def _replay(network: core.Network, routes: list[tuple[int, ...]]) -> list[RouteOutcome]:
    """Score routes with the game's own arithmetic."""
    outcomes = []
    for route in routes:
        fidelity, probability = core.route_fidelity(network, route)
        outcomes.append(RouteOutcome(route, fidelity, probability))
    return outcomes
