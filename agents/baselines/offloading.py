"""Offloading baselines and the two optima as policies, and an episode runner.

A *policy* here is a callable ``policy(env) -> actions`` on a
:class:`qnet_envs.offloading.env.OffloadingParallelEnv` that has been reset (the heuristics use
only what each agent observes: its own job and node, the advertised backlogs, the scenario's
nominal link figures; the optima read the env's true state, the clairvoyant also the step's
hidden links). Heuristics:

* ``random``: every agent samples its action space.
* ``all_local``: everything runs on the job's own node.
* ``nearest_edge``: the whole job goes to the home edge.
* ``all_cloud``: the whole job goes to the cloud.
* ``greedy``: every agent, alone, picks the target and share (the discrete variant's levels)
  of least *expected* cost: nominal rate and fidelity, outages falling back to local, the
  advertised backlog, its own job the only new work at the target.

Optima (``qnet_envs.offloading.milp`` / ``.stochastic``): ``clairvoyant`` (per-step MILP that
sees the realised links; its step cost is a lower bound for any action from the same state)
and ``stochastic`` (the two-stage stochastic program over sampled links, extensive form).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from qnet_envs.offloading import core
from qnet_envs.offloading.env import OffloadingParallelEnv
from qnet_envs.offloading.milp import solve_clairvoyant
from qnet_envs.offloading.stochastic import solve_stochastic

Policy = Callable[[OffloadingParallelEnv], dict[str, Any]]


def _as_actions(env: OffloadingParallelEnv, target: np.ndarray, share: np.ndarray) -> dict:
    k = env.scenario.share_levels
    out = {}
    for i, agent in enumerate(env.possible_agents):
        if agent not in env.agents:
            continue
        t = int(target[i])
        if env.variant == "hybrid":
            out[agent] = {"target": t, "share": np.array([share[i]], dtype=np.float32)}
        else:
            level = max(round(float(share[i]) * k) - 1, 0) if t else 0
            out[agent] = np.array([t, level], dtype=np.int64)
    return out


def random_policy(env: OffloadingParallelEnv) -> dict[str, Any]:
    return {agent: env.action_space(agent).sample() for agent in env.agents}


def all_local(env: OffloadingParallelEnv) -> dict[str, Any]:
    m = env.layout.n_mobile
    return _as_actions(env, np.zeros(m, np.int64), np.zeros(m))


def nearest_edge(env: OffloadingParallelEnv) -> dict[str, Any]:
    m = env.layout.n_mobile
    if env.scenario.n_edge == 0:
        raise ValueError("nearest_edge: the scenario has no edge node")
    return _as_actions(env, 1 + env.layout.home_edge, np.ones(m))


def all_cloud(env: OffloadingParallelEnv) -> dict[str, Any]:
    m = env.layout.n_mobile
    if env.scenario.cloud.count == 0:
        raise ValueError("all_cloud: the scenario has no cloud node")
    return _as_actions(env, np.full(m, env.layout.n_remote), np.ones(m))


def greedy_choice(layout: core.Layout, state: core.State) -> tuple[np.ndarray, np.ndarray]:
    """Every agent's least-expected-cost target and share, from what it observes."""
    sc, m, r = layout.scenario, layout.n_mobile, layout.n_remote
    jobs = state.jobs
    nominal = core.nominal_costs(layout, jobs)
    d_w, e_w = sc.latency_weight / sc.latency_scale_s, sc.energy_weight / sc.energy_scale_j
    power_local, power_remote = layout.power_w[:m], layout.power_w[m:]
    shares = layout.share_grid  # (K,)
    b_own = state.backlog_s[:m]

    def local_cost(level: np.ndarray) -> np.ndarray:  # (M, ...) cost of running `level` locally
        fits = nominal.fits_local[:, None]
        a = nominal.exec_local_s[:, None]
        latency = b_own[:, None] + a * level
        energy = power_local[:, None] * a * level
        run = d_w * latency + e_w * energy
        return np.where(fits, run, d_w * b_own[:, None] + sc.drop_penalty * level)

    stay = local_cost(np.ones((m, 1)))[:, 0]
    best_cost = stay.copy()
    best_target = np.zeros(m, np.int64)
    best_share = np.zeros(m)
    for j in range(r):
        ok = nominal.fits_remote[:, j] & nominal.reachable[:, j]
        a_j = nominal.exec_remote_s[:, j][:, None]
        tx = np.where(ok, nominal.tx_full_s[:, j], 0.0)[:, None]
        txe = np.where(ok, nominal.tx_energy_full_j[:, j], 0.0)[:, None]
        s = shares[None, :]
        here = local_cost(1.0 - s)
        remote_latency = s * tx + state.advertised_s[j] + a_j * s
        local_part = np.where(
            nominal.fits_local[:, None],
            b_own[:, None] + nominal.exec_local_s[:, None] * (1.0 - s),
            b_own[:, None],
        )
        up = (
            d_w * np.maximum(local_part, remote_latency)
            + e_w * (power_remote[j] * a_j * s + txe * s)
            + (here - d_w * local_part)  # the local part's energy or drop penalty
        )
        down = local_cost(np.ones_like(s))  # an outage sends the share back home
        expected = (1.0 - layout.outage[:, j][:, None]) * up + layout.outage[:, j][:, None] * down
        expected = np.where(ok[:, None], expected, np.inf)
        k = expected.argmin(axis=1)
        value = expected[np.arange(m), k]
        better = value < best_cost - 1e-12
        best_cost = np.where(better, value, best_cost)
        best_target = np.where(better, 1 + j, best_target)
        best_share = np.where(better, shares[k], best_share)
    return best_target, best_share


def greedy(env: OffloadingParallelEnv) -> dict[str, Any]:
    target, share = greedy_choice(env.layout, env.current)
    return _as_actions(env, target, share)


def clairvoyant(env: OffloadingParallelEnv) -> dict[str, Any]:
    """The per-step MILP on the realised links (shares on the env's grid in the discrete
    variant, continuous in the hybrid one)."""
    levels = env.scenario.share_levels if env.variant == "discrete" else None
    decision = solve_clairvoyant(env.layout, env.current, share_levels=levels)
    return _as_actions(env, decision.target, decision.share)


def stochastic_policy(n_scenarios: int = 8, seed: int = 0) -> Policy:
    """The two-stage stochastic program as a policy (its own scenario stream, seeded)."""
    rng = np.random.default_rng(seed)

    def act(env: OffloadingParallelEnv) -> dict[str, Any]:
        levels = env.scenario.share_levels if env.variant == "discrete" else None
        decision = solve_stochastic(
            env.layout, env.current, rng, n_scenarios=n_scenarios, share_levels=levels
        )
        return _as_actions(env, decision.target, decision.share)

    return act


HEURISTICS: dict[str, Policy] = {
    "random": random_policy,
    "all_local": all_local,
    "nearest_edge": nearest_edge,
    "all_cloud": all_cloud,
    "greedy": greedy,
}


@dataclasses.dataclass(frozen=True)
class EpisodeCost:
    """One episode: mean step cost and its parts, and the per-step clairvoyant lower bound on
    the same states (when asked for)."""

    mean_cost: float
    mean_latency_s: float
    mean_energy_j: float
    mean_dropped: float
    step_costs: tuple[float, ...]
    step_bounds: tuple[float, ...] | None


def run_episode(
    env: OffloadingParallelEnv, policy: Policy, seed: int, with_bound: bool = False
) -> EpisodeCost:
    """Play one episode from ``env.reset(seed)``; with ``with_bound`` also solve the
    clairvoyant MILP (continuous shares) at every visited state."""
    env.reset(seed=seed)
    costs, latency, energy, dropped, bounds = [], [], [], [], []
    while env.agents:
        if with_bound:
            bounds.append(solve_clairvoyant(env.layout, env.current).objective)
        _, _, _, _, infos = env.step(policy(env))
        info = next(iter(infos.values()))
        costs.append(info["cost"])
        latency.append(info["latency_s"])
        energy.append(info["energy_j"])
        dropped.append(info["dropped_jobs"])
    return EpisodeCost(
        mean_cost=float(np.mean(costs)),
        mean_latency_s=float(np.mean(latency)),
        mean_energy_j=float(np.mean(energy)),
        mean_dropped=float(np.mean(dropped)),
        step_costs=tuple(costs),
        step_bounds=tuple(bounds) if with_bound else None,
    )
