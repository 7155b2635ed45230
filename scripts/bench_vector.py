"""Benchmark: the batched routing vector env against CartPole-v1's vector env, and MaskablePPO on
it against SB3's DummyVecEnv over single envs.

Two parts, each with its reference in the same process:

* **env steps/s** at ``N`` in ``--num-envs`` (default 1, 64, 1024, 4096):
  ``gym.make_vec("qnet_envs/SwapRouting-v0", num_envs=N, scenario=..., vectorization_mode=
  "vector_entry_point")`` (it has no transition cache: every step recomputes every sub-env)
  stepped with random *valid* actions (chosen from the batched masks with a few array
  operations, counted in its time), against ``gym.make_vec("CartPole-v1", num_envs=N,
  vectorization_mode="vector_entry_point")`` with pre-drawn random actions. Both autoreset
  (NEXT_STEP). Each round times both at every N one after the other; ratios are taken within
  a round.
* **MaskablePPO wall time to the first oracle-optimal route** (the paper's metric, counted by
  ``agents.ppo.FirstOptimalCallback``) on ``--ppo-scenario`` (default ``white-noise-16``), the
  same hyperparameters and seed on ``agents.sb3_vector.SB3RoutingVecEnv`` (the native env) and
  on ``agents.ppo.make_env`` (SB3 ``DummyVecEnv`` over ``Monitor(gym.make(...))`` single envs,
  as shipped, i.e. with their transition cache on). The two envs play the same games, so both
  runs take (nearly) the same actions to the optimum and the ratio is one of speed.

Targets (issue 12): >= 1,000,000 env-steps/s at N = 4096 on 2 cores; MaskablePPO >= 5x faster
than with DummyVecEnv. The load average (``os.getloadavg``) is recorded before and after each
part: on a shared machine both sides of a ratio are slowed, unevenly.

Usage: ``python scripts/bench_vector.py [--repeats 3] [--skip-ppo] [--json runs/bench_vector.json]``
(``--help`` lists every option and default).
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
from qnet_envs.routing.env import resolve_scenario

DEFAULT_JSON = Path(__file__).resolve().parents[1] / "runs" / "bench_vector.json"


def random_valid_actions(masks: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """For each row, the ``draws[i] % count``-th valid slot (slot 0 when none is valid)."""
    counts = masks.sum(axis=1)
    target = draws % np.maximum(counts, 1)
    return np.argmax(np.cumsum(masks, axis=1) > target[:, None], axis=1)


def timed(loop: Any, env_steps: int) -> tuple[float, float]:
    """``(env-steps per wall-clock second, per CPU second of this process)`` of ``loop()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    loop()
    return env_steps / (time.perf_counter() - wall), env_steps / (time.process_time() - cpu)


def bench_ours(scenario: str, num_envs: int, steps: int, seed: int) -> tuple[float, float]:
    env = gym.make_vec(
        "qnet_envs/SwapRouting-v0",
        num_envs=num_envs,
        scenario=scenario,
        vectorization_mode="vector_entry_point",
    )
    draws = np.random.default_rng(seed).integers(0, 1 << 30, size=(64, num_envs))
    _, info = env.reset(seed=seed)

    def loop() -> None:
        masks = info["action_mask"]
        for k in range(steps):
            masks = env.step(random_valid_actions(masks, draws[k % 64]))[4]["action_mask"]

    return timed(loop, steps * num_envs)


def bench_cartpole(num_envs: int, steps: int, seed: int) -> tuple[float, float]:
    env = gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="vector_entry_point")
    actions = np.random.default_rng(seed).integers(0, 2, size=(64, num_envs))
    env.reset(seed=seed)

    def loop() -> None:
        for k in range(steps):
            env.step(actions[k % 64])

    return timed(loop, steps * num_envs)


def steps_for(num_envs: int, env_steps: int) -> int:
    """Vector steps so that about ``env_steps`` env-steps are timed (200 to 5,000 steps)."""
    return min(5_000, max(200, env_steps // num_envs))


def bench_throughput(args: argparse.Namespace) -> dict[str, Any]:
    rounds = []
    for k in range(args.repeats):
        row = {}
        for n in args.num_envs:
            steps = steps_for(n, args.env_steps)
            ours, ours_cpu = bench_ours(args.scenario, n, steps, args.seed + k)
            cartpole, cartpole_cpu = bench_cartpole(n, steps, args.seed + k)
            row[str(n)] = {
                "ours": ours,
                "cartpole": cartpole,
                "ratio": ours / cartpole,
                "ours_cpu": ours_cpu,
                "cartpole_cpu": cartpole_cpu,
                "ratio_cpu": ours_cpu / cartpole_cpu,
            }
            print(
                f"round {k + 1}/{args.repeats} N={n}: ours {ours:,.0f}/s "
                f"({ours_cpu:,.0f}/CPU-s), CartPole {cartpole:,.0f}/s ({cartpole_cpu:,.0f}/CPU-s)",
                flush=True,
            )
        rounds.append(row)
    summary = {
        str(n): {key: spread([r[str(n)][key] for r in rounds]) for key in rounds[0][str(n)]}
        for n in args.num_envs
    }
    return {"rounds": rounds, "summary": summary}


def bench_ppo(args: argparse.Namespace) -> dict[str, Any]:
    import torch
    from sb3_contrib import MaskablePPO

    from agents.ppo import FirstOptimalCallback, make_env, optimal_fidelity_of
    from agents.sb3_vector import SB3RoutingVecEnv

    torch.set_num_threads(1)
    scenario = resolve_scenario(args.ppo_scenario)
    optimal = optimal_fidelity_of(scenario)
    builders = {
        "native": lambda: SB3RoutingVecEnv(args.ppo_envs, scenario),
        "dummy_vec_env": lambda: make_env(scenario, n_envs=args.ppo_envs),
    }
    seeds = []
    for seed in args.ppo_seeds:
        runs = {}
        for name, build in builders.items():
            venv = build()
            model = MaskablePPO(
                "MlpPolicy",
                venv,
                n_steps=args.ppo_n_steps,
                batch_size=args.ppo_batch_size,
                n_epochs=args.ppo_epochs,
                seed=seed,
                device="cpu",
            )
            found = FirstOptimalCallback(optimal, scenario.figure_of_merit, stop_on_found=True)
            start, cpu_start = time.perf_counter(), time.process_time()
            model.learn(args.ppo_timesteps, callback=found)
            wall = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            runs[name] = {
                "wall_time_s": wall,
                "cpu_time_s": cpu,
                "timesteps": int(model.num_timesteps),
                "first_optimal_step": found.found_step,
                "found": found.found,
                "best_fidelity": found.best_fidelity,
                "steps_per_s": model.num_timesteps / wall,
                "updates": int(model.num_timesteps) // (args.ppo_n_steps * args.ppo_envs),
            }
            print(f"seed {seed}, MaskablePPO on {name}: {runs[name]}", flush=True)
        native, dummy = runs["native"], runs["dummy_vec_env"]
        seeds.append(
            {
                "seed": seed,
                "runs": runs,
                "wall_time_ratio": dummy["wall_time_s"] / native["wall_time_s"],
                "cpu_time_ratio": dummy["cpu_time_s"] / native["cpu_time_s"],
                "both_found": native["found"] and dummy["found"],
            }
        )
    return {
        "scenario": scenario.name,
        "optimal_fidelity": optimal,
        "seeds": seeds,
        "wall_time_ratio": spread([s["wall_time_ratio"] for s in seeds]),
        "cpu_time_ratio": spread([s["cpu_time_ratio"] for s in seeds]),
    }


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def _range(values: dict[str, float], digits: int) -> str:
    low, mid, high = (f"{values[k]:,.{digits}f}" for k in ("min", "median", "max"))
    return f"{mid} ({low}-{high})"


def table(args: argparse.Namespace, result: dict[str, Any]) -> str:
    lines = [
        f"{args.repeats} round(s); median (min-max) over the rounds; load average "
        f"{result['load_before_throughput']} before, {result['load_after_throughput']} after",
        "",
        "Wall clock, and per CPU second of the benchmark process (what the process got of the",
        "shared cores: a less load-dependent reading; both envs are single-threaded).",
        "",
        f"| N | ours ({args.scenario}) env-steps/s | CartPole-v1 vector env-steps/s | ours / it "
        "| ours per CPU-s | CartPole per CPU-s | ours / it (CPU) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in args.num_envs:
        row = result["throughput"]["summary"][str(n)]
        lines.append(
            f"| {n:,} | {_range(row['ours'], 0)} | {_range(row['cartpole'], 0)} | "
            f"{_range(row['ratio'], 2)} | {_range(row['ours_cpu'], 0)} | "
            f"{_range(row['cartpole_cpu'], 0)} | {_range(row['ratio_cpu'], 2)} |"
        )
    ppo = result.get("ppo")
    if ppo:
        lines += [
            "",
            f"MaskablePPO to the first oracle-optimal route on {ppo['scenario']} "
            f"(F = {ppo['optimal_fidelity']:.4f}), {args.ppo_envs} envs, n_steps "
            f"{args.ppo_n_steps}, batch {args.ppo_batch_size}, {args.ppo_epochs} epochs; "
            f"load average {result['load_before_ppo']} before, "
            f"{result['load_after_ppo']} after",
            "",
            "| seed | env | wall time (s) | CPU time (s) | actions to the optimum | PPO updates "
            "before it | env-steps/s in training | DummyVecEnv / native, wall (CPU) |",
            "|---:|---|---:|---:|---:|---:|---:|---:|",
        ]
        for entry in ppo["seeds"]:
            for name, label in (
                ("native", "SB3RoutingVecEnv (native)"),
                ("dummy_vec_env", "DummyVecEnv over single envs"),
            ):
                run = entry["runs"][name]
                ratio = (
                    f"{entry['wall_time_ratio']:.2f} ({entry['cpu_time_ratio']:.2f})"
                    if name == "native"
                    else ""
                )
                lines.append(
                    f"| {entry['seed']} | {label} | {run['wall_time_s']:.1f} | "
                    f"{run['cpu_time_s']:.1f} | "
                    f"{run['first_optimal_step'] or 'not found'} | {run['updates']} | "
                    f"{run['steps_per_s']:,.0f} | {ratio} |"
                )
        lines.append(
            f"\nwall-time ratio DummyVecEnv / native, median (min-max) over seeds: "
            f"{_range(ppo['wall_time_ratio'], 2)}; CPU time: {_range(ppo['cpu_time_ratio'], 2)}"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--scenario", default="white-noise-16", help="throughput scenario")
    parser.add_argument("--num-envs", type=int, nargs="+", default=[1, 64, 1024, 4096])
    parser.add_argument(
        "--env-steps", type=int, default=400_000, help="env-steps timed per N, env and round"
    )
    parser.add_argument("--repeats", type=int, default=3, help="throughput rounds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-ppo", action="store_true", help="time the env steps only")
    parser.add_argument("--ppo-scenario", default="white-noise-16")
    parser.add_argument("--ppo-envs", type=int, default=1024)
    parser.add_argument("--ppo-n-steps", type=int, default=8)
    parser.add_argument("--ppo-batch-size", type=int, default=2048)
    parser.add_argument("--ppo-epochs", type=int, default=4)
    parser.add_argument(
        "--ppo-timesteps", type=int, default=400_000, help="training budget per run"
    )
    parser.add_argument("--ppo-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    for name in ("env_steps", "repeats", "ppo_envs", "ppo_n_steps", "ppo_timesteps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if min(args.num_envs) < 1:
        parser.error("--num-envs must all be >= 1")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    resolve_scenario(args.scenario)
    result: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    result["load_before_throughput"] = [round(x, 2) for x in os.getloadavg()]
    result["throughput"] = bench_throughput(args)
    result["load_after_throughput"] = [round(x, 2) for x in os.getloadavg()]
    if not args.skip_ppo:
        result["load_before_ppo"] = [round(x, 2) for x in os.getloadavg()]
        result["ppo"] = bench_ppo(args)
        result["load_after_ppo"] = [round(x, 2) for x in os.getloadavg()]
    result.update(python=platform.python_version(), machine=platform.machine(), cpus=os.cpu_count())
    print(table(args, result))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.json}")
    return result


if __name__ == "__main__":
    main()
