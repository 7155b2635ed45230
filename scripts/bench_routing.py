"""Benchmark: swap-routing env steps per second against CartPole-v1 and a QuTiP step.

All three run in this one process, so the ratios are what matter:

* ``qnet_envs``: ``gym.make("qnet_envs/SwapRouting-v0", scenario=...)`` with its default
  wrappers, random *valid* actions (so every step is a real swap), resetting on episode end;
  once as shipped (remembering transitions: ``SwapRoutingEnv.step_cache_size``) and once with
  the cache off (every step recomputes the swap, the observation and the info);
* ``CartPole-v1``: ``gym.make("CartPole-v1")`` with random actions, resetting on episode end;
* ``QuTiP step``: the same walks' swaps and singlet fidelities computed with QuTiP
  (tensor product, Bell projector, partial trace), i.e. what one env step costs when the physics
  is done with the reference library instead of our precompiled linear maps.

Targets (issue): ours >= 0.5 x CartPole, ours >= 20 x the QuTiP step.

Usage: ``python scripts/bench_routing.py [--scenario white-noise-16] [--steps 100000]
[--json bench_routing.json]``
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import qnet_envs  # noqa: F401  (registers the ids)
from qnet_envs.routing import core
from qnet_envs.routing.scenario import Scenario


def bench_ours(
    scenario: str, steps: int, seed: int, cache: bool = True
) -> tuple[float, list[tuple[int, ...]]]:
    env = gym.make("qnet_envs/SwapRouting-v0", scenario=scenario)
    if not cache:
        env.unwrapped.step_cache_size = 0
    choices = np.random.default_rng(seed).integers(0, 1 << 30, size=steps).tolist()
    # The valid slots of each possible mask, so that choosing an action costs the driver little.
    valid_slots = {
        np.array(bits, dtype=bool).tobytes(): tuple(np.flatnonzero(bits).tolist())
        for bits in np.ndindex(*(2,) * 4)
    }
    _, info = env.reset(seed=seed)
    routes = []
    start = time.perf_counter()
    for r in choices:
        valid = valid_slots[info["action_mask"].tobytes()]
        _, _, terminated, truncated, info = env.step(valid[r % len(valid)])
        if terminated or truncated:
            routes.append(info["route"])
            _, info = env.reset()
    elapsed = time.perf_counter() - start
    return steps / elapsed, routes


def bench_cartpole(steps: int, seed: int) -> float:
    env = gym.make("CartPole-v1")
    actions = np.random.default_rng(seed).integers(0, 2, size=steps).tolist()
    env.reset(seed=seed)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def bench_qutip(scenario: Scenario, routes: list[tuple[int, ...]], steps: int) -> float:
    """Replays the routes' swaps with QuTiP; returns swaps per second."""
    import qutip

    zero, one = qutip.basis(2, 0), qutip.basis(2, 1)
    singlet = (qutip.tensor(zero, one) - qutip.tensor(one, zero)).unit()
    projector = qutip.tensor(qutip.qeye(2), singlet.proj(), qutip.qeye(2))
    network = core.Network.compile(scenario)
    links = {}
    for node in range(scenario.num_nodes):
        for slot, edge in enumerate(network.slot_edge[node]):
            if edge >= 0:
                rho = network.slot_state[node, slot].reshape(4, 4)
                links[node, int(edge)] = qutip.Qobj(rho, dims=[[2, 2], [2, 2]])
    done = 0
    start = time.perf_counter()
    while done < steps:
        for route in routes:
            held, node = singlet.proj(), scenario.alice
            for edge in route:
                joint = qutip.tensor(held, links[node, edge])
                reduced = (projector * joint * projector).ptrace([0, 3])
                held = reduced / reduced.tr()
                qutip.expect(held, singlet)
                u, v = scenario.edges[edge]
                node = int(v) if node == u else int(u)
                done += 1
            if done >= steps:
                break
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="white-noise-16")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--qutip-steps", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=Path("bench_routing.json"))
    args = parser.parse_args()

    scenario = Scenario.load(args.scenario)
    cartpole = bench_cartpole(args.steps, args.seed)
    ours, routes = bench_ours(args.scenario, args.steps, args.seed)
    uncached, _ = bench_ours(args.scenario, args.steps, args.seed, cache=False)
    qutip_rate = bench_qutip(scenario, [r for r in routes if r], args.qutip_steps)
    result = {
        "scenario": args.scenario,
        "steps": args.steps,
        "qnet_envs_steps_per_s": ours,
        "qnet_envs_uncached_steps_per_s": uncached,
        "cartpole_steps_per_s": cartpole,
        "qutip_steps_per_s": qutip_rate,
        "ratio_to_cartpole": ours / cartpole,
        "ratio_to_qutip": ours / qutip_rate,
        "uncached_ratio_to_cartpole": uncached / cartpole,
        "uncached_ratio_to_qutip": uncached / qutip_rate,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print("| what | steps/s | ours / it | ours uncached / it |\n|---|---:|---:|---:|")
    print(f"| qnet_envs SwapRouting-v0 ({args.scenario}) | {ours:,.0f} | 1.00 | — |")
    print(f"| same, transition cache off | {uncached:,.0f} | {ours / uncached:.2f} | 1.00 |")
    print(
        f"| gymnasium CartPole-v1 | {cartpole:,.0f} | {ours / cartpole:.2f} | "
        f"{uncached / cartpole:.2f} |"
    )
    print(
        f"| QuTiP swap + fidelity | {qutip_rate:,.0f} | {ours / qutip_rate:.1f} | "
        f"{uncached / qutip_rate:.1f} |"
    )
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
