"""Reproduce the routing paper's Tables 1-3 and Fig. 7 on the suite's scenarios.

"Routing in quantum networks using reinforcement learning": for each family (white noise,
amplitude damping, correlated phase noise) and size (6-16 intermediary nodes):

* the exact oracle's optimal route and ``F``; Dijkstra's ``F`` on ``-log F`` against it;
* PPO (Stable-Baselines3; by default the paper's setting, plain PPO where invalid actions end
  the game; ``--agent maskable-ppo`` for sb3-contrib's MaskablePPO): the number of actions until
  the agent first plays an oracle-optimal route, per seed, and the median over seeds (a run that
  does not find it within ``--ppo-budget`` counts as infinite). ``--ppo-n-envs`` copies of the
  game are played side by side; every action of every copy counts;
* Monte Carlo, uniformly random actions (the paper's baseline): the exact expected number of
  actions until the first optimal game, ``E[L]/q`` (``agents.baselines.monte_carlo``), and on
  the small sizes the median of simulated runs as a check;
* Monte Carlo over valid actions only (what an untrained agent behind the action mask plays):
  its exact ``E[L]/q`` and simulated medians, on every size (cheap);
* the ratios of both Monte Carlo expectations to the PPO median.

Evolving network (Fig. 7): uptime of PPO and of Monte Carlo on ``qnet_envs/SwapRouting-Evolving-v0``
over ``--evolving-total`` actions. With ``--evolving-agents`` the evolving part instead runs each
named agent for ``--evolving-seeds`` seeds on ``--evolving-env`` (e.g. the harder
``qnet_envs/SwapRouting-EvolvingMaze-v0``): uniformly random actions (``uniform``), random valid
actions (``valid``), plain PPO (``ppo``), MaskablePPO (``maskable-ppo``) and, as the optimum,
the exact oracle's route in every stage (``oracle``); each (agent, seed) is one job of the
``--workers`` pool, the report is rewritten after each, and ``--evolving-resume`` keeps the runs
the JSON already holds (a stopped run restarted with the same command finishes the rest). The
report gives uptime and per-stage uptime, mean, standard deviation, min and max over seeds::

    python scripts/reproduce_routing.py --skip-static --evolving-env \
        qnet_envs/SwapRouting-EvolvingMaze-v0 --evolving-agents oracle uniform valid ppo \
        maskable-ppo --evolving-seeds 5 --workers 2 --evolving-resume \
        --json docs/routing-evolving-maze.json

Writes JSON (``--json``, default ``runs/routing-reproduction.json``: ``runs/`` is git-ignored)
and a Markdown report beside it (``--markdown``). The pages in ``docs/`` were written by passing
``--json docs/<page>.json``; each records the command that regenerates it. Runs PPO seeds in
parallel processes (``--workers``). ``--help`` lists every option and its default.

What it costs (2 CPU cores): a bare run is everything, 3 families x 6 sizes x 5 seeds of plain
PPO with up to 500,000 actions each, then 10^6 actions on the evolving network: hours (the
recorded grid, with a 300,000-action budget, took 41 min for plain PPO and 21 min for
MaskablePPO; the evolving network 11 min with PPO). Start small::

    python scripts/reproduce_routing.py --families white-noise --sizes 6 --seeds 2 \
        --ppo-budget 60000 --skip-evolving                     # one cell, about a minute
    python scripts/reproduce_routing.py                        # everything: hours
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

FAMILIES = ("white-noise", "amplitude-damping", "phase-noise")
SIZES = (6, 8, 10, 12, 14, 16)
PAPER_RATIO_AT_16 = {"white-noise": 13_000, "amplitude-damping": 9_000}
PAPER_UPTIME = {"ppo": 0.934, "monte_carlo": 0.331}
ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------ one cell
def ppo_first_optimal(
    name: str, seed: int, optimal: float, settings: dict[str, Any]
) -> dict[str, Any]:
    """One PPO run (in a worker process) until it first plays an optimal route.

    ``settings``: :class:`agents.ppo.TrainArgs` fields shared by every run (:func:`ppo_settings`).
    """
    from agents.ppo import TrainArgs, train

    result = train(
        TrainArgs(
            scenario=name, seed=seed, stop_at_optimal=True, optimal_fidelity=optimal, **settings
        )
    )
    return {
        "seed": seed,
        "first_optimal_step": result.first_optimal_step,
        "best_fidelity": result.best_fidelity,
        "timesteps": result.timesteps,
        "wall_time_s": result.wall_time_s,
    }


def mc_simulated(
    name: str, route: list[int], seed: int, budget: int, policy: str = "uniform"
) -> int | None:
    from agents.baselines.monte_carlo import simulate_until_route
    from qnet_envs.routing.scenario import Scenario

    rng = np.random.default_rng(seed)
    return simulate_until_route(Scenario.load(name), route, rng, budget, policy=policy)


def ppo_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The ``TrainArgs`` fields that the command line sets for every PPO run."""
    return {
        "masked": args.agent == "maskable-ppo",
        "total_timesteps": args.ppo_budget,
        "n_steps": args.ppo_n_steps,
        "n_envs": args.ppo_n_envs,
        "batch_size": args.ppo_batch_size,
        "ent_coef": args.ppo_ent_coef,
        "learning_rate": args.ppo_learning_rate,
        "hidden_sizes": tuple(args.ppo_hidden_sizes),
    }


def _median(values: list[float | None]) -> float:
    return statistics.median(math.inf if v is None else v for v in values)


# -------------------------------------------------------------------------------- tables
def static_scenarios(
    args: argparse.Namespace, pool: ProcessPoolExecutor, report: dict[str, Any]
) -> list[dict]:
    from agents.baselines import dijkstra, oracle
    from agents.baselines.monte_carlo import random_policy_stats
    from qnet_envs.routing.scenario import Scenario

    rows, jobs = [], {}
    for family in args.families:
        for size in args.sizes:
            name = f"{family}-{size:02d}"
            scenario = Scenario.load(name)
            best = oracle.solve(scenario)
            dij = dijkstra.solve(scenario)
            mc = random_policy_stats(scenario, best.fidelity)
            masked = random_policy_stats(scenario, best.fidelity, policy="masked")
            row = {
                "family": family,
                "size": size,
                "scenario": name,
                "optimal_route": list(best.route),
                "optimal_fidelity": best.fidelity,
                "optimal_actions": len(best.route),
                "dijkstra_fidelity": dij.fidelity,
                "dijkstra_route": list(dij.route),
                "dijkstra_gap": best.fidelity - dij.fidelity,
                "mc_expected_actions": mc.expected_actions,
                "mc_success_probability": float(mc.success_probability),
                "mc_mean_game_length": float(mc.mean_game_length),
                "mc_masked_expected_actions": masked.expected_actions,
                "mc_masked_success_probability": float(masked.success_probability),
                "mc_masked_mean_game_length": float(masked.mean_game_length),
            }
            rows.append(row)
            for seed in range(args.seeds):
                jobs[name, "ppo", seed] = pool.submit(
                    ppo_first_optimal, name, seed, best.fidelity, ppo_settings(args)
                )
            for seed in range(args.seeds):
                if size in args.mc_simulate_sizes:
                    jobs[name, "mc", seed] = pool.submit(
                        mc_simulated, name, list(best.route), seed, args.mc_simulate_budget
                    )
                jobs[name, "mc-masked", seed] = pool.submit(
                    mc_simulated,
                    name,
                    list(best.route),
                    seed,
                    args.mc_simulate_budget,
                    "masked",
                )
    for row in rows:
        name = row["scenario"]
        runs = [jobs[name, "ppo", s].result() for s in range(args.seeds)]
        row["ppo_runs"] = runs
        row["ppo_median_actions"] = _median([r["first_optimal_step"] for r in runs])
        row["ppo_found_all"] = all(r["first_optimal_step"] is not None for r in runs)
        if (name, "mc", 0) in jobs:
            simulated = [jobs[name, "mc", s].result() for s in range(args.seeds)]
            row["mc_simulated_actions"] = simulated
            row["mc_simulated_median"] = _median(simulated)
            row["mc_simulated_mean"] = (
                statistics.fmean(simulated) if None not in simulated else math.inf
            )
        masked_runs = [jobs[name, "mc-masked", s].result() for s in range(args.seeds)]
        row["mc_masked_simulated_actions"] = masked_runs
        row["mc_masked_simulated_median"] = _median(masked_runs)
        row["ratio_mc_over_ppo"] = row["mc_expected_actions"] / row["ppo_median_actions"]
        row["ratio_mc_masked_over_ppo"] = (
            row["mc_masked_expected_actions"] / row["ppo_median_actions"]
        )
        print(
            f"{name}: {args.agent} median {row['ppo_median_actions']}, "
            f"MC expectation {row['mc_expected_actions']:.3g}"
        )
        report["static"].append(row)
        write(report, args)
    return rows


def evolving(args: argparse.Namespace) -> dict[str, Any]:
    import gymnasium as gym
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    import qnet_envs  # noqa: F401

    torch.set_num_threads(1)
    masked = args.evolving_masked
    if masked:
        from sb3_contrib import MaskablePPO as algo_class
    else:
        algo_class = PPO
    results: dict[str, Any] = {"total_actions": args.evolving_total, "masked": masked}

    class StopAtEnd(BaseCallback):
        def _on_step(self) -> bool:
            return self.locals["infos"][0]["clock"] < args.evolving_total

    ppo_uptimes, mc_uptimes = [], []
    for seed in range(args.evolving_seeds):
        env = gym.make("qnet_envs/SwapRouting-Evolving-v0", total_actions=args.evolving_total)
        model = algo_class(
            "MlpPolicy",
            env,
            n_steps=args.evolving_n_steps,
            ent_coef=args.ppo_ent_coef,
            learning_rate=args.evolving_learning_rate,
            seed=seed,
            device="cpu",
        )
        model.learn(args.evolving_total, callback=StopAtEnd())
        info = env.unwrapped.evolution_info()
        ppo_uptimes.append(
            {
                "seed": seed,
                "uptime": info["uptime"],
                "stage_uptime": info["stage_uptime"],
                "actions_played": int(model.num_timesteps),
            }
        )

        env = gym.make("qnet_envs/SwapRouting-Evolving-v0", total_actions=args.evolving_total)
        rng = np.random.default_rng(seed)
        _, info = env.reset(seed=seed)
        while info["clock"] < args.evolving_total:
            choices = np.flatnonzero(info["action_mask"]) if masked else np.arange(4)
            *_, terminated, truncated, info = env.step(int(rng.choice(choices)))
            if terminated or truncated:
                clock = info["clock"]
                _, info = env.reset()
                assert info["clock"] == clock
        mc_uptimes.append(
            {"seed": seed, "uptime": info["uptime"], "stage_uptime": info["stage_uptime"]}
        )
        ppo_up, mc_up = ppo_uptimes[-1]["uptime"], mc_uptimes[-1]["uptime"]
        print(f"evolving seed {seed}: PPO uptime {ppo_up:.3f}, Monte Carlo {mc_up:.3f}")
    results["ppo"] = ppo_uptimes
    results["monte_carlo"] = mc_uptimes
    results["ppo_median_uptime"] = statistics.median(r["uptime"] for r in ppo_uptimes)
    results["mc_median_uptime"] = statistics.median(r["uptime"] for r in mc_uptimes)
    return results


# ------------------------------------------------------------------ evolving, per agent
EVOLVING_AGENTS = ("oracle", "uniform", "valid", "ppo", "maskable-ppo")
EVOLVING_AGENT_NAMES = {
    "oracle": "oracle (exact best route, every stage)",
    "uniform": "uniformly random actions",
    "valid": "random valid actions",
    "ppo": "PPO",
    "maskable-ppo": "MaskablePPO",
}
_DRAWS = 4096  # random actions drawn per call of the generator


def evolving_settings(args: argparse.Namespace) -> dict[str, Any]:
    """What every evolving job shares (plain values: jobs run in worker processes)."""
    return {
        "env_id": args.evolving_env,
        "total_actions": args.evolving_total,
        "n_steps": args.evolving_n_steps,
        "ent_coef": args.ppo_ent_coef,
        "learning_rate": args.evolving_learning_rate,
    }


def evolving_run(agent: str, seed: int, settings: dict[str, Any]) -> dict[str, Any]:
    """One agent's run through every stage of an evolving network (in a worker process).

    ``ppo`` / ``maskable-ppo`` learn on one env whose clock is the network's, the policy
    carrying over from stage to stage; ``uniform`` / ``valid`` play random actions (over the
    4 slots / over the valid slots); ``oracle`` plays the exact oracle's best route of the
    current stage in every game.
    """
    import gymnasium as gym

    import qnet_envs  # noqa: F401

    started = time.perf_counter()
    env = gym.make(settings["env_id"], total_actions=settings["total_actions"])
    if agent in ("ppo", "maskable-ppo"):
        played = _train_through(env, agent, seed, settings)
    elif agent in ("uniform", "valid", "oracle"):
        played = _play_through(env, agent, seed)
    else:
        raise ValueError(f"agent must be one of {EVOLVING_AGENTS}, got {agent!r}")
    info = env.unwrapped.evolution_info()
    return {
        "seed": seed,
        "uptime": info["uptime"],
        "stage_uptime": info["stage_uptime"],
        "actions_played": played,
        "wall_time_s": time.perf_counter() - started,
    }


def _train_through(env: Any, agent: str, seed: int, settings: dict[str, Any]) -> int:
    import torch
    from sb3_contrib import MaskablePPO
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    torch.set_num_threads(1)
    total = settings["total_actions"]

    class StopAtEnd(BaseCallback):
        def _on_step(self) -> bool:
            return self.locals["infos"][0]["clock"] < total

    algo_class = MaskablePPO if agent == "maskable-ppo" else PPO
    model = algo_class(
        "MlpPolicy",
        env,
        n_steps=settings["n_steps"],
        ent_coef=settings["ent_coef"],
        learning_rate=settings["learning_rate"],
        seed=seed,
        device="cpu",
    )
    model.learn(total, callback=StopAtEnd())
    return int(model.num_timesteps)


def _play_through(env: Any, agent: str, seed: int) -> int:
    """Random (or oracle) play until the run's clock ends; returns the actions played."""
    from agents.baselines.oracle import best_route
    from qnet_envs.routing import core
    from qnet_envs.routing.scenario import MAX_DEGREE

    raw = env.unwrapped
    routes: dict[int, tuple[core.Network, list[int]]] = {}
    rng = np.random.default_rng(seed)
    draws = iter(())
    played = 0
    _, info = env.reset(seed=seed)
    total = raw.total_actions
    while info["clock"] < total:
        if agent == "oracle":
            stage = info["stage"]
            if stage not in routes:
                routes[stage] = core.Network.compile(raw.scenario), best_route(raw.scenario)[0]
            network, route = routes[stage]
            edge = route[len(info["route"])]
            action = int(np.flatnonzero(network.slot_edge[info["node"]] == edge)[0])
        else:
            draw = next(draws, None)
            if draw is None:
                draws = iter(rng.integers(12, size=_DRAWS).tolist())
                draw = next(draws)
            if agent == "valid":
                slots = np.flatnonzero(info["action_mask"])
                action = int(slots[draw % len(slots)])
            else:
                action = draw % MAX_DEGREE
        *_, terminated, truncated, info = env.step(action)
        played += 1
        if terminated or truncated:
            clock = info["clock"]
            _, info = env.reset()
            assert info["clock"] == clock
    return played


def evolving_agents(args: argparse.Namespace, report: dict[str, Any]) -> dict[str, Any]:
    """Every (agent, seed) of ``--evolving-agents``, two workers at a time; resumable."""
    results = report["evolving_agents"]
    runs: dict[str, list[dict[str, Any]]] = results["runs"]
    settings = evolving_settings(args)
    # Random players first (cheap), then the learners seed by seed, alternating.
    order = [a for a in EVOLVING_AGENTS if a in args.evolving_agents and a not in LEARNERS]
    jobs = [(a, s) for a in order for s in range(args.evolving_seeds)]
    learners = [a for a in LEARNERS if a in args.evolving_agents]
    jobs += [(a, s) for s in range(args.evolving_seeds) for a in learners]
    todo = [(a, s) for a, s in jobs if all(r["seed"] != s for r in runs.setdefault(a, []))]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = {pool.submit(evolving_run, a, s, settings): (a, s) for a, s in todo}
        for future in as_completed(futures):
            agent, seed = futures[future]
            run = future.result()
            runs[agent] = sorted([*runs[agent], run], key=lambda r: r["seed"])
            results["summary"] = {a: summarise(r) for a, r in runs.items() if r}
            print(f"{args.evolving_env} {agent} seed {seed}: uptime {run['uptime']:.4f}")
            write(report, args)
    return results


LEARNERS = ("ppo", "maskable-ppo")


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean, standard deviation (over seeds, ``ddof=1``; 0 for one seed), min and max of the
    uptime and of each stage's uptime."""

    def stats(values: list[float]) -> dict[str, float]:
        return {
            "mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values),
            "max": max(values),
        }

    stages = len(runs[0]["stage_uptime"])
    return {
        "seeds": [r["seed"] for r in runs],
        "uptime": stats([r["uptime"] for r in runs]),
        "stage_uptime": [stats([r["stage_uptime"][i] for r in runs]) for i in range(stages)],
        "mean_wall_time_s": statistics.fmean(r["wall_time_s"] for r in runs),
        "mean_actions_played": statistics.fmean(r["actions_played"] for r in runs),
    }


# ------------------------------------------------------------------------------ reports
def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isinf(value)):
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def markdown(report: dict[str, Any]) -> str:
    args = report["args"]
    lines = [
        "# Routing paper reproduction (`scripts/reproduce_routing.py`)",
        "",
        f"Generated {report['date']} in {report['wall_time_s'] / 60:.1f} min on "
        f"{report['cpus']} CPU cores with `python scripts/reproduce_routing.py "
        f"{report['command']}`.",
    ]
    if report.get("note"):
        lines += ["", report["note"]]
    if report["static"]:
        lines += _static_table(report)
    if report.get("evolving"):
        lines += _evolving_table(report["evolving"], args)
    if report.get("evolving_agents"):
        lines += _evolving_agents_tables(report["evolving_agents"], args)
    return "\n".join(lines) + "\n"


def _agent_name(args: dict[str, Any]) -> str:
    return "MaskablePPO" if args.get("agent") == "maskable-ppo" else "PPO"


def _static_table(report: dict[str, Any]) -> list[str]:
    args = report["args"]
    agent = _agent_name(args)
    n_envs = args.get("ppo_n_envs", 1)
    lines = [
        "",
        f"{agent}: Stable-Baselines3 (n_steps {args['ppo_n_steps']} per env, {n_envs} env"
        f"{'s' if n_envs > 1 else ''} side by side, batch_size {args.get('ppo_batch_size', 64)}, "
        f"ent_coef {args['ppo_ent_coef']}, learning_rate {args.get('ppo_learning_rate', 3e-4)}, "
        f"hidden layers {'-'.join(map(str, args.get('ppo_hidden_sizes', [64, 64])))}, "
        f"otherwise defaults), {args['seeds']} seeds, at most "
        f"{args['ppo_budget']:,} actions per run; the count is the number of actions (of all "
        "envs) until the agent first plays an oracle-optimal route, median over seeds. Monte "
        "Carlo: the exact expectation E[L]/q of the actions until a random player first plays an "
        "optimal route, for uniformly random actions (the paper's baseline; simulated medians on "
        "the small sizes check it) and for random valid actions (`masked`: what an untrained "
        "agent behind the action mask plays; simulated on every size). Ratios: MC expectation / "
        f"{agent} median.",
        "",
        f"| scenario | optimal F | actions | Dijkstra F | {agent} median | found | per seed "
        f"| MC exact E | MC simulated median | MC / {agent} | masked MC exact E "
        f"| masked MC simulated median | masked MC / {agent} |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["static"]:
        found = sum(r["first_optimal_step"] is not None for r in row["ppo_runs"])
        simulated = _fmt(row["mc_simulated_median"]) if "mc_simulated_median" in row else "—"
        ppo_median = row["ppo_median_actions"]
        ratio = "—" if math.isinf(ppo_median) else _fmt(row["ratio_mc_over_ppo"])
        masked_ratio = "—"
        if "ratio_mc_masked_over_ppo" in row and not math.isinf(ppo_median):
            masked_ratio = f"{row['ratio_mc_masked_over_ppo']:.2f}"
        lines.append(
            f"| {row['scenario']} | {row['optimal_fidelity']:.4f} | {row['optimal_actions']} | "
            f"{row['dijkstra_fidelity']:.4f} | {_fmt(ppo_median)} | "
            f"{found}/{len(row['ppo_runs'])} | "
            + ", ".join(_fmt(r["first_optimal_step"]) for r in row["ppo_runs"])
            + f" | {_fmt(row['mc_expected_actions'])} | {simulated} | {ratio} | "
            f"{_fmt(row.get('mc_masked_expected_actions'))} | "
            f"{_fmt(row.get('mc_masked_simulated_median'))} | {masked_ratio} |"
        )
    lines += _paper_targets(report, agent)
    return lines


def _paper_targets(report: dict[str, Any], agent: str) -> list[str]:
    rows = {row["scenario"]: row for row in report["static"]}
    lines = ["", f"Against the paper at 16 intermediary nodes (MC / {agent}, uniform MC):", ""]
    for family, paper in PAPER_RATIO_AT_16.items():
        row = rows.get(f"{family}-16")
        if row is None:
            continue
        if math.isinf(row["ppo_median_actions"]):
            ours = "not reached (median run did not find the optimum)"
        else:
            ours = f"{row['ratio_mc_over_ppo']:,.0f}"
        lines.append(f"- {family}: ours {ours}; paper about {paper:,}.")
    return lines


def _evolving_table(ev: dict[str, Any], args: dict[str, Any]) -> list[str]:
    agent = "MaskablePPO" if ev.get("masked") else "PPO"
    random_player = "random valid actions" if ev.get("masked") else "uniformly random actions"
    return [
        "",
        f"## Evolving network ({ev['total_actions']:,} actions, 10 stages)",
        "",
        f"{agent} (one env, n_steps {args.get('evolving_n_steps', args['ppo_n_steps'])}, "
        f"ent_coef {args['ppo_ent_coef']}, learning_rate "
        f"{args.get('evolving_learning_rate', 3e-4)}) trained on "
        "`qnet_envs/SwapRouting-Evolving-v0` through all stages (the policy carries over); "
        f"Monte Carlo: {random_player}. Uptime: fraction of the actions during which the agent "
        "held a route with F > 0.8.",
        "",
        "| agent | median uptime | per seed | paper |",
        "|---|---:|---|---:|",
        f"| {agent} | {ev['ppo_median_uptime']:.3f} | "
        + ", ".join(f"{r['uptime']:.3f}" for r in ev["ppo"])
        + f" | {PAPER_UPTIME['ppo']} (PPO) |",
        f"| Monte Carlo ({random_player}) | {ev['mc_median_uptime']:.3f} | "
        + ", ".join(f"{r['uptime']:.3f}" for r in ev["monte_carlo"])
        + f" | {PAPER_UPTIME['monte_carlo']} |",
    ]


def _evolving_agents_tables(ev: dict[str, Any], args: dict[str, Any]) -> list[str]:
    settings = ev["settings"]
    summary = ev.get("summary", {})
    agents = [a for a in EVOLVING_AGENTS if a in summary]
    wanted = args.get("evolving_seeds", 0)
    missing = [
        f"{EVOLVING_AGENT_NAMES[a]} {len(summary[a]['seeds']) if a in summary else 0}"
        for a in args.get("evolving_agents") or ()
        if a not in summary or len(summary[a]["seeds"]) < wanted
    ]
    lines = [
        "",
        f"## Evolving network, per agent (`{settings['env_id']}`, "
        f"{settings['total_actions']:,} actions)",
        "",
        "Uptime: the fraction of the run's actions during which the agent held a route with "
        "F > 0.8 (`info['uptime']`; once it holds one, it keeps it to the end of the stage). "
        f"PPO and MaskablePPO: Stable-Baselines3 defaults but n_steps {settings['n_steps']}, "
        f"ent_coef {settings['ent_coef']}, learning_rate {settings['learning_rate']}, one env "
        "through all stages (the policy carries over). Random players: uniform over the 4 "
        "slots (an invalid action ends the game) or over the valid slots. Oracle: the exact "
        "best route of the current stage in every game (the optimum). Spread over seeds: "
        "standard deviation (ddof 1), min and max. The stages, with the exact probability that "
        "one game of random valid actions holds a working route: `docs/routing-scenarios.md`.",
    ]
    if missing:
        lines += [
            "",
            f"**Not finished**: {wanted} seeds per agent were asked for; seeds done so far: "
            + ", ".join(missing)
            + ". The command above resumes (`--evolving-resume`): it keeps these runs and "
            "runs the missing seeds.",
        ]
    lines += [
        "",
        "| agent | seeds | mean uptime | std | min | max | per seed | actions played (mean) "
        "| wall time per run (s) |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for agent in agents:
        row, up = summary[agent], summary[agent]["uptime"]
        per_seed = ", ".join(f"{r['uptime']:.4f}" for r in ev["runs"][agent])
        lines.append(
            f"| {EVOLVING_AGENT_NAMES[agent]} | {len(row['seeds'])} | {up['mean']:.4f} | "
            f"{up['std']:.4f} | {up['min']:.4f} | {up['max']:.4f} | {per_seed} | "
            f"{row['mean_actions_played']:,.0f} | {row['mean_wall_time_s']:,.0f} |"
        )
    if agents:
        stages = len(summary[agents[0]]["stage_uptime"])
        lines += [
            "",
            "Per-stage uptime, mean ± standard deviation over the seeds (min–max below):",
            "",
            "| agent | " + " | ".join(f"stage {i}" for i in range(stages)) + " |",
            "|---|" + "---:|" * stages,
        ]
        for agent in agents:
            cells = summary[agent]["stage_uptime"]
            lines.append(
                f"| {EVOLVING_AGENT_NAMES[agent]} | "
                + " | ".join(f"{c['mean']:.3f} ± {c['std']:.3f}" for c in cells)
                + " |"
            )
            lines.append(
                "| (min–max) | "
                + " | ".join(f"{c['min']:.3f}–{c['max']:.3f}" for c in cells)
                + " |"
            )
    return lines


DEFAULT_JSON = ROOT / "runs" / "routing-reproduction.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; ``argv`` defaults to ``sys.argv[1:]``."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--families", nargs="+", default=list(FAMILIES), choices=FAMILIES, help="scenario families"
    )
    parser.add_argument(
        "--sizes",
        nargs="+",
        type=int,
        default=list(SIZES),
        choices=SIZES,
        help="intermediary nodes of the optimal route",
    )
    parser.add_argument("--seeds", type=int, default=5, help="PPO and Monte Carlo seeds per cell")
    parser.add_argument(
        "--agent",
        choices=("ppo", "maskable-ppo"),
        default="ppo",
        help="plain PPO (the paper's: invalid actions end the game) or MaskablePPO",
    )
    parser.add_argument(
        "--ppo-budget", type=int, default=500_000, help="most actions per PPO run (all envs)"
    )
    parser.add_argument("--ppo-n-steps", type=int, default=256, help="actions per env per update")
    parser.add_argument("--ppo-n-envs", type=int, default=8, help="copies of the game played")
    parser.add_argument("--ppo-batch-size", type=int, default=256, help="PPO minibatch size")
    parser.add_argument(
        "--ppo-ent-coef", type=float, default=0.01, help="entropy bonus (static and evolving)"
    )
    parser.add_argument("--ppo-learning-rate", type=float, default=3e-4, help="Adam step size")
    parser.add_argument(
        "--ppo-hidden-sizes", nargs="+", type=int, default=[128, 128], help="MLP layer widths"
    )
    parser.add_argument(
        "--mc-simulate-sizes",
        nargs="*",
        type=int,
        default=[6],
        help="sizes on which uniform Monte Carlo is also simulated (costly on large sizes)",
    )
    parser.add_argument(
        "--mc-simulate-budget",
        type=int,
        default=50_000_000,
        help="most actions per simulated Monte Carlo run",
    )
    parser.add_argument(
        "--evolving-total", type=int, default=1_000_000, help="actions on the evolving network"
    )
    parser.add_argument(
        "--evolving-seeds", type=int, default=1, help="evolving-network runs (about 11 min each)"
    )
    parser.add_argument(
        "--evolving-n-steps",
        type=int,
        default=2048,
        help="actions per update on the evolving network (one env: its clock is the network's)",
    )
    parser.add_argument(
        "--evolving-learning-rate", type=float, default=3e-4, help="Adam step size (evolving)"
    )
    parser.add_argument(
        "--evolving-masked",
        action="store_true",
        help="evolving network with MaskablePPO against random play over valid actions only",
    )
    parser.add_argument(
        "--evolving-env",
        default="qnet_envs/SwapRouting-Evolving-v0",
        help="the evolving env id (--evolving-agents runs only; the paper's network by default, "
        "qnet_envs/SwapRouting-EvolvingMaze-v0 the harder one)",
    )
    parser.add_argument(
        "--evolving-agents",
        nargs="+",
        choices=EVOLVING_AGENTS,
        help="run these agents on --evolving-env, --evolving-seeds seeds each, instead of the "
        "PPO-against-Monte-Carlo evolving run",
    )
    parser.add_argument(
        "--evolving-resume",
        action="store_true",
        help="with --evolving-agents: keep the runs the --json report already holds for the "
        "same env and settings, run only the missing ones",
    )
    parser.add_argument(
        "--skip-evolving", action="store_true", help="run the static scenarios only"
    )
    parser.add_argument("--skip-static", action="store_true", help="run the evolving network only")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="parallel processes (CPU count)"
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help="the JSON report (runs/ is git-ignored; pass docs/<page>.json to update a page)",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        help="default: the JSON's path (--json, or --render's) with .md",
    )
    parser.add_argument(
        "--render", type=Path, help="only re-render the Markdown from this JSON report, and exit"
    )
    return parser.parse_args(argv)


def main() -> None:
    args = parse_args()
    if args.render is not None:
        target = args.markdown or args.render.with_suffix(".md")
        target.write_text(markdown(json.loads(args.render.read_text())))
        return
    args.markdown = args.markdown or args.json.with_suffix(".md")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "args": vars(args) | {"json": str(args.json), "markdown": str(args.markdown)},
        "command": " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "static": [],
        "evolving": None,
        "started": time.perf_counter(),
    }
    if not args.skip_static:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            static_scenarios(args, pool, report)
    if not args.skip_evolving and args.evolving_agents:
        report["evolving_agents"] = _resumed(args)
        evolving_agents(args, report)
    elif not args.skip_evolving:
        report["evolving"] = evolving(args)
    write(report, args)
    print(markdown(report))


def _resumed(args: argparse.Namespace) -> dict[str, Any]:
    """The ``evolving_agents`` part to start from: empty, or with ``--evolving-resume`` the
    runs of the existing report (which must have the same env and settings)."""
    fresh = {"settings": evolving_settings(args), "runs": {}, "summary": {}}
    if not args.evolving_resume or not args.json.exists():
        return fresh
    old = json.loads(args.json.read_text()).get("evolving_agents")
    if not old:
        return fresh
    if old["settings"] != fresh["settings"]:
        raise SystemExit(
            f"--evolving-resume: {args.json} was made with {old['settings']}, "
            f"not {fresh['settings']}; drop --evolving-resume or pass another --json"
        )
    return old


def write(report: dict[str, Any], args: argparse.Namespace) -> None:
    """Write the report so far (JSON and Markdown), replacing the files atomically."""
    report["wall_time_s"] = time.perf_counter() - report["started"]
    for path, text in (
        (args.json, json.dumps(report, indent=2, default=str)),
        (args.markdown, markdown(report)),
    ):
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(text)
        os.replace(temporary, path)


if __name__ == "__main__":
    main()
