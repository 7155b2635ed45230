"""Benchmark RLlib PPO's throughput with 1 and 2 env runners, and the env's own step rate.

For each env (default: the routing env on ``white-noise-16`` and ``planning_v0`` on its
``tiny`` instance, both with action masks; ``--envs offloading`` adds ``offloading_v0`` on
``tiny``) and each number of env runners, builds the PPO config of ``scripts/train_rllib.py``,
runs one warm-up iteration and ``--iterations`` timed ones, and reports, as medians over the
timed iterations:

* ``env-steps/s``: env steps sampled per second of a whole training iteration (sampling,
  then the PPO update; what a user sees);
* ``sampling env-steps/s``: env steps per second of RLlib's sampling phase alone
  (``env_runner_sampling_timer``);
* ``env share``: RLlib's mean env step time (``env_step_timer``) times the steps a runner
  took, over the sampling time: the part of sampling spent inside the env's ``step``.

In the same run it steps the same env stack (masking wrapper, ``ParallelPettingZooEnv``)
directly in this process with random valid actions, no policy: the env's raw step rate, an
upper bound on what one env runner can sample. Ratios 2 runners / 1 runner are printed per
env. The machine's load average is recorded before and after. Writes JSON; prints Markdown.

Usage::

    python scripts/bench_rllib.py                                # ~3-5 min on 2 shared cores
    python scripts/bench_rllib.py --iterations 2 --out runs/bench_rllib.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ENVS = {
    "routing": ("qnet_envs/SwapRouting-v0", {"scenario": "white-noise-16"}),
    "planning": ("planning_v0", {"instance": "tiny"}),
    "offloading": ("offloading_v0", {"scenario": "tiny"}),
}


def find(result: dict[str, Any], key: str) -> float | None:
    """The first value of ``key`` anywhere in a nested training result."""
    if key in result and not isinstance(result[key], dict):
        return float(result[key])
    for value in result.values():
        if isinstance(value, dict):
            found = find(value, key)
            if found is not None:
                return found
    return None


def random_masked(space: Any, mask: np.ndarray, rng: np.random.Generator) -> Any:
    """A uniformly random action among the valid values of each component."""
    nvec = np.atleast_1d(getattr(space, "nvec", getattr(space, "n", None)))
    parts = np.split(mask, np.cumsum(nvec)[:-1])
    values = [int(rng.choice(np.flatnonzero(p))) if p.any() else 0 for p in parts]
    return values[0] if not hasattr(space, "nvec") else np.array(values)


def raw_rate(env_name: str, kwargs: dict[str, Any], seconds: float) -> float:
    """Env steps per second of the RLlib-facing env stack, stepped here with random actions."""
    from agents.rllib.envs import is_parallel, make_env

    env = make_env({"env": env_name, "kwargs": kwargs, "mask": True})
    rng = np.random.default_rng(0)
    parallel = is_parallel(env_name)
    obs, _ = env.reset(seed=0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        if parallel:
            actions = {
                a: random_masked(env.action_space[a], o["action_mask"], rng) for a, o in obs.items()
            }
            obs, _, terminated, truncated, _ = env.step(actions)
            done = terminated["__all__"] or truncated["__all__"]
        else:
            action = random_masked(env.action_space, obs["action_mask"], rng)
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
        steps += 1
        if done:
            obs, _ = env.reset()
    return steps / (time.perf_counter() - start)


def bench_rllib(
    env_name: str, kwargs: dict[str, Any], runners: int, iterations: int, batch: int
) -> dict[str, Any]:
    """Median throughput of ``iterations`` PPO iterations with ``runners`` env runners."""
    from agents.rllib.envs import build_config

    config = build_config(
        env_name,
        kwargs,
        num_env_runners=runners,
        train_batch_size=batch,
        minibatch_size=batch // 4,
        num_epochs=4,
    )
    algo = config.build_algo()
    algo.train()  # warm-up: actors started, first episodes begun
    rows = []
    for _ in range(iterations):
        start = time.perf_counter()
        result = algo.train()
        wall = time.perf_counter() - start
        steps = float(result["env_runners"]["num_env_steps_sampled"])
        sampling = find(result, "env_runner_sampling_timer") or float("nan")
        step_time = find(result, "env_step_timer") or float("nan")
        rows.append(
            {
                "wall_s": wall,
                "env_steps": steps,
                "env_steps_per_s": steps / wall,
                "sampling_s": sampling,
                "sampling_env_steps_per_s": steps / sampling,
                "env_step_s": step_time,
                "env_share_of_sampling": step_time * steps / max(runners, 1) / sampling,
            }
        )
    algo.stop()
    median = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    return {"env_runners": runners, "iterations": rows, "median": median}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", nargs="+", default=["routing", "planning"], choices=list(ENVS))
    parser.add_argument("--runners", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--train-batch-size", type=int, default=1000)
    parser.add_argument("--raw-seconds", type=float, default=3.0)
    parser.add_argument("--out", default="docs/rllib-bench.json")
    args = parser.parse_args()
    if args.iterations < 1 or min(args.runners) < 0 or args.train_batch_size < 4:
        parser.error("--iterations >= 1, --runners >= 0, --train-batch-size >= 4")

    import ray
    import torch

    torch.set_num_threads(1)
    load_before = os.getloadavg()
    ray.init(num_cpus=max(os.cpu_count() or 1, max(args.runners) + 1), include_dashboard=False)
    results: dict[str, Any] = {}
    for key in args.envs:
        env_name, kwargs = ENVS[key]
        raw = raw_rate(env_name, kwargs, args.raw_seconds)
        runs = [
            bench_rllib(env_name, kwargs, n, args.iterations, args.train_batch_size)
            for n in args.runners
        ]
        results[key] = {"env": env_name, "kwargs": kwargs, "raw_env_steps_per_s": raw, "runs": runs}
    ray.shutdown()
    load_after = os.getloadavg()
    meta = {
        "cpu_count": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "python": platform.python_version(),
        "ray": ray.__version__,
        "torch": torch.__version__,
        "train_batch_size": args.train_batch_size,
        "iterations": args.iterations,
        "time": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")

    print(f"load average {load_before} before, {load_after} after; batch {args.train_batch_size}")
    print(
        "| env | env runners | env-steps/s (iteration) | sampling env-steps/s | env share of "
        "sampling | raw env-steps/s (no RLlib) | raw / sampling |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for entry in results.values():
        for run in entry["runs"]:
            m = run["median"]
            print(
                f"| {entry['env']} {entry['kwargs']} | {run['env_runners']} | "
                f"{m['env_steps_per_s']:,.0f} | {m['sampling_env_steps_per_s']:,.0f} | "
                f"{m['env_share_of_sampling']:.2f} | {entry['raw_env_steps_per_s']:,.0f} | "
                f"{entry['raw_env_steps_per_s'] / m['sampling_env_steps_per_s']:.1f} |"
            )
        by = {run["env_runners"]: run["median"] for run in entry["runs"]}
        if 1 in by and 2 in by:
            print(
                f"{entry['env']}: 2 runners / 1 runner = "
                f"{by[2]['env_steps_per_s'] / by[1]['env_steps_per_s']:.2f} (iteration), "
                f"{by[2]['sampling_env_steps_per_s'] / by[1]['sampling_env_steps_per_s']:.2f} "
                f"(sampling)"
            )


if __name__ == "__main__":
    main()
