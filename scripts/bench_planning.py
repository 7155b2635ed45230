"""Benchmark the planning env: steps and agent-steps per second at Abilene, Cogentco and Kdl
scale, the batched array interface against the PettingZoo dict API in the same run.

Rows per instance (random valid levels drawn once per step with numpy, the episode reset
every ``rounds`` steps):

* ``pettingzoo dict``: ``qnet_envs.planning.parallel_env`` stepped with a dict of actions (one
  entry per agent, infos per agent): the reference.
* ``batched``: ``qnet_envs.planning.batched_env`` stepped with one ``(n_agents, k)`` array.
* ``batched + state``: the same and ``state()`` every step (the centralised critic's input).

The ratio column is batched over PettingZoo steps/s. Loading an instance (Yen paths for every
demand) is timed separately and not part of the step rate. The machine is shared: compare rows
of one run. Prints a Markdown table and writes JSON.

Usage::

    python scripts/bench_planning.py                              # abilene cogentco kdl, 2 s a row
    python scripts/bench_planning.py --instances abilene --seconds 1 --out runs/bench_planning.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from qnet_envs.planning import Instance, batched_env, parallel_env


def timed(chunk: Callable[[], int], seconds: float) -> tuple[int, float]:
    """Run ``chunk`` (returns env steps made) until ``seconds`` pass: (steps, seconds)."""
    chunk()  # warm-up
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        steps += chunk()
    return steps, time.perf_counter() - started


def bench_instance(name: str, seconds: float) -> list[dict]:
    started = time.perf_counter()
    instance = Instance.load(name)
    _ = instance.paths
    load_s = time.perf_counter() - started
    batched = batched_env(instance=instance)
    parallel = parallel_env(instance=instance)
    rng = np.random.default_rng(0)
    layout = batched.layout
    actions = [
        rng.integers(0, layout.levels + 1, size=(layout.n_agents, layout.k)) * layout.slot_usable
        for _ in range(layout.rounds)
    ]

    def run_parallel() -> int:
        parallel.reset(seed=0)
        for levels in actions:
            parallel.step({a: levels[i] for i, a in enumerate(parallel.possible_agents)})
        return layout.rounds

    def run_batched(with_state: bool) -> Callable[[], int]:
        def chunk() -> int:
            batched.reset(seed=0)
            for levels in actions:
                batched.step(levels)
                if with_state:
                    batched.state()
            return layout.rounds

        return chunk

    rows = []
    reference = None
    for label, chunk in (
        ("pettingzoo dict", run_parallel),
        ("batched", run_batched(False)),
        ("batched + state", run_batched(True)),
    ):
        steps, elapsed = timed(chunk, seconds)
        rate = steps / elapsed
        reference = reference or rate
        rows.append(
            {
                "instance": name,
                "agents": layout.n_agents,
                "edges": instance.n_edges,
                "paths": instance.paths.n_paths,
                "path": label,
                "steps_per_s": rate,
                "agent_steps_per_s": rate * layout.n_agents,
                "ratio_to_pettingzoo": rate / reference,
                "load_s": load_s,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", nargs="+", default=["abilene", "cogentco", "kdl"])
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per row")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_planning.json"))
    args = parser.parse_args()
    rows = []
    for name in args.instances:
        rows += bench_instance(name, args.seconds)
    print("| instance | agents | edges | path | env steps/s | agent-steps/s | x PettingZoo |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['instance']} | {r['agents']:,} | {r['edges']:,} | {r['path']} | "
            f"{r['steps_per_s']:,.1f} | {r['agent_steps_per_s']:,.0f} | "
            f"{r['ratio_to_pettingzoo']:.1f} |"
        )
    print()
    for name in args.instances:
        load = next(r["load_s"] for r in rows if r["instance"] == name)
        print(f"{name}: instance load with Yen paths {load:.1f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "machine": platform.machine()}
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
