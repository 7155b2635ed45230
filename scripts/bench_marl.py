"""Benchmark the multi-agent trainer's env paths: agent-steps per second at 3, 100 and 1,000
agents, one torch thread, random actions (no policy) unless the row says otherwise.

Rows, all on the slot-dispersion example game (``agents.marl.examples``, 4 slots of
``MultiDiscrete([4] * 4)``, 10 rounds per episode, action masks off because TorchRL's
PettingZoo wrapper expects a mask shaped like the action, not per choice):

* ``pettingzoo dict loop``: the PettingZoo parallel env stepped directly with a dict of
  actions (no TorchRL): the cost of the per-agent dict API itself.
* ``TorchRL PettingZooWrapper``: ``torchrl.envs.PettingZooWrapper`` over that env,
  ``env.rollout`` (TorchRL's own path: a Python loop over agents inside every step).
* ``BatchedTorchEnv(StackedParallelEnv)``: our TorchRL env over the stacking adapter (the
  path any PettingZoo env takes).
* ``BatchedTorchEnv(native batched)``: our TorchRL env over an env that implements the
  batched interface itself (the path for thousands of agents); ``x16 copies``: 16 such envs
  side by side in one TorchRL env (``TrainArgs.n_envs``), every copy's steps counted.
* ``native batched, numpy only``: that env stepped with numpy arrays (no TorchRL): the floor.
* ``train ippo`` / ``train mappo``: whole PPO updates (collection with the policy + GAE +
  4 epochs) on the native batched env: agent-steps trained per second of wall time (two
  updates of 256 env steps, 64 at 1,000 agents; ``16 copies``: 1,024 steps over 16 copies).

Random actions are drawn by a tiny policy writing ``torch.randint`` into the action entry.

The machine is shared: numbers are noisy, compare rows of one run. Prints a Markdown table and
writes JSON.

Usage::

    python scripts/bench_marl.py                       # 3, 100, 1000 agents, ~2 s per row
    python scripts/bench_marl.py --agents 3 1000 --seconds 1 --out runs/bench_marl.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from agents.marl import TrainArgs, train
from agents.marl.batched import StackedParallelEnv
from agents.marl.examples import batched_env, parallel_env
from agents.marl.torch_env import BatchedTorchEnv

GAME = {"n_slots": 4, "n_items": 3, "rounds": 10, "action_masks": False}


def timed(step_chunk: Callable[[], int], seconds: float) -> tuple[int, float]:
    """Run ``step_chunk`` (returns env steps made) until ``seconds`` pass: (steps, seconds)."""
    step_chunk()  # warm-up
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        steps += step_chunk()
    return steps, time.perf_counter() - started


def pettingzoo_loop(n: int, chunk: int) -> Callable[[], int]:
    env = parallel_env(n_agents=n, **GAME)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    space = env.action_space(env.possible_agents[0])

    def run() -> int:
        for _ in range(chunk):
            if not env.agents:
                env.reset()
            actions = rng.integers(0, space.nvec, size=(n, len(space.nvec)))
            env.step({a: actions[i] for i, a in enumerate(env.agents)})
        return chunk

    return run


def numpy_loop(n: int, chunk: int) -> Callable[[], int]:
    env = batched_env(n_agents=n, **GAME)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    nvec = env.action_space.nvec

    def run() -> int:
        for _ in range(chunk):
            _, _, terminated, truncated, _ = env.step(rng.integers(0, nvec, size=(n, len(nvec))))
            if (terminated | truncated).all():
                env.reset()
        return chunk

    return run


def random_policy(env) -> Callable:
    """Uniform random choices written straight into the action entry (the action spec's own
    ``rand()`` costs ~35 ms per step at 1,000 agents for a MultiCategorical, which would be
    measured instead of the env)."""
    key = env.action_keys[0]
    shape = env.full_action_spec[key].shape
    choices = GAME["n_items"] + 1

    def act(td):
        td.set(key, torch.randint(0, choices, shape))
        return td

    return act


def torchrl_rollout(env, chunk: int) -> Callable[[], int]:
    """``env.rollout`` in chunks with auto-reset; counts env steps of every copy."""
    env.set_seed(0)
    policy = random_policy(env)
    copies = env.batch_size.numel()

    def run() -> int:
        env.rollout(chunk, policy, break_when_any_done=False)
        return chunk * copies

    return run


def wrapper_env(n: int):
    from torchrl.envs.libs.pettingzoo import PettingZooWrapper

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the version-tested warning
        return PettingZooWrapper(
            env=parallel_env(n_agents=n, **GAME), use_mask=False, categorical_actions=True
        )


def train_rate(n: int, critic: str, batch: int, n_envs: int = 1) -> tuple[int, float]:
    env_fn = lambda: batched_env(n_agents=n, **GAME)  # noqa: E731
    args = TrainArgs(
        total_steps=2 * batch,
        steps_per_batch=batch,
        minibatch_size=batch // 4,
        critic=critic,
        n_envs=n_envs,
    )
    result = train(env_fn, args)
    return result.steps, result.wall_time_s


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", nargs="+", type=int, default=[3, 100, 1000])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per row")
    parser.add_argument("--out", type=Path, default=Path("runs") / "bench_marl.json")
    parser.add_argument("--no-train", action="store_true", help="skip the training rows")
    args = parser.parse_args(argv)
    if min(args.agents) < 1 or args.seconds <= 0:
        parser.error("--agents must be >= 1 and --seconds > 0")
    torch.set_num_threads(1)
    rows: list[dict] = []

    def record(path: str, n: int, steps: int, seconds: float) -> None:
        rate = steps * n / seconds
        rows.append(
            {
                "path": path,
                "n_agents": n,
                "env_steps": steps,
                "seconds": seconds,
                "agent_steps_per_s": rate,
            }
        )
        print(f"{path:40s} {n:6d} agents {rate:14,.0f} agent-steps/s", flush=True)

    for n in args.agents:
        chunk = max(1, 2000 // n)
        record("pettingzoo dict loop", n, *timed(pettingzoo_loop(n, chunk), args.seconds))
        record(
            "TorchRL PettingZooWrapper",
            n,
            *timed(torchrl_rollout(wrapper_env(n), chunk), args.seconds),
        )
        stacked = BatchedTorchEnv(StackedParallelEnv(parallel_env(n_agents=n, **GAME)))
        record(
            "BatchedTorchEnv(StackedParallelEnv)",
            n,
            *timed(torchrl_rollout(stacked, chunk), args.seconds),
        )
        native = BatchedTorchEnv(batched_env(n_agents=n, **GAME))
        record(
            "BatchedTorchEnv(native batched)",
            n,
            *timed(torchrl_rollout(native, chunk), args.seconds),
        )
        if n <= 100:
            copies = BatchedTorchEnv([batched_env(n_agents=n, **GAME) for _ in range(16)])
            record(
                "BatchedTorchEnv(native batched) x16 copies",
                n,
                *timed(torchrl_rollout(copies, max(1, chunk // 16)), args.seconds),
            )
        record("native batched, numpy only", n, *timed(numpy_loop(n, chunk), args.seconds))
        if not args.no_train:
            batch = 256 if n <= 100 else 64
            record("train ippo (native batched)", n, *train_rate(n, "ippo", batch))
            if n <= 100:
                record("train mappo (native batched)", n, *train_rate(n, "mappo", batch))
                record(
                    "train mappo, 16 copies (native batched)",
                    n,
                    *train_rate(n, "mappo", 1024, n_envs=16),
                )

    print()
    print("| path | agents | agent-steps/s |")
    print("|---|---:|---:|")
    for row in rows:
        print(f"| {row['path']} | {row['n_agents']:,} | {row['agent_steps_per_s']:,.0f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "torch": torch.__version__, "game": GAME}
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    return rows


if __name__ == "__main__":
    main()
