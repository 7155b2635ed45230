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

Each of the ``--repeats`` rounds measures all of them once, one after the other, and takes the
ratios within the round (so both sides of a ratio saw the same machine load); the report gives
the minimum, median and maximum over the rounds. QuTiP is optional (it comes with the ``dev``
extra, not ``agents``): without it the QuTiP rows are skipped and the reason is printed.

Usage: ``python scripts/bench_routing.py [--scenario white-noise-16] [--steps 100000]
[--repeats 3] [--json runs/bench_routing.json]`` (``--help`` lists every option and default).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import qnet_envs  # noqa: F401  (registers the ids)
from qnet_envs.routing import core
from qnet_envs.routing.env import resolve_scenario
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


RATES = {
    "qnet_envs_steps_per_s": "qnet_envs SwapRouting-v0",
    "qnet_envs_uncached_steps_per_s": "same, transition cache off",
    "cartpole_steps_per_s": "gymnasium CartPole-v1",
    "qutip_steps_per_s": "QuTiP swap + fidelity",
}
DEFAULT_JSON = Path(__file__).resolve().parents[1] / "runs" / "bench_routing.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--scenario", default="white-noise-16", help="shipped scenario name or TOML path"
    )
    parser.add_argument(
        "--steps", type=int, default=100_000, help="env steps timed per env and round"
    )
    parser.add_argument(
        "--qutip-steps", type=int, default=5_000, help="QuTiP swaps timed per round"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="rounds; the report gives min, median and max"
    )
    parser.add_argument("--seed", type=int, default=0, help="seeds the random actions")
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help="where the results go (runs/ is git-ignored); its folder is created",
    )
    args = parser.parse_args(argv)
    for name in ("steps", "qutip_steps", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    return args


def qutip_missing() -> str | None:
    """Why the QuTiP reference cannot run here, or ``None`` if it can."""
    try:
        import qutip  # noqa: F401
    except ImportError as error:
        return f"{error}; pip install qutip (or the project's [dev] extra) to time it"
    return None


def one_round(args: argparse.Namespace, seed: int, with_qutip: bool) -> dict[str, float | None]:
    """Every rate of one round, steps per second (``qutip_steps_per_s`` ``None`` if skipped)."""
    cartpole = bench_cartpole(args.steps, seed)
    ours, routes = bench_ours(args.scenario, args.steps, seed)
    uncached, _ = bench_ours(args.scenario, args.steps, seed, cache=False)
    qutip_rate = None
    if with_qutip:
        scenario = resolve_scenario(args.scenario)
        qutip_rate = bench_qutip(scenario, [r for r in routes if r], args.qutip_steps)
    return {
        "qnet_envs_steps_per_s": ours,
        "qnet_envs_uncached_steps_per_s": uncached,
        "cartpole_steps_per_s": cartpole,
        "qutip_steps_per_s": qutip_rate,
    }


def spread(values: list[float]) -> dict[str, float]:
    """``min``, ``median`` and ``max`` of ``values``."""
    return {
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
    }


def summarise(rounds: list[dict[str, float | None]]) -> dict[str, dict[str, float] | None]:
    """Spread of every rate and of every ratio (taken within each round)."""
    summary: dict[str, dict[str, float] | None] = {}
    for key in RATES:
        values = [r[key] for r in rounds]
        summary[key] = None if None in values else spread(values)
    for ours in ("qnet_envs_steps_per_s", "qnet_envs_uncached_steps_per_s"):
        prefix = "" if ours == "qnet_envs_steps_per_s" else "uncached_"
        for other, name in (("cartpole_steps_per_s", "cartpole"), ("qutip_steps_per_s", "qutip")):
            ratios = [r[ours] / r[other] for r in rounds if r[other] is not None]
            summary[f"{prefix}ratio_to_{name}"] = spread(ratios) if ratios else None
    return summary


def _range(values: dict[str, float] | None, digits: int) -> str:
    if values is None:
        return "skipped"
    low, mid, high = (f"{values[k]:,.{digits}f}" for k in ("min", "median", "max"))
    return f"{mid} ({low}-{high})"


def table(args: argparse.Namespace, summary: dict[str, Any]) -> str:
    """The Markdown table: median (min-max) over the rounds."""
    lines = [
        f"{args.repeats} round(s) of {args.steps:,} steps; median (min-max) over the rounds",
        "",
        "| what | steps/s | ours / it | ours, cache off / it |",
        "|---|---:|---:|---:|",
        f"| {RATES['qnet_envs_steps_per_s']} ({args.scenario}) | "
        f"{_range(summary['qnet_envs_steps_per_s'], 0)} | 1 | |",
        f"| {RATES['qnet_envs_uncached_steps_per_s']} | "
        f"{_range(summary['qnet_envs_uncached_steps_per_s'], 0)} | | 1 |",
        f"| {RATES['cartpole_steps_per_s']} | {_range(summary['cartpole_steps_per_s'], 0)} | "
        f"{_range(summary['ratio_to_cartpole'], 2)} | "
        f"{_range(summary['uncached_ratio_to_cartpole'], 2)} |",
        f"| {RATES['qutip_steps_per_s']} | {_range(summary['qutip_steps_per_s'], 0)} | "
        f"{_range(summary['ratio_to_qutip'], 1)} | "
        f"{_range(summary['uncached_ratio_to_qutip'], 1)} |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    resolve_scenario(args.scenario)  # a bad name fails before anything is timed
    missing = qutip_missing()
    if missing:
        print(f"QuTiP reference skipped: {missing}")
    rounds = []
    for k in range(args.repeats):
        rounds.append(one_round(args, args.seed + k, with_qutip=missing is None))
        print(
            f"round {k + 1}/{args.repeats}: "
            + ", ".join(
                f"{RATES[key]} {value:,.0f}/s" for key, value in rounds[-1].items() if value
            )
        )
    summary = summarise(rounds)
    result = {
        "scenario": args.scenario,
        "steps": args.steps,
        "qutip_steps": args.qutip_steps,
        "repeats": args.repeats,
        "seed": args.seed,
        "qutip_skipped": missing,
        "rounds": rounds,
        "summary": summary,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    print(table(args, summary))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
