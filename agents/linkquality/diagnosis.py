"""Where the learned router loses to the clairvoyant bound: paired episodes, reference routers.

Every router here runs on the same episode seeds as the others (so on the same link states,
requests and probe readings; ``qnet_envs.linkquality.core``) and is scored per request by two
numbers: whether the request was served (a Bernoulli draw) and its *served probability*, the
probability under the true link values of that slot that the chosen path serves it,
``prod_l s_l * [F_end >= threshold]`` (:func:`served_probability`). The second has the same
expectation as the first (given everything before the request) without the attempt noise, so
paired differences of mean served probability are far less noisy than differences of success
rates. The reference routers split the gap between the learned method and the bound:

* :class:`CandidateOracleRouter`: the best (true served probability) of an estimator's ``k``
  candidates: the loss of the candidate set alone;
* :class:`TruthEstimateRouter`: the non-clairvoyant pipeline (k-shortest candidates,
  feasible-first) fed the true ``(p, F)`` of the current slot: with perfect estimates, the loss
  of the rule alone; against the learned method, the loss of estimation;
* :class:`StaleTruthRouter`: the same pipeline fed, per link, the true values at the slot of
  its last measurement: noise-free measurements taken when the real ones were (the staleness
  the measurement schedule imposes);
* :class:`EstimatedExactRouter`: the clairvoyant's exact MILP run on an estimator's values: a
  non-clairvoyant router with no candidate restriction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.linkquality.clairvoyant import ClairvoyantRouter
from agents.linkquality.policy import Chooser, feasible_first
from agents.linkquality.routers import Router
from qnet_envs.linkquality import core


def served_probability(
    network: core.Network, p: np.ndarray, f: np.ndarray, path: Sequence[int], threshold: float
) -> float:
    """Probability that ``path`` (link indices) serves a request of ``threshold`` when the links
    have success probabilities ``p`` and fidelities ``f`` (shape (E,) each): every link succeeds
    within the budget and the swapped chain's fidelity meets the threshold (``core.serve``)."""
    if not path:
        return 0.0
    links = np.asarray(path, dtype=np.int64)
    if core.chain_fidelity(f[links]) < threshold:
        return 0.0
    budget = network.scenario.requests.max_attempts
    return float(np.prod(core.success_within_budget(p[links], budget)))


def run_paired_episode(network: core.Network, episode_seed: int, router: Router) -> dict[str, Any]:
    """One episode of ``router``; per request: ``served`` (0/1), ``probability`` (the served
    probability of its path on that slot's true values) and ``latency_ms``."""
    sim = core.Simulation(network, episode_seed)
    served, probability, latency = [], [], []
    while not sim.done:
        path = router(sim)
        p, f = sim.truth()
        threshold = sim.request.threshold
        probability.append(served_probability(network, p, f, path or [], threshold))
        outcome = sim.serve(path)
        served.append(float(outcome.served))
        latency.append(outcome.latency_ms)
    return {"served": served, "probability": probability, "latency_ms": latency}


def _pipeline(
    sim: core.Simulation, estimate: np.ndarray, chooser: Chooser, k: int | None
) -> list[int] | None:
    k = k or sim.network.scenario.k_paths
    obs, candidates = core.observation(sim.network, sim.request, sim.index, estimate, k)
    slot = int(chooser(obs, k))
    if slot >= len(candidates):
        return None
    return sim.network.path_edges(candidates[slot])


class TruthEstimateRouter:
    """The candidate pipeline (k-shortest on ``-log(s w)``, then ``chooser``) on the true
    ``(p, F)`` of the current slot. With :func:`feasible_first` it is the best of its own ``k``
    candidates, since every predicted number is then exact."""

    def __init__(self, chooser: Chooser = feasible_first, k: int | None = None, name: str = ""):
        self.chooser, self.k = chooser, k
        self.name = name or "true values + feasible-first"

    def __call__(self, sim: core.Simulation) -> list[int] | None:
        p, f = sim.truth()
        return _pipeline(sim, np.stack([p, f], axis=1), self.chooser, self.k)


class StaleTruthRouter:
    """The candidate pipeline on each link's true ``(p, F)`` at the slot of its last
    measurement (``age`` slots ago): what noise-free measurements on the real schedule give.

    Keeps the true values of every slot of the running episode (a new :class:`Simulation`
    resets it). At slot ``t`` a measurement of age ``a`` was taken on the link state of slot
    ``t - a``: probes measure the state of the slot they open, a served request's attempts the
    state of its own slot, one slot before the next probes (``core.Simulation.serve``). The
    age is that of the last ``p`` measurement; a failed attempt measures no ``F``, so the
    stale ``F`` can be fresher than the router's.
    """

    def __init__(self, chooser: Chooser = feasible_first, k: int | None = None, name: str = ""):
        self.chooser, self.k = chooser, k
        self.name = name or "stale true values + feasible-first"
        self._sim: core.Simulation | None = None
        self._history: list[np.ndarray] = []

    def estimate(self, sim: core.Simulation) -> np.ndarray:
        """``(E, 2)``: per link the true ``(p, F)`` when it was last measured."""
        if sim is not self._sim or sim.index == 0:
            self._sim, self._history = sim, []
        p, f = sim.truth()
        while len(self._history) <= sim.index:
            self._history.append(np.stack([p, f], axis=1))
        slot = sim.index - sim.observed.age.astype(np.int64)
        slot = np.clip(slot, 0, sim.index)
        history = np.stack(self._history[: sim.index + 1])  # (t + 1, E, 2)
        return history[slot, np.arange(sim.network.num_edges)]

    def __call__(self, sim: core.Simulation) -> list[int] | None:
        return _pipeline(sim, self.estimate(sim), self.chooser, self.k)


def forecast_links(
    network: core.Network,
    start: core.WorldState,
    steps: np.ndarray,
    rng: np.random.Generator,
    samples: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo forecast of every link ``steps[l]`` slots after the state ``start``: the
    mean success within budget ``E[s_l]`` and mean fidelity ``E[F_l]``, shape (E,) each.

    ``samples`` futures of the link processes (``core.advance_world``'s laws, links
    independent) are run for ``max(steps)`` slots; link ``l`` is read off at its own step.
    """
    s, e = network.scenario, network.num_edges
    budget = s.requests.max_attempts
    keep = 1.0 - s.drift.reversion
    kick = math.sqrt(1.0 - keep**2)
    shape = (samples, e)
    x_p = np.broadcast_to(start.x_p, shape).copy()
    x_f = np.broadcast_to(start.x_fidelity, shape).copy()
    burst = np.broadcast_to(start.burst_left, shape).copy()
    down = np.broadcast_to(start.down_left, shape).copy()
    steps = np.asarray(steps, dtype=np.int64)
    mean_s, mean_f = np.zeros(e), np.zeros(e)
    for step in range(int(steps.max()) + 1):
        here = steps == step
        if here.any():
            world = core.WorldState(x_p[:, here], x_f[:, here], burst[:, here], down[:, here])
            sub = _LinkSubset(network, here)
            p, f = core.true_values(sub, world)  # type: ignore[arg-type]
            mean_s[here] = core.success_within_budget(p, budget).mean(axis=0)
            mean_f[here] = f.mean(axis=0)
        if step == steps.max():
            break
        x_p = keep * x_p + kick * s.drift.p_sigma * rng.standard_normal(shape)
        x_f = keep * x_f + kick * s.drift.fidelity_sigma * rng.standard_normal(shape)
        burst = np.maximum(burst - 1, 0)
        starts = (burst == 0) & (rng.random(shape) < s.bursts.rate)
        burst = np.where(starts, rng.geometric(1.0 / s.bursts.mean_length, size=shape), burst)
        down = np.maximum(down - 1, 0)
        fails = (down == 0) & (rng.random(shape) < s.failures.rate)
        down = np.where(fails, rng.geometric(1.0 / s.failures.mean_downtime, size=shape), down)
    return mean_s, mean_f


class _LinkSubset:
    """The per-link constants of some links of a network (what ``core.true_values`` reads)."""

    def __init__(self, network: core.Network, links: np.ndarray) -> None:
        self.scenario = network.scenario
        self.p_nominal = network.p_nominal[links]
        self.fidelity_nominal = network.fidelity_nominal[links]


class ForecastRouter:
    """The clairvoyant's exact rule on a forecast from each link's *full hidden state* at the
    slot of its last measurement (drift offsets, burst and failure counters), carried forward
    to now by the link processes' own laws (:func:`forecast_links`): the expected success
    within budget and fidelity given more than any measurement reveals, measured when the real
    measurements were. A reference for what a non-clairvoyant router could reach on this
    measurement schedule (not a proved bound: it plans on per-link means).
    """

    def __init__(self, samples: int = 64, seed: int = 0, name: str = "") -> None:
        self.samples, self.seed = samples, seed
        self.name = name or "forecast from last-measured state + exact"
        self.solver = ClairvoyantRouter()
        self._sim: core.Simulation | None = None
        self._worlds: list[core.WorldState] = []

    def __call__(self, sim: core.Simulation) -> list[int]:
        if sim is not self._sim or sim.index == 0:
            self._sim, self._worlds = sim, []
            self._rng = np.random.default_rng(self.seed)
        while len(self._worlds) <= sim.index:
            self._worlds.append(sim.world)
        network, e = sim.network, sim.network.num_edges
        age = np.clip(sim.observed.age.astype(np.int64), 0, sim.index)
        slot = sim.index - age
        columns = np.arange(e)

        def gather(field: str) -> np.ndarray:
            return np.stack([getattr(w, field) for w in self._worlds])[slot, columns]

        start = core.WorldState(
            gather("x_p"), gather("x_fidelity"), gather("burst_left"), gather("down_left")
        )
        mean_s, mean_f = forecast_links(network, start, age, self._rng, self.samples)
        budget = network.scenario.requests.max_attempts
        p = -np.expm1(np.log1p(-np.minimum(mean_s, 1.0 - 1e-12)) / budget)
        return self.solver.best_path(network, sim.request, p, mean_f)


class CandidateOracleRouter:
    """Of ``estimator``'s ``k`` candidates, the one with the largest true served probability:
    the best any choice rule can do on those candidates."""

    def __init__(self, estimator: core.Estimator, k: int | None = None, name: str = ""):
        self.estimator, self.k = estimator, k
        self.name = name or "best of the predictor's candidates"

    def __call__(self, sim: core.Simulation) -> list[int]:
        network = sim.network
        k = self.k or network.scenario.k_paths
        estimate = np.asarray(self.estimator(sim.features()), dtype=np.float64)
        candidates = core.candidate_paths(network, sim.request, estimate, k)
        p, f = sim.truth()
        paths = [network.path_edges(nodes) for nodes in candidates]
        scores = [served_probability(network, p, f, path, sim.request.threshold) for path in paths]
        return paths[int(np.argmax(scores))]


class EstimatedExactRouter:
    """The clairvoyant's MILP (most probable path meeting the threshold) on ``estimator``'s
    ``(p, F)``: non-clairvoyant, no candidate restriction."""

    def __init__(self, estimator: core.Estimator, name: str = "predictor + exact"):
        self.estimator, self.name = estimator, name
        self.solver = ClairvoyantRouter()

    def __call__(self, sim: core.Simulation) -> list[int]:
        estimate = np.asarray(self.estimator(sim.features()), dtype=np.float64)
        return self.solver.best_path(sim.network, sim.request, estimate[:, 0], estimate[:, 1])


# ------------------------------------------------------------------------------ statistics
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306}


def t_quantile_95(dof: int) -> float:
    """Two-sided 95% Student-t quantile (table up to 8 degrees of freedom, then a
    Cornish-Fisher expansion accurate to 1e-3 for ``dof >= 9``)."""
    if dof in _T95:
        return _T95[dof]
    z = 1.959964
    return z + (z**3 + z) / (4 * dof) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * dof**2)


def paired_difference(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    """Mean of ``a - b`` over paired episodes with its 95% t interval (``half``: half-width)."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    n = d.size
    half = t_quantile_95(n - 1) * float(np.std(d, ddof=1)) / math.sqrt(n) if n > 1 else math.inf
    return {"mean": float(d.mean()), "half": half, "low": d.mean() - half, "high": d.mean() + half}


def gap_closed(
    method: Sequence[float],
    baseline: Sequence[float],
    bound: Sequence[float],
    resamples: int = 4000,
    seed: int = 0,
) -> dict[str, float]:
    """Fraction of the ``bound - baseline`` gap that ``method`` closes, ``(m - b) / (c - b)`` of
    the means over paired episodes, with a 95% paired bootstrap interval (episodes resampled)."""
    m, b, c = (np.asarray(x, dtype=np.float64) for x in (method, baseline, bound))

    def ratio(idx: np.ndarray | slice) -> float:
        gap = c[idx].mean() - b[idx].mean()
        return float((m[idx].mean() - b[idx].mean()) / gap) if gap > 1e-9 else math.nan

    rng = np.random.default_rng(seed)
    draws = np.array([ratio(rng.integers(0, m.size, m.size)) for _ in range(resamples)])
    draws = draws[np.isfinite(draws)]
    low, high = np.quantile(draws, [0.025, 0.975]) if draws.size else (math.nan, math.nan)
    return {"mean": ratio(slice(None)), "low": float(low), "high": float(high)}


def episode_means(runs: Sequence[dict[str, Any]], key: str) -> list[float]:
    """Per-episode mean of ``key`` (``served``, ``probability`` or ``latency_ms``)."""
    return [float(np.mean(run[key])) for run in runs]
