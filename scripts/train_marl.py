"""Train multi-agent PPO (agents/marl) on a PettingZoo parallel env and print a greedy
evaluation table.

The env is a factory: ``module:function`` (any importable callable returning a PettingZoo
parallel env with homogeneous spaces, or a batched env), or a name in
``qnet_envs.registration.PARALLEL_ENVS`` (its module's ``parallel_env``). ``--env-kwargs`` is a
JSON object passed to the factory. Runs are resumable: the run directory holds atomic
checkpoints, and running the same command again continues from the last one (a finished run
just evaluates again). Results also go to ``results.json`` in the run directory.

Usage::

    python scripts/train_marl.py                                   # the example game, MAPPO
    python scripts/train_marl.py --env agents.marl.examples:parallel_env \\
        --env-kwargs '{"n_agents": 3, "n_slots": 3}' --total-steps 6144 --ippo --seed 1
    python scripts/train_marl.py --per-agent-policies --run-dir runs/marl/mine --no-progress
    tensorboard --logdir runs/marl                                 # training curves
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_ENV = "agents.marl.examples:parallel_env"
RESULTS_FILE = "results.json"


def resolve_env(name: str) -> Callable[..., Any]:
    """The env factory ``name`` names; ``ValueError`` saying what is wrong."""
    if ":" in name:
        module_name, _, attribute = name.partition(":")
        if not module_name or not attribute:
            raise ValueError(f"--env {name!r}: expected 'module:factory'")
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise ValueError(f"--env {name!r}: cannot import {module_name!r} ({error})") from None
        factory = getattr(module, attribute, None)
        if not callable(factory):
            raise ValueError(f"--env {name!r}: {module_name} has no callable {attribute!r}")
        return factory
    from qnet_envs.registration import PARALLEL_ENVS

    if name not in PARALLEL_ENVS:
        known = ", ".join(sorted(PARALLEL_ENVS)) or "none registered yet"
        raise ValueError(
            f"--env {name!r} is neither 'module:factory' nor a registered PettingZoo env "
            f"(qnet_envs.registration.PARALLEL_ENVS: {known})"
        )
    return importlib.import_module(PARALLEL_ENVS[name]).parallel_env


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--env",
        default=DEFAULT_ENV,
        help=f"'module:factory' or a PARALLEL_ENVS name ({DEFAULT_ENV})",
    )
    parser.add_argument(
        "--env-kwargs", default="{}", help="JSON object of keyword arguments for the factory"
    )
    parser.add_argument(
        "--total-steps", type=int, default=20_000, help="env steps to train, resumed ones included"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the run")
    parser.add_argument(
        "--run-dir",
        type=Path,
        default=None,
        help="checkpoints, TensorBoard logs, results.json; an existing run resumes "
        "(default runs/marl/<env>-<critic>-seed<seed>)",
    )
    critic = parser.add_mutually_exclusive_group()
    critic.add_argument(
        "--mappo",
        dest="critic",
        action="store_const",
        const="mappo",
        help="centralised critic over all agents' observations (default)",
    )
    critic.add_argument(
        "--ippo",
        dest="critic",
        action="store_const",
        const="ippo",
        help="each agent's critic sees only its own observation",
    )
    critic.add_argument(
        "--state-critic",
        dest="critic",
        action="store_const",
        const="state",
        help="critic over the env's global state()",
    )
    parser.set_defaults(critic="mappo")
    parser.add_argument(
        "--per-agent-policies", action="store_true", help="every agent its own weights"
    )
    parser.add_argument("--steps-per-batch", type=int, default=512, help="env steps per update")
    parser.add_argument(
        "--n-envs", type=int, default=1, help="env copies stepped side by side (must divide it)"
    )
    parser.add_argument("--minibatch-size", type=int, default=128, help="env steps per minibatch")
    parser.add_argument("--epochs", type=int, default=4, help="PPO passes per update")
    parser.add_argument("--learning-rate", type=float, default=3e-4, help="Adam step size")
    parser.add_argument("--entropy-coef", type=float, default=0.01, help="entropy bonus")
    parser.add_argument(
        "--hidden-sizes", nargs="+", type=int, default=[64, 64], help="MLP widths (64 64)"
    )
    parser.add_argument(
        "--actor",
        default="mlp",
        help="actor network: 'mlp' over the flat observation, or 'choice-scorer' (one shared "
        "scorer per choice; envs with an observation_layout, e.g. qvpn_v0)",
    )
    parser.add_argument(
        "--gcn-layers",
        type=int,
        default=2,
        help="graph convolutions of the 'gnn-transformer' actor (2; the paper compares 1, 2, 4)",
    )
    parser.add_argument(
        "--checkpoint-every", type=int, default=10, help="updates between checkpoints (0: end)"
    )
    parser.add_argument("--eval-episodes", type=int, default=10, help="greedy episodes at the end")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    try:
        args.env_kwargs = json.loads(args.env_kwargs)
    except json.JSONDecodeError as error:
        parser.error(f"--env-kwargs is not JSON: {error}")
    if not isinstance(args.env_kwargs, dict):
        parser.error(f"--env-kwargs must be a JSON object, got {args.env_kwargs!r}")
    if args.eval_episodes < 1:
        parser.error(f"--eval-episodes must be >= 1, got {args.eval_episodes}")
    try:
        factory = resolve_env(args.env)
        factory(**args.env_kwargs).close()  # fail here, not inside training
    except (ValueError, TypeError) as error:
        parser.error(str(error))
    args.factory = factory
    from agents.marl import TrainArgs

    try:
        args.train_args = TrainArgs(
            total_steps=args.total_steps,
            steps_per_batch=args.steps_per_batch,
            n_envs=args.n_envs,
            minibatch_size=args.minibatch_size,
            epochs=args.epochs,
            learning_rate=args.learning_rate,
            entropy_coef=args.entropy_coef,
            hidden_sizes=tuple(args.hidden_sizes),
            critic=args.critic,
            per_agent_policies=args.per_agent_policies,
            actor=args.actor,
            gcn_layers=args.gcn_layers,
            seed=args.seed,
            run_dir=args.run_dir,
            checkpoint_every=args.checkpoint_every,
            progress_bar=not args.no_progress,
        )
    except ValueError as error:
        parser.error(_as_flags(str(error)))
    return args


def _as_flags(message: str) -> str:
    """A TrainArgs error in the CLI's words: field names become their ``--flags``."""
    from agents.marl import TrainArgs

    for field in sorted((f.name for f in dataclasses.fields(TrainArgs)), key=len, reverse=True):
        flag = "--" + field.replace("_", "-")
        message = re.sub(rf"(TrainArgs\.)?\b{field}\b", flag, message)
    return message


def markdown_table(agent_ids: tuple[str, ...], per_agent: list[float], total: float) -> str:
    lines = ["| agent | mean greedy episode return |", "|---|---:|"]
    lines += [
        f"| {agent} | {value:.4f} |" for agent, value in zip(agent_ids, per_agent, strict=True)
    ]
    lines.append(f"| **sum over agents** | {total:.4f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    from agents.marl import evaluate, train
    from agents.marl.batched import as_batched

    def env_fn() -> Any:
        return args.factory(**args.env_kwargs)

    if args.run_dir is None:
        label = args.env.rpartition(":")[2] if ":" in args.env else args.env
        args.run_dir = Path("runs") / "marl" / f"{label}-{args.critic}-seed{args.seed}"
    train_args = dataclasses.replace(args.train_args, run_dir=args.run_dir)
    started = time.perf_counter()
    result = train(env_fn, train_args)
    if result.resumed_from:
        print(f"resumed from the checkpoint at env step {result.resumed_from:,}", flush=True)
    greedy = evaluate(result.policy, env_fn, episodes=args.eval_episodes, seed=args.seed)
    probe = as_batched(env_fn())
    agent_ids = probe.agent_ids
    probe.close()
    print()
    print(markdown_table(agent_ids, greedy.per_agent.tolist(), greedy.total))
    print()
    print(
        f"{args.critic.upper()} trained {result.steps:,} env steps ({result.agent_steps:,} "
        f"agent-steps) in {result.wall_time_s:.1f} s (all sessions); this call took "
        f"{time.perf_counter() - started:.1f} s. Run directory: {args.run_dir}",
        flush=True,
    )
    results = {
        "env": args.env,
        "env_kwargs": args.env_kwargs,
        "critic": args.critic,
        "actor": args.actor,
        "per_agent_policies": args.per_agent_policies,
        "seed": args.seed,
        "steps": result.steps,
        "agent_steps": result.agent_steps,
        "eval_episodes": greedy.episodes,
        "per_agent_return": dict(zip(agent_ids, greedy.per_agent.tolist(), strict=True)),
        "total_return": greedy.total,
    }
    path = args.run_dir / RESULTS_FILE
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(results, indent=2))
    os.replace(tmp, path)
    return results


if __name__ == "__main__":
    main()
