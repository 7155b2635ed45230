"""Train an agent on a swap-routing scenario and compare it with Monte Carlo, Dijkstra and the
exact oracle, as in "Routing in quantum networks using reinforcement learning" (Tables 1-3).

The agent (sb3-contrib's MaskablePPO by default; the paper's plain PPO, or a plain-torch
REINFORCE, on request) trains on the scenario; then the script prints one Markdown table:

* the agent's greedy route after training, and the actions it played until it FIRST played an
  oracle-optimal route (the paper's metric);
* Monte Carlo: uniformly random play (the paper's Monte Carlo player) with the same number of
  actions the agent trained for: the best route it found, the actions until its first optimal
  route, and the exact expected number of actions until that first optimal route;
* the same for random play over valid actions only (what an untrained agent behind the action
  mask plays: the fair reference for MaskablePPO);
* Dijkstra on ``-log F`` (the paper's additive assumption), played through the real game;
* the exact oracle.

and writes the same numbers as JSON (``results.json`` in the run directory). Runs are resumable:
a run directory holds atomic checkpoints, and running the same command again after a kill
continues from the last one (a finished run just prints its table again).

Usage::

    python scripts/train_routing.py                        # MaskablePPO, default scenario
    python scripts/train_routing.py --scenario amplitude-damping-06 --algo maskable-ppo
    python scripts/train_routing.py --scenario my.toml --timesteps 20000 --seed 3 \\
        --run-dir runs/mine --no-progress
    tensorboard --logdir runs/routing                       # training curves
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from agents.baselines import dijkstra, monte_carlo, oracle
from qnet_envs.routing.env import resolve_scenario
from qnet_envs.routing.scenario import Scenario

ALGOS = ("ppo", "maskable-ppo", "reinforce", "maskable-reinforce")
AGENT_NAMES = {
    "ppo": "PPO",
    "maskable-ppo": "MaskablePPO",
    "reinforce": "REINFORCE",
    "maskable-reinforce": "MaskableREINFORCE",
}
DEFAULT_ALGO = "maskable-ppo"
DEFAULT_TIMESTEPS = 30_000
DEFAULT_N_STEPS = 256
DEFAULT_ENT_COEF = 0.0
RESULTS_FILE = "results.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario",
        default="default",
        help="shipped scenario name (scenarios/routing/<name>.toml) or a TOML path",
    )
    parser.add_argument(
        "--algo",
        choices=ALGOS,
        default=DEFAULT_ALGO,
        help=f"the agent to train (default {DEFAULT_ALGO}: plain PPO, the paper's, is unreliable "
        "on the 65-node scenarios; see docs/training.md)",
    )
    parser.add_argument(
        "--timesteps",
        type=int,
        default=DEFAULT_TIMESTEPS,
        help=f"env actions to train for, resumed ones included (default {DEFAULT_TIMESTEPS})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the agent and Monte Carlo")
    parser.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help="checkpoints, TensorBoard logs and results.json; an existing run resumes "
        "(default runs/routing/<scenario>-<algo>-seed<seed>)",
    )
    parser.add_argument(
        "--n-steps",
        type=int,
        default=DEFAULT_N_STEPS,
        help=f"PPO: actions per policy update (default {DEFAULT_N_STEPS})",
    )
    parser.add_argument(
        "--ent-coef",
        type=float,
        default=DEFAULT_ENT_COEF,
        help=f"PPO: entropy bonus (default {DEFAULT_ENT_COEF}, SB3's)",
    )
    parser.add_argument(
        "--n-envs",
        type=int,
        default=1,
        help="PPO: copies of the game played side by side, every action counted (default 1)",
    )
    parser.add_argument(
        "--learning-rate", type=float, default=3e-4, help="PPO: Adam step size (default 3e-4)"
    )
    parser.add_argument(
        "--hidden-sizes",
        nargs="+",
        type=int,
        default=[64, 64],
        help="PPO: hidden layer widths of the policy and value MLPs (default 64 64)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=int,
        default=5_000,
        help="actions between checkpoints (0: only at the end)",
    )
    parser.add_argument(
        "--stop-at-optimal",
        action="store_true",
        help="stop training when the agent first plays an optimal route",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.timesteps < 1:
        parser.error(f"--timesteps must be >= 1, got {args.timesteps}")
    if args.n_steps < 2:
        parser.error(f"--n-steps must be >= 2, got {args.n_steps}")
    if args.n_envs < 1:
        parser.error(f"--n-envs must be >= 1, got {args.n_envs}")
    if not args.learning_rate > 0:
        parser.error(f"--learning-rate must be > 0, got {args.learning_rate}")
    if min(args.hidden_sizes) < 1:
        parser.error(f"--hidden-sizes must be positive, got {args.hidden_sizes}")
    if args.checkpoint_every < 0:
        parser.error(f"--checkpoint-every must be >= 0, got {args.checkpoint_every}")
    return args


# ----------------------------------------------------------------------------- the agent
def train_agent(args: argparse.Namespace, scenario: Scenario, optimal: float) -> dict[str, Any]:
    """Train (or resume) the chosen agent; its greedy route and first-optimal count."""
    if args.algo in ("reinforce", "maskable-reinforce"):
        from agents import reinforce

        masked = args.algo == "maskable-reinforce"
        result = reinforce.train(
            reinforce.Args(
                env_kwargs={"scenario": scenario},
                total_timesteps=args.timesteps,
                masked=masked,
                seed=args.seed,
                run_dir=args.run_dir,
                checkpoint_every=args.checkpoint_every,
                optimal_fidelity=optimal,
                stop_at_optimal=args.stop_at_optimal,
                progress_bar=not args.no_progress,
            )
        )
        rollout = reinforce.evaluate(result.agent, scenario, masked=masked)
    else:
        from agents import ppo

        rollout_size = args.n_steps * args.n_envs
        batch_size = min(64 * args.n_envs, rollout_size)
        while rollout_size % batch_size:
            batch_size -= 1
        result = ppo.train(
            ppo.TrainArgs(
                scenario=scenario,
                total_timesteps=args.timesteps,
                n_steps=args.n_steps,
                n_envs=args.n_envs,
                batch_size=batch_size,
                ent_coef=args.ent_coef,
                learning_rate=args.learning_rate,
                hidden_sizes=tuple(args.hidden_sizes),
                seed=args.seed,
                masked=args.algo == "maskable-ppo",
                run_dir=args.run_dir,
                checkpoint_every=args.checkpoint_every,
                stop_at_optimal=args.stop_at_optimal,
                optimal_fidelity=optimal,
                progress_bar=not args.no_progress,
            )
        )
        rollout = ppo.evaluate(result.model, scenario)
    return {
        "route": list(rollout.route),
        "fidelity": rollout.fidelity,
        "actions": rollout.actions,
        "event": rollout.event,
        "timesteps": result.timesteps,
        "first_optimal_step": result.first_optimal_step,
        "resumed_from": result.resumed_from,
        "wall_time_s": result.wall_time_s,
    }


# --------------------------------------------------------------------------- Monte Carlo
def monte_carlo_search(
    scenario: Scenario, optimal: float, budget: int, seed: int, policy: str = "uniform"
) -> dict[str, Any]:
    """Random games until ``budget`` actions are spent: best route, first optimal hit.

    Only games that finish within the budget count. The exact expectation of the actions until
    the first optimal game comes from :func:`agents.baselines.monte_carlo.random_policy_stats`.
    ``policy``: ``"uniform"`` over the 4 slots or ``"masked"`` over the valid ones.
    """
    player = monte_carlo.RandomPlayer(scenario, policy)
    rng = np.random.default_rng(seed)
    threshold = optimal - monte_carlo.SUCCESS_TOLERANCE
    spent, games = 0, 0
    best: monte_carlo.GameRecord | None = None
    first_hit = None
    while True:
        game = player.play(rng)
        if spent + game.actions > budget:
            break
        spent += game.actions
        games += 1
        if game.event != "arrived":
            continue
        if best is None or game.fidelity > best.fidelity:
            best = game
        if first_hit is None and game.fidelity >= threshold:
            first_hit = spent
    stats = monte_carlo.random_policy_stats(scenario, optimal, policy)
    expected = stats.expected_actions
    return {
        "route": None if best is None else list(best.route),
        "fidelity": None if best is None else best.fidelity,
        "actions": None if best is None else best.actions,
        "event": "arrived" if best is not None else "never arrived",
        "timesteps": spent,
        "games": games,
        "first_optimal_step": first_hit,
        "expected_first_optimal_step": expected if math.isfinite(expected) else None,
        "success_probability": float(stats.success_probability),
    }


# --------------------------------------------------------------------------------- table
def route_nodes(scenario: Scenario, route: list[int] | None) -> list[str]:
    """The node names a route (edge indices from Alice) visits, Alice first."""
    if route is None:
        return []
    node = scenario.alice
    nodes = [scenario.node_names[node]]
    for edge in route:
        u, v = (int(x) for x in scenario.edges[edge])
        node = v if node == u else u
        nodes.append(scenario.node_names[node])
    return nodes


def _count(value: float | None, budget: int | None = None) -> str:
    if value is None:
        return "not found" if budget is None else f"not found in {budget:,}"
    return f"{value:,.0f}"


def markdown_table(scenario: Scenario, rows: list[dict[str, Any]]) -> str:
    """The comparison as a Markdown table."""
    lines = [
        "| method | route (nodes) | F | actions (route length) | actions until first optimal |",
        "|---|---|---:|---:|---:|",
    ]
    for row in rows:
        nodes = route_nodes(scenario, row["route"])
        path = " → ".join(nodes) if nodes else "—"
        if row["event"] != "arrived" and row["route"] is not None:
            path += f" ({row['event']})"
        arrived = row["event"] == "arrived" and row["fidelity"] is not None
        fidelity = f"{row['fidelity']:.4f}" if arrived else "—"
        actions = "—" if row["actions"] is None else str(row["actions"])
        first = "—"
        if "first_optimal_step" in row:
            first = _count(row["first_optimal_step"], row.get("timesteps"))
        if "expected_first_optimal_step" in row:
            expected = row["expected_first_optimal_step"]
            first += f" (exact expectation {'never' if expected is None else _count(expected)})"
        lines.append(f"| {row['method']} | {path} | {fidelity} | {actions} | {first} |")
    return "\n".join(lines)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically (temporary file, then ``os.replace``)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    scenario = resolve_scenario(args.scenario)
    if args.run_dir is None:
        args.run_dir = Path("runs") / "routing" / f"{scenario.name}-{args.algo}-seed{args.seed}"
    args.run_dir.mkdir(parents=True, exist_ok=True)

    best = oracle.solve(scenario)
    optimal = float(best.fidelity)
    print(
        f"scenario {scenario.name!r}: {scenario.num_nodes} nodes, {scenario.num_edges} links, "
        f"max_actions {scenario.max_actions}; optimal F = {optimal:.6f}",
        flush=True,
    )
    started = time.perf_counter()
    agent = train_agent(args, scenario, optimal)
    agent["method"] = f"{AGENT_NAMES[args.algo]} (greedy after {agent['timesteps']:,} actions)"
    if agent["resumed_from"]:
        print(f"resumed from the checkpoint at action {agent['resumed_from']:,}", flush=True)

    carlo = monte_carlo_search(scenario, optimal, agent["timesteps"], args.seed)
    carlo["method"] = f"Monte Carlo (best of {carlo['timesteps']:,} random actions)"
    valid = monte_carlo_search(scenario, optimal, agent["timesteps"], args.seed, "masked")
    valid["method"] = (
        f"Monte Carlo over valid actions (best of {valid['timesteps']:,} random valid actions)"
    )
    try:
        shortest = dijkstra.solve(scenario)
        path = {
            "route": list(shortest.route),
            "fidelity": shortest.fidelity,
            "actions": len(shortest.route),
            "event": "arrived" if shortest.within_budget else "over max_actions",
        }
    except ValueError as error:
        path = {"route": None, "fidelity": None, "actions": None, "event": str(error)}
    path["method"] = "Dijkstra (-log F shortest path)"
    exact = {
        "method": "Oracle (exact optimum)",
        "route": list(best.route),
        "fidelity": optimal,
        "actions": len(best.route),
        "event": "arrived",
    }
    rows = [agent, carlo, valid, path, exact]
    print()
    print(markdown_table(scenario, rows))
    print()
    print(
        f"{AGENT_NAMES[args.algo]} trained {agent['timesteps']:,} actions in "
        f"{agent['wall_time_s']:.1f} s (all sessions); this call took "
        f"{time.perf_counter() - started:.1f} s. Run directory: {args.run_dir}",
        flush=True,
    )
    for row in rows:
        row["route_nodes"] = route_nodes(scenario, row["route"])
    results = {
        "scenario": scenario.name,
        "algo": args.algo,
        "seed": args.seed,
        "timesteps": agent["timesteps"],
        "optimal_fidelity": optimal,
        "rows": rows,
    }
    write_json(args.run_dir / RESULTS_FILE, results)
    return results


if __name__ == "__main__":
    main()
