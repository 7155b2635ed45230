"""Train the shared GNN + Transformer planning policy (QPLAN's first stage) with MAPPO/IPPO.

One stage per instance, in order (e.g. ``tiny abilene cogentco``): every stage is a run of
``agents.marl.train`` with ``actor="gnn-transformer"`` in ``<run-dir>/<i>-<instance>/``, on
``n_envs`` copies of ``planning_v0``, copy ``c`` planning training matrix ``c mod n_train``
(test matrices stay for evaluation), starting from the previous stage's final weights
(``TrainArgs.init_from``; the actor and the IPPO critic are size agnostic). Checkpoints are the
trainer's (atomic, resumable: rerun the same command to continue or extend ``--steps``); every
stage directory also gets ``planning_env.json``, which ``agents.planning.first_stage_levels``
reads. The last stage's final checkpoint is printed.

    PYTHONPATH=$PWD nice python scripts/train_planning.py --instances tiny abilene \\
        --steps 4096 8192 --run-dir runs/planpol
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import time
from pathlib import Path

import torch

from agents.marl import TrainArgs, train
from agents.planning import with_matrix_shared, write_env_settings
from qnet_envs.planning import Instance
from qnet_envs.planning.batched import PlanningBatchedEnv, resolve_credit
from qnet_envs.validation import FieldError


def env_factory(instance: Instance, settings: dict):
    """``env_fn`` for the trainer: the ``c``-th call plans training matrix ``c mod n_train``."""
    matrices = instance.train_matrices or (instance.matrix_index,)
    calls = {"n": 0}

    def make() -> PlanningBatchedEnv:
        index = matrices[calls["n"] % len(matrices)]
        calls["n"] += 1
        return PlanningBatchedEnv(with_matrix_shared(instance, index), **settings)

    return make


def main(argv: list[str] | None = None) -> Path | None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", nargs="+", default=["tiny", "abilene"])
    parser.add_argument(
        "--steps", nargs="+", type=int, default=[4096, 8192], help="env steps per stage"
    )
    parser.add_argument("--run-dir", type=Path, default=Path("runs/planpol"))
    parser.add_argument("--gcn-layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--levels", type=int, default=4)
    parser.add_argument("--unmet-penalty", type=float, default=2.0)
    parser.add_argument("--imbalance-penalty", type=float, default=0.1)
    parser.add_argument("--n-envs", type=int, nargs="+", default=[8], help="per stage or one")
    parser.add_argument("--steps-per-batch", type=int, nargs="+", default=[64])
    parser.add_argument("--minibatch", type=int, nargs="+", default=[16])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--entropy", type=float, default=0.003)
    parser.add_argument("--gamma", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--pairs",
        type=int,
        default=None,
        help="train on this many demands (drawn like traffic.pairs) instead of the instance's",
    )
    parser.add_argument(
        "--credit",
        default="team",
        help='reward credit: "team" (the cooperative reward), "own" (each agent its exact '
        "share, scaled by the number of agents) or a weight in [0, 1] between them",
    )
    parser.add_argument("--checkpoint-every", type=int, default=5)
    parser.add_argument(
        "--init-from", type=Path, default=None, help="initial weights of the first stage"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if len(args.steps) != len(args.instances):
        parser.error("--steps: one count per instance")
    credit: str | float = args.credit
    if credit not in ("team", "own"):
        with contextlib.suppress(ValueError):
            credit = float(credit)
    try:
        resolve_credit(credit)
    except FieldError as error:
        parser.error(f"--{error}")

    def per_stage(values: list[int], i: int) -> int:
        return values[i] if len(values) > 1 else values[0]

    settings = {
        "rounds": args.rounds,
        "levels": args.levels,
        "unmet_penalty": args.unmet_penalty,
        "imbalance_penalty": args.imbalance_penalty,
        "credit": credit,
    }
    previous: Path | None = args.init_from
    for i, (name, steps) in enumerate(zip(args.instances, args.steps, strict=True)):
        stage = args.run_dir / f"{i}-{Path(name).stem}"
        started = time.perf_counter()
        instance = Instance.load(name)
        if args.pairs is not None:
            instance = dataclasses.replace(instance, pairs=args.pairs)
        _ = instance.paths
        loaded = time.perf_counter() - started
        write_env_settings(stage, **settings)
        train_args = TrainArgs(
            total_steps=steps,
            steps_per_batch=per_stage(args.steps_per_batch, i),
            n_envs=per_stage(args.n_envs, i),
            minibatch_size=per_stage(args.minibatch, i),
            epochs=args.epochs,
            learning_rate=args.lr,
            entropy_coef=args.entropy,
            gamma=args.gamma,
            hidden_sizes=(args.hidden, args.hidden),
            critic="ippo",
            actor="gnn-transformer",
            gcn_layers=args.gcn_layers,
            seed=args.seed,
            run_dir=stage,
            checkpoint_every=args.checkpoint_every,
            init_from=previous,
        )

        def report(stats, name=name) -> None:
            if stats.update % 5 == 0 and stats.mean_return is not None:
                print(
                    f"{name} update {stats.update} steps {stats.steps} mean return "
                    f"{stats.mean_return:.4f} entropy {stats.entropy:.3f}",
                    flush=True,
                )

        result = train(env_factory(instance, settings), train_args, callbacks=[report])
        previous = result.checkpoint
        summary = {
            "instance": name,
            "load_s": loaded,
            "steps": result.steps,
            "updates": result.updates,
            "train_wall_s": result.wall_time_s,
            "final_mean_return": result.history[-1].mean_return if result.history else None,
            "checkpoint": str(result.checkpoint),
            "init_from": None if train_args.init_from is None else str(train_args.init_from),
        }
        print(json.dumps(summary), flush=True)
    print(f"final checkpoint: {previous}")
    return previous


if __name__ == "__main__":
    main()
