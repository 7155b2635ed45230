"""Rules of link-quality-aware routing: drifting links, noisy measurements, serving a request.

Pure functions of ``(network, state, rng)`` (no gymnasium); :class:`Simulation` strings them into
an episode for the env and for the agents' evaluation loop. Conventions:

* Time advances in *slots*, one per request. Link processes (drift, bursts, failures) move once
  per slot and do not depend on routing decisions.
* Three independent random streams per episode, all from one episode seed: ``world`` (link
  processes, requests), ``probe`` (background measurements) and ``outcome`` (the attempts of
  served requests). Two routers run on one episode seed therefore face the same link states,
  the same requests and the same probe readings; only their own attempts differ.
* Links are Werner states of fidelity ``F`` (singlet fidelity); a path's end-to-end state is the
  chain swapped by the physics core (:func:`chain_fidelity`).
* Lengths are km, times ms, probabilities per attempt.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from qnet_envs.linkquality.paths import PathFinder
from qnet_envs.linkquality.scenario import LinkQualityScenario
from qnet_envs.physics import fiber_transmissivity, singlet_fidelity, swap, werner
from qnet_envs.topology import clustered_topology, load, waxman_topology

FloatArray = NDArray[np.float64]
#: Columns of :func:`link_features` (the observed ``z_ij`` and its history), in order.
FEATURE_NAMES: tuple[str, ...] = (
    "last_p",  # last measured success probability per attempt
    "last_fidelity",  # last measured fidelity
    "ema_p",  # running average of measured p (weight measurement.ema)
    "ema_fidelity",  # running average of measured F
    "age",  # slots since the last p measurement, as age / (age + 10)
    "length",  # link length d, km / 100
    "loss",  # link loss, dB / 20
    "count",  # measurements so far, as count / (count + 10)
)
CANDIDATE_FEATURES: tuple[str, ...] = (
    "valid",  # 1 for a real candidate, 0 for an empty slot (then every entry is 0)
    "success",  # predicted probability that every link succeeds within the budget
    "fidelity",  # predicted end-to-end fidelity
    "margin",  # predicted fidelity minus the request's threshold, in [-1, 1]
    "hops",  # hops / 32, at most 1
    "length",  # path length / (100 km * 32), at most 1
    "latency",  # predicted latency / (max_attempts * slowest attempt + round trip), at most 1
)
MAX_HOPS_SCALE = 32
#: A link whose estimated success within budget is below this costs as if it were this.
MIN_SUCCESS = 1e-9

Estimator = Callable[[NDArray[np.float32]], NDArray[np.float64]]


# ------------------------------------------------------------------------------ network
@dataclasses.dataclass(frozen=True, eq=False)
class Network:
    """A compiled scenario: the graph and per-link constants (arrays read-only).

    Attributes:
        scenario: the scenario.
        graph: ``networkx.Graph`` on ``0..n-1``; edge attribute ``index`` is the link index.
        edges: ``(u, v)`` per link, ``u < v``, shape (E, 2).
        length_km, loss_db, p_nominal, fidelity_nominal, attempt_ms: shape (E,).
        positions: drawing coordinates, shape (n, 2).
        hops: hop distance between every two nodes, shape (n, n).
    """

    scenario: LinkQualityScenario
    graph: nx.Graph
    edges: NDArray[np.int64]  # (E, 2)
    length_km: FloatArray  # (E,)
    loss_db: FloatArray  # (E,)
    p_nominal: FloatArray  # (E,)
    fidelity_nominal: FloatArray  # (E,)
    attempt_ms: FloatArray  # (E,)
    positions: FloatArray  # (n, 2)
    hops: NDArray[np.int64]  # (n, n)
    edge_index: dict[tuple[int, int], int]
    finder: PathFinder

    @property
    def num_nodes(self) -> int:
        return int(self.positions.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edges.shape[0])

    @classmethod
    def compile(cls, scenario: LinkQualityScenario) -> Network:
        graph = build_topology(scenario)
        n = graph.number_of_nodes()
        pairs = sorted((min(u, v), max(u, v)) for u, v in graph.edges)
        edges = np.array(pairs, dtype=np.int64)
        length = np.array(
            [graph.edges[u, v]["length_km"] * scenario.topology.length_scale for u, v in pairs]
        )
        length = np.maximum(length, 1e-3)
        simple = nx.Graph()
        simple.add_nodes_from(range(n))
        edge_index: dict[tuple[int, int], int] = {}
        for i, (u, v) in enumerate(pairs):
            simple.add_edge(u, v, index=i)
            edge_index[(u, v)] = edge_index[(v, u)] = i
        links = scenario.links
        rng = np.random.default_rng([scenario.network_seed, 7])
        spread = rng.uniform(1.0 - links.p_spread, 1.0, size=len(pairs))
        fidelity = rng.uniform(links.fidelity_low, links.fidelity_high, size=len(pairs))
        eta = fiber_transmissivity(length, links.attenuation_db_per_km)
        timing = scenario.timing
        attempt = 2.0 * length / timing.fiber_speed_km_per_ms + timing.attempt_overhead_ms
        pos = nx.get_node_attributes(graph, "pos")
        if len(pos) == n:
            positions = np.array([pos[i] for i in range(n)], dtype=np.float64)
        else:
            layout = nx.spring_layout(simple, seed=0)
            positions = np.array([layout[i] for i in range(n)], dtype=np.float64)
        hop_table = dict(nx.all_pairs_shortest_path_length(simple))
        hops = np.array([[hop_table[i][j] for j in range(n)] for i in range(n)], dtype=np.int64)
        arrays = {
            "edges": edges,
            "length_km": length,
            "loss_db": links.attenuation_db_per_km * length,
            "p_nominal": links.source_efficiency * spread * eta,
            "fidelity_nominal": fidelity,
            "attempt_ms": attempt,
            "positions": positions,
            "hops": hops,
        }
        for array in arrays.values():
            array.flags.writeable = False
        finder = PathFinder(n, edges)
        return cls(scenario=scenario, graph=simple, edge_index=edge_index, finder=finder, **arrays)

    def path_edges(self, nodes: Sequence[int]) -> list[int]:
        """Link indices along a node path; ``ValueError`` if two consecutive nodes are unlinked."""
        out = []
        for u, v in itertools.pairwise(nodes):
            index = self.edge_index.get((int(u), int(v)))
            if index is None:
                raise ValueError(f"path: nodes {u} and {v} are not linked")
            out.append(index)
        return out


def build_topology(scenario: LinkQualityScenario) -> nx.Graph:
    """The scenario's graph from the topology layer (connected, ``length_km`` on every edge)."""
    spec = scenario.topology
    if spec.kind == "waxman":
        return waxman_topology(
            spec.n_nodes,
            alpha=spec.alpha,
            beta=spec.beta,
            seed=scenario.network_seed,
            width_km=spec.width_km,
            height_km=spec.width_km,
        )
    if spec.kind == "clustered":
        return clustered_topology(
            spec.n_clusters,
            spec.cluster_size,
            seed=scenario.network_seed,
            link_length_km=spec.link_length_km,
        )
    return load(spec.name, largest_component=True)


# -------------------------------------------------------------------------- link processes
@dataclasses.dataclass(frozen=True, eq=False)
class WorldState:
    """True, hidden state of the links at one slot.

    Attributes:
        x_p: log-multiplier of ``p`` (OU process), shape (E,).
        x_fidelity: additive offset of ``F`` (OU process), shape (E,).
        burst_left: slots of burst left (0: none), shape (E,).
        down_left: slots of failure left (0: working), shape (E,).
        slot: slots elapsed.
    """

    x_p: FloatArray
    x_fidelity: FloatArray
    burst_left: NDArray[np.int64]
    down_left: NDArray[np.int64]
    slot: int = 0


def initial_world(network: Network, rng: np.random.Generator) -> WorldState:
    """Drift offsets from their stationary law; no burst, no failure."""
    drift, e = network.scenario.drift, network.num_edges
    return WorldState(
        x_p=drift.p_sigma * rng.standard_normal(e),
        x_fidelity=drift.fidelity_sigma * rng.standard_normal(e),
        burst_left=np.zeros(e, dtype=np.int64),
        down_left=np.zeros(e, dtype=np.int64),
    )


def advance_world(network: Network, world: WorldState, rng: np.random.Generator) -> WorldState:
    """One slot of drift, bursts and failures (the processes of ``docs/linkquality-model.md``).

    Draws the same number of variates whatever the state, so streams stay aligned.
    """
    s, e = network.scenario, network.num_edges
    keep = 1.0 - s.drift.reversion
    kick = math.sqrt(1.0 - keep**2)
    x_p = keep * world.x_p + kick * s.drift.p_sigma * rng.standard_normal(e)
    x_f = keep * world.x_fidelity + kick * s.drift.fidelity_sigma * rng.standard_normal(e)
    burst = np.maximum(world.burst_left - 1, 0)
    starts = (burst == 0) & (rng.random(e) < s.bursts.rate)
    lengths = rng.geometric(1.0 / s.bursts.mean_length, size=e)
    burst = np.where(starts, lengths, burst)
    down = np.maximum(world.down_left - 1, 0)
    fails = (down == 0) & (rng.random(e) < s.failures.rate)
    downtime = rng.geometric(1.0 / s.failures.mean_downtime, size=e)
    down = np.where(fails, downtime, down)
    return WorldState(x_p, x_f, burst, down, world.slot + 1)


def true_values(network: Network, world: WorldState) -> tuple[FloatArray, FloatArray]:
    """True ``(p, F)`` per link, shape (E,) each: ``p`` in [0, 1], ``F`` in [0.25, 1]."""
    bursts = network.scenario.bursts
    in_burst = world.burst_left > 0
    p = np.minimum(network.p_nominal * np.exp(world.x_p), 1.0)
    p = np.where(in_burst, p * bursts.p_factor, p)
    p = np.where(world.down_left > 0, 0.0, p)
    f = network.fidelity_nominal + world.x_fidelity - in_burst * bursts.fidelity_drop
    return p, np.clip(f, 0.25, 1.0)


def success_within_budget(p: FloatArray, max_attempts: int) -> FloatArray:
    """Probability ``1 - (1 - p)^B`` that a link succeeds within ``B = max_attempts`` attempts."""
    return -np.expm1(max_attempts * np.log1p(-np.minimum(p, 1.0 - 1e-15)))


def chain_fidelity(fidelities: Sequence[float] | FloatArray) -> float:
    """Singlet fidelity of a chain of Werner links swapped into one pair (physics core swap)."""
    f = np.clip(np.asarray(fidelities, dtype=np.float64), 0.0, 1.0)
    rho = werner(float(f[0]))
    for value in f[1:]:
        rho, _ = swap(rho, werner(float(value)), "deterministic")
    return float(singlet_fidelity(rho))


# ----------------------------------------------------------------------------- observation
@dataclasses.dataclass(frozen=True, eq=False)
class Observed:
    """What the router knows: its measurements of each link, shape (E,) each."""

    last_p: FloatArray
    last_fidelity: FloatArray
    ema_p: FloatArray
    ema_fidelity: FloatArray
    age: FloatArray
    count: FloatArray


@dataclasses.dataclass(frozen=True)
class Measurements:
    """Measurements of some links: indices, successes, attempts, measured F (NaN: none)."""

    links: NDArray[np.int64]
    successes: NDArray[np.int64]
    attempts: NDArray[np.int64]
    fidelity: FloatArray


def blank_observed(network: Network) -> Observed:
    """No measurement yet: ``p`` unknown (0), ``F`` at the middle of its nominal range."""
    e = network.num_edges
    links = network.scenario.links
    prior = np.full(e, 0.5 * (links.fidelity_low + links.fidelity_high))
    zero = np.zeros(e)
    return Observed(zero, prior, zero.copy(), prior.copy(), np.full(e, 1e3), zero.copy())


def record(network: Network, observed: Observed, m: Measurements) -> Observed:
    """``observed`` updated with ``m`` (the first measurement of a link replaces its prior)."""
    w = network.scenario.measurement.ema
    fields = {f.name: getattr(observed, f.name).copy() for f in dataclasses.fields(Observed)}
    links = m.links
    p = m.successes / np.maximum(m.attempts, 1)
    first = fields["count"][links] == 0
    fields["last_p"][links] = p
    fields["ema_p"][links] = np.where(first, p, (1 - w) * fields["ema_p"][links] + w * p)
    fields["age"][links] = 0.0
    fields["count"][links] += 1
    has_f = np.isfinite(m.fidelity)
    f_links = links[has_f]
    f = m.fidelity[has_f]
    first_f = first[has_f]
    fields["last_fidelity"][f_links] = f
    old = fields["ema_fidelity"][f_links]
    fields["ema_fidelity"][f_links] = np.where(first_f, f, (1 - w) * old + w * f)
    return Observed(**fields)


def aged(observed: Observed) -> Observed:
    """One slot later: every measurement one slot older."""
    return dataclasses.replace(observed, age=observed.age + 1.0)


def probe(
    network: Network, world: WorldState, rng: np.random.Generator, everyone: bool = False
) -> Measurements:
    """Background probes of one slot: each link with probability ``probe_rate`` (all if
    ``everyone``), ``probe_attempts`` attempts each; draws the same variates either way."""
    m, e = network.scenario.measurement, network.num_edges
    p, f = true_values(network, world)
    chosen = rng.random(e) < m.probe_rate
    successes = rng.binomial(m.probe_attempts, p)
    noisy_f = np.clip(f + m.fidelity_noise * rng.standard_normal(e), 0.0, 1.0)
    links = np.arange(e) if everyone else np.flatnonzero(chosen)
    return Measurements(
        links=links,
        successes=successes[links],
        attempts=np.full(links.size, m.probe_attempts, dtype=np.int64),
        fidelity=np.where(successes[links] > 0, noisy_f[links], np.nan),
    )


def link_features(network: Network, observed: Observed) -> NDArray[np.float32]:
    """The observed link features (:data:`FEATURE_NAMES`), shape (E, 8), float32."""
    return np.stack(
        [
            observed.last_p,
            observed.last_fidelity,
            observed.ema_p,
            observed.ema_fidelity,
            observed.age / (observed.age + 10.0),
            network.length_km / 100.0,
            network.loss_db / 20.0,
            observed.count / (observed.count + 10.0),
        ],
        axis=1,
    ).astype(np.float32)


def ema_estimate(features: NDArray[np.float32]) -> FloatArray:
    """The default estimator: running averages of the measurements, shape (E, 2) = (p, F)."""
    return np.asarray(features[:, [2, 3]], dtype=np.float64)


# -------------------------------------------------------------------------------- requests
@dataclasses.dataclass(frozen=True)
class Request:
    """A request: endpoints and the end-to-end fidelity it needs."""

    source: int
    target: int
    threshold: float


def draw_request(network: Network, rng: np.random.Generator) -> Request:
    """A uniformly random pair of distinct nodes and a threshold ``~ U(low, high)``."""
    n, r = network.num_nodes, network.scenario.requests
    source, target = (int(x) for x in rng.choice(n, size=2, replace=False))
    return Request(source, target, float(rng.uniform(r.threshold_low, r.threshold_high)))


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What serving one request did.

    Attributes:
        served: every link succeeded within budget and the fidelity met the threshold.
        links_ok: every link succeeded within budget.
        fidelity: end-to-end singlet fidelity (0 when a link failed).
        latency_ms: time from the first attempt to the classical confirmation.
        attempts: attempts summed over the path's links.
        path: link indices used ([] for a dropped request).
        measurements: what the attempts taught the router.
    """

    served: bool
    links_ok: bool
    fidelity: float
    latency_ms: float
    attempts: int
    path: tuple[int, ...]
    measurements: Measurements


def serve(
    network: Network,
    world: WorldState,
    path: Sequence[int],
    request: Request,
    rng: np.random.Generator,
) -> Outcome:
    """Attempt every link of ``path`` (link indices) for up to ``max_attempts`` attempts.

    A link of success probability ``p`` needs a geometric number ``T`` of attempts (drawn by
    inversion, one uniform per link; ``p = 0`` never succeeds). All links attempt in parallel;
    a link taking ``T`` attempts is ready after ``T * attempt_ms``. If all succeed, the chain
    is swapped (:func:`chain_fidelity`) and the latency is the slowest link plus one classical
    round trip over the path; the request is served when the fidelity meets the threshold.
    If some link exhausts its budget, the request is abandoned when the first one does (its
    ``max_attempts * attempt_ms``) plus the round trip.
    """
    s = network.scenario
    budget = s.requests.max_attempts
    links = np.asarray(path, dtype=np.int64)
    p, f = true_values(network, world)
    u = rng.random(links.size)
    noise = rng.standard_normal(links.size)
    p_path = p[links]
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = np.log1p(-np.minimum(p_path, 1.0))
        needed = np.where(
            p_path >= 1.0, 1.0, np.where(p_path <= 0.0, np.inf, np.ceil(np.log(u) / log_q))
        )
    needed = np.maximum(needed, 1.0)
    ok = needed <= budget
    used = np.minimum(needed, budget).astype(np.int64)
    tau = network.attempt_ms[links]
    round_trip = float(2.0 * network.length_km[links].sum() / s.timing.fiber_speed_km_per_ms)
    noisy_f = np.clip(f[links] + s.measurement.fidelity_noise * noise, 0.0, 1.0)
    measurements = Measurements(links, ok.astype(np.int64), used, np.where(ok, noisy_f, np.nan))
    if ok.all():
        fidelity = chain_fidelity(f[links])
        latency = float(np.max(needed * tau)) + round_trip
        served = fidelity >= request.threshold
    else:
        fidelity, served = 0.0, False
        latency = float(np.min(budget * tau[~ok])) + round_trip
    return Outcome(
        bool(served),
        bool(ok.all()),
        fidelity,
        latency,
        int(used.sum()),
        tuple(links.tolist()),
        measurements,
    )


def dropped(path: Sequence[int] = ()) -> Outcome:
    """The outcome of a request that was not attempted (an invalid action)."""
    empty = Measurements(
        np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    )
    return Outcome(False, False, 0.0, 0.0, 0, tuple(path), empty)


def rewards(scenario: LinkQualityScenario, outcome: Outcome, invalid: bool) -> dict[str, float]:
    """The named reward components of one request (their sum is the reward)."""
    r = scenario.reward
    if invalid:
        return {"success": 0.0, "fidelity": 0.0, "latency": 0.0, "invalid_action": r.invalid_action}
    return {
        "success": r.success * outcome.served,
        "fidelity": r.fidelity * outcome.fidelity * outcome.served,
        "latency": -r.latency_per_ms * outcome.latency_ms,
        "invalid_action": 0.0,
    }


# ------------------------------------------------------------------------------ candidates
def candidate_paths(
    network: Network, request: Request, estimate: FloatArray, k: int
) -> list[list[int]]:
    """Up to ``k`` node paths, k-shortest on ``-log`` of the estimated link quality.

    ``estimate`` is ``(E, 2)`` (p, F) from an estimator. A link's quality is ``s * w``: its
    estimated success within the budget ``s = 1 - (1 - p)^B`` times its Werner parameter
    ``w = (4F - 1) / 3`` (swapping multiplies ``w``), so the first path maximises the estimated
    success probability times the end-to-end ``w``: the product form of the paper's
    ``p_ij * F_ij`` objective.
    """
    budget = network.scenario.requests.max_attempts
    success = success_within_budget(np.clip(estimate[:, 0], 0.0, 1.0), budget)
    werner_parameter = (4.0 * np.clip(estimate[:, 1], 0.25, 1.0) - 1.0) / 3.0
    cost = -np.log(np.maximum(success * werner_parameter, MIN_SUCCESS))
    return network.finder.k_shortest(request.source, request.target, k, cost)


def candidate_features(
    network: Network, paths: Sequence[Sequence[int]], estimate: FloatArray, request: Request, k: int
) -> NDArray[np.float32]:
    """Features (:data:`CANDIDATE_FEATURES`) of each candidate, shape (k, 7); empty slots 0."""
    s = network.scenario
    budget = s.requests.max_attempts
    out = np.zeros((k, len(CANDIDATE_FEATURES)), dtype=np.float32)
    p_hat = np.clip(estimate[:, 0], 0.0, 1.0)
    f_hat = np.clip(estimate[:, 1], 0.25, 1.0)
    scale = (
        budget * float(network.attempt_ms.max())
        + 2.0 * float(network.length_km.sum()) / s.timing.fiber_speed_km_per_ms
    )
    for slot, nodes in enumerate(paths[:k]):
        links = network.path_edges(nodes)
        success = float(np.prod(success_within_budget(p_hat[links], budget)))
        fidelity = chain_fidelity(f_hat[links])
        expected_tries = np.where(
            p_hat[links] > 0,
            success_within_budget(p_hat[links], budget) / np.maximum(p_hat[links], 1e-12),
            budget,
        )
        round_trip = 2.0 * network.length_km[links].sum() / s.timing.fiber_speed_km_per_ms
        latency = float(np.max(expected_tries * network.attempt_ms[links])) + round_trip
        out[slot] = (
            1.0,
            success,
            fidelity,
            np.clip(fidelity - request.threshold, -1.0, 1.0),
            min(len(links) / MAX_HOPS_SCALE, 1.0),
            min(network.length_km[links].sum() / (100.0 * MAX_HOPS_SCALE), 1.0),
            min(latency / scale, 1.0),
        )
    return out


def observation(
    network: Network, request: Request, index: int, estimate: FloatArray, k: int
) -> tuple[NDArray[np.float32], list[list[int]]]:
    """The env's observation (``7 k + 2`` floats) and the candidate node paths of ``request``
    (``index``: requests served so far in the episode)."""
    candidates = candidate_paths(network, request, estimate, k)
    table = candidate_features(network, candidates, estimate, request, k)
    done = index / network.scenario.requests.per_episode
    tail = np.array([request.threshold, done], dtype=np.float32)
    return np.concatenate([table.ravel(), tail]).astype(np.float32), candidates


# -------------------------------------------------------------------------------- episode
class Simulation:
    """One episode: the world, the router's measurements and the current request.

    ``Simulation(network, seed)`` is the start (one full probe of every link gives the initial
    estimates); :meth:`serve` plays a path for the current request and moves one slot on. Every
    random draw comes from the three streams seeded by ``seed`` (module docstring).
    """

    def __init__(self, network: Network, seed: int) -> None:
        self.network = network
        self.world_rng = np.random.default_rng([seed, 0])
        self.probe_rng = np.random.default_rng([seed, 1])
        self.outcome_rng = np.random.default_rng([seed, 2])
        self.world = initial_world(network, self.world_rng)
        initial = probe(network, self.world, self.probe_rng, everyone=True)
        self.observed = record(network, blank_observed(network), initial)
        self.initial_features = link_features(network, self.observed)
        self.request = draw_request(network, self.world_rng)
        self.index = 0

    @property
    def done(self) -> bool:
        return self.index >= self.network.scenario.requests.per_episode

    def features(self) -> NDArray[np.float32]:
        """:func:`link_features` now, shape (E, 8)."""
        return link_features(self.network, self.observed)

    def truth(self) -> tuple[FloatArray, FloatArray]:
        """True ``(p, F)`` now (for clairvoyant routers and for training targets only)."""
        return true_values(self.network, self.world)

    def serve(self, path: Sequence[int] | None) -> Outcome:
        """Serve the current request on ``path`` (link indices; ``None`` drops it), then
        advance one slot: new measurements, drift, probes, the next request."""
        if path is None:
            outcome = dropped()
        else:
            outcome = serve(self.network, self.world, path, self.request, self.outcome_rng)
            self.observed = record(self.network, self.observed, outcome.measurements)
        self.world = advance_world(self.network, self.world, self.world_rng)
        self.observed = aged(self.observed)
        self.observed = record(
            self.network, self.observed, probe(self.network, self.world, self.probe_rng)
        )
        self.request = draw_request(self.network, self.world_rng)
        self.index += 1
        return outcome
