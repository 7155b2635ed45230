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

Load time (``--load``): per instance, the candidate paths of every demand by the fast Yen
(:class:`qnet_envs.planning.yen.YenPaths`, what ``Instance.paths`` uses) against the reference
:func:`qnet_envs.topology.k_shortest_paths` in the same run, on the first
``--reference-demands`` demands (all by default; the reference's seconds are scaled to all
demands when fewer are timed, and the row says so). The paths of both are checked equal.

Usage::

    python scripts/bench_planning.py --load --instances abilene cogentco kdl waxman850

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


def bench_load(name: str, reference_demands: int | None) -> dict:
    from qnet_envs.planning.yen import YenPaths
    from qnet_envs.topology import k_shortest_paths

    instance = Instance.load(name)
    graph = instance.graph
    pairs = [(s, t) for s, t in instance.demand_pairs.tolist()]
    started = time.perf_counter()
    fast = YenPaths(graph).many(pairs, instance.k_paths)
    fast_s = time.perf_counter() - started
    timed_pairs = pairs[:reference_demands]
    started = time.perf_counter()
    reference = [k_shortest_paths(graph, s, t, instance.k_paths) for s, t in timed_pairs]
    reference_timed_s = time.perf_counter() - started
    if reference != fast[: len(timed_pairs)]:
        raise AssertionError(f"{name}: fast Yen paths differ from the reference")
    reference_s = reference_timed_s * len(pairs) / len(timed_pairs)
    started = time.perf_counter()
    _ = Instance.load(name).paths
    return {
        "instance": name,
        "demands": len(pairs),
        "reference_demands_timed": len(timed_pairs),
        "fast_yen_s": fast_s,
        "reference_yen_s": reference_s,
        "speedup": reference_s / fast_s,
        "instance_paths_s": time.perf_counter() - started,
    }


def main_load(args: argparse.Namespace) -> None:
    rows = [bench_load(name, args.reference_demands) for name in args.instances]
    print("| instance | demands | reference Yen s | fast Yen s | x reference | load + paths s |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        scaled = (
            ""
            if r["reference_demands_timed"] == r["demands"]
            else (f" (scaled from {r['reference_demands_timed']})")
        )
        print(
            f"| {r['instance']} | {r['demands']:,} | {r['reference_yen_s']:.1f}{scaled} | "
            f"{r['fast_yen_s']:.1f} | {r['speedup']:.1f} | {r['instance_paths_s']:.1f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "machine": platform.machine()}
    args.out.write_text(json.dumps({"meta": meta, "load_rows": rows}, indent=1))
    print(f"wrote {args.out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", nargs="+", default=["abilene", "cogentco", "kdl"])
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per row")
    parser.add_argument("--out", type=Path, default=Path("runs/bench_planning.json"))
    parser.add_argument("--load", action="store_true", help="time path loading instead")
    parser.add_argument("--reference-demands", type=int, default=None)
    args = parser.parse_args()
    if args.load:
        main_load(args)
        return
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
