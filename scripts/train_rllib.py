"""Train Ray RLlib PPO (new API stack) on an env of the suite, locally or on a Ray cluster.

``--env`` is a Gymnasium id of the suite (``qnet_envs/SwapRouting-v0``, ...) or a PettingZoo
env of ``qnet_envs.registration.PARALLEL_ENVS`` (``qvpn_v0``, ``planning_v0``,
``offloading_v0``, through RLlib's ``ParallelPettingZooEnv``); ``--env-kwargs`` is a JSON object
for the env (``{"scenario": "white-noise-16"}``). PettingZoo agents share one policy
(``--policies shared``) or get one each (``per-agent``). Action masks (``info["action_mask"]``)
are applied by RLlib's action-masking PPO module unless ``--no-action-mask``. Prints each
iteration's mean episode return and env-steps/s (one env step: every agent acts once), saves a
checkpoint (``algo.save_to_path``) every ``--checkpoint-every`` iterations and at the end, and
``--resume PATH`` continues from one through ``algo.restore_from_path`` (the env and model
arguments come from the checkpoint's ``train_rllib.json``). Needs the ``[rllib]`` extra in its
own virtual environment (docs/rllib.md).

Usage::

    python scripts/train_rllib.py --env qnet_envs/SwapRouting-v0 --iterations 10
    python scripts/train_rllib.py --env qvpn_v0 --env-kwargs '{"instance": "tiny"}' \\
        --policies per-agent --num-env-runners 2
    python scripts/train_rllib.py --resume runs/rllib/qvpn_v0/iteration-0010 --iterations 5
    python scripts/train_rllib.py --address auto ...          # join a running Ray cluster
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ARGS_FILE = "train_rllib.json"
#: Arguments that fix the env and the model: a resumed run takes them from its checkpoint.
MODEL_ARGS = (
    "env",
    "env_kwargs",
    "policies",
    "action_mask",
    "train_batch_size",
    "minibatch_size",
    "num_epochs",
    "lr",
    "hidden",
    "seed",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="qnet_envs/SwapRouting-v0")
    parser.add_argument("--env-kwargs", default="{}", help="JSON object passed to the env")
    parser.add_argument("--policies", default="shared", help="shared | per-agent")
    parser.add_argument(
        "--no-action-mask", dest="action_mask", action="store_false", help="train unmasked"
    )
    parser.add_argument("--iterations", type=int, default=10, help="training iterations to run")
    parser.add_argument("--num-env-runners", type=int, default=1, help="0: sample in the driver")
    parser.add_argument("--train-batch-size", type=int, default=1000, help="env steps per update")
    parser.add_argument("--minibatch-size", type=int, default=250)
    parser.add_argument("--num-epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--hidden", default="64,64", help="hidden layer sizes, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--address", default=None, help="Ray cluster to join ('auto', host:port)")
    parser.add_argument("--num-cpus", type=int, default=None, help="CPUs of a local Ray instance")
    parser.add_argument("--checkpoint-dir", default=None, help="default runs/rllib/<env>")
    parser.add_argument("--checkpoint-every", type=int, default=5, help="iterations; 0: at the end")
    parser.add_argument("--resume", default=None, help="checkpoint folder to continue from")
    parser.add_argument("--json", default=None, help="write per-iteration results here")
    args = parser.parse_args(argv)
    try:
        validate(args, argv if argv is not None else sys.argv[1:])
    except ValueError as error:
        parser.error(str(error))
    return args


def given(argv: list[str], name: str) -> bool:
    """Whether option ``--name`` is on the command line."""
    flag = "--" + name.replace("_", "-")
    if name == "action_mask":
        flag = "--no-action-mask"
    return any(a == flag or a.startswith(flag + "=") for a in argv)


def validate(args: argparse.Namespace, argv: list[str]) -> None:
    """Check every argument; resumed runs take :data:`MODEL_ARGS` from the checkpoint."""
    if args.resume is not None:
        folder = Path(args.resume)
        saved_file = folder / ARGS_FILE
        if not saved_file.is_file():
            raise ValueError(f"--resume: {folder} holds no {ARGS_FILE} (not a checkpoint of ours)")
        saved = json.loads(saved_file.read_text())
        for name in MODEL_ARGS:
            value = saved[name]
            if name == "env_kwargs":
                value = json.dumps(value)
            elif name == "hidden":
                value = ",".join(map(str, value))
            if given(argv, name) and getattr(args, name) != value:
                raise ValueError(
                    f"--{name.replace('_', '-')}: {getattr(args, name)!r} differs from the "
                    f"checkpoint's {value!r} (leave it out when resuming)"
                )
            setattr(args, name, value)
    from agents.rllib.envs import POLICIES, is_parallel

    is_parallel(args.env)  # raises for an unknown env
    try:
        kwargs = json.loads(args.env_kwargs)
    except json.JSONDecodeError as error:
        raise ValueError(f"--env-kwargs: not JSON ({error})") from None
    if not isinstance(kwargs, dict):
        raise ValueError(f"--env-kwargs: {args.env_kwargs!r} (allowed: a JSON object)")
    args.env_kwargs_dict = kwargs
    if args.policies not in POLICIES:
        raise ValueError(f"--policies: {args.policies!r} (allowed: {', '.join(POLICIES)})")
    if args.policies == "per-agent" and not is_parallel(args.env):
        raise ValueError(
            f"--policies: 'per-agent' needs a PettingZoo env ({args.env} has one agent)"
        )
    try:
        args.hidden_sizes = tuple(int(h) for h in args.hidden.split(","))
    except ValueError:
        raise ValueError(
            f"--hidden: {args.hidden!r} (allowed: positive ints, comma-separated)"
        ) from None
    for name, low in (
        ("iterations", 0),
        ("num_env_runners", 0),
        ("train_batch_size", 1),
        ("minibatch_size", 1),
        ("num_epochs", 1),
        ("checkpoint_every", 0),
    ):
        if getattr(args, name) < low:
            raise ValueError(
                f"--{name.replace('_', '-')}: {getattr(args, name)} (allowed: >= {low})"
            )
    if min(args.hidden_sizes) < 1:
        raise ValueError(f"--hidden: {args.hidden!r} (allowed: positive ints, comma-separated)")
    if args.minibatch_size > args.train_batch_size:
        raise ValueError(
            f"--minibatch-size: {args.minibatch_size} (allowed: <= --train-batch-size "
            f"{args.train_batch_size})"
        )
    if not args.lr > 0:
        raise ValueError(f"--lr: {args.lr} (allowed: > 0)")
    if args.num_cpus is not None and (args.num_cpus < 1 or args.address is not None):
        raise ValueError(f"--num-cpus: {args.num_cpus} (allowed: >= 1, only without --address)")
    if args.checkpoint_dir is None:
        args.checkpoint_dir = str(Path("runs") / "rllib" / args.env.replace("/", "_"))


def sampled(result: dict[str, Any]) -> tuple[float, float]:
    """Env steps and agent steps sampled in the iteration of ``result``."""
    runners = result.get("env_runners", {})
    agent_steps = runners.get("num_agent_steps_sampled", 0)
    if isinstance(agent_steps, dict):
        agent_steps = sum(agent_steps.values())
    return float(runners.get("num_env_steps_sampled", 0)), float(agent_steps)


def save(algo: Any, args: argparse.Namespace) -> Path:
    """Checkpoint ``algo`` into ``<checkpoint-dir>/iteration-NNNN`` with our arguments."""
    folder = Path(args.checkpoint_dir).resolve() / f"iteration-{algo.iteration:04d}"
    algo.save_to_path(str(folder))
    saved = {name: getattr(args, name) for name in MODEL_ARGS}
    saved["env_kwargs"] = args.env_kwargs_dict
    saved["hidden"] = list(args.hidden_sizes)
    (folder / ARGS_FILE).write_text(json.dumps(saved, indent=2) + "\n")
    return folder


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    import ray
    import torch

    from agents.rllib.envs import build_config

    torch.set_num_threads(1)
    if args.address is not None:
        ray.init(address=args.address)
    else:
        cpus = args.num_cpus or max(os.cpu_count() or 1, args.num_env_runners + 1)
        ray.init(num_cpus=cpus, include_dashboard=False)
    config = build_config(
        args.env,
        args.env_kwargs_dict,
        policies=args.policies,
        mask=args.action_mask,
        num_env_runners=args.num_env_runners,
        train_batch_size=args.train_batch_size,
        minibatch_size=args.minibatch_size,
        num_epochs=args.num_epochs,
        lr=args.lr,
        hidden=args.hidden_sizes,
        seed=args.seed,
    )
    algo = config.build_algo()
    if args.resume is not None:
        algo.restore_from_path(str(Path(args.resume).resolve()))
        print(f"resumed from {args.resume} at iteration {algo.iteration}", flush=True)
    rows: list[dict[str, Any]] = []
    print(f"{'iter':>5} {'return':>10} {'env steps':>10} {'env-steps/s':>12} {'agent-steps/s':>14}")
    for _ in range(args.iterations):
        start = time.perf_counter()
        result = algo.train()
        wall = time.perf_counter() - start
        steps, agent_steps = sampled(result)
        runners = result.get("env_runners", {})
        ret = runners.get("episode_return_mean")
        row = {
            "iteration": algo.iteration,
            "episode_return_mean": None if ret is None else float(ret),
            "env_steps_lifetime": float(runners.get("num_env_steps_sampled_lifetime", 0)),
            "env_steps": steps,
            "env_steps_per_s": steps / wall,
            "agent_steps_per_s": agent_steps / wall,
            "env_step_s": float(runners.get("env_step_timer", float("nan"))),
            "wall_s": wall,
        }
        rows.append(row)
        ret_text = "nan" if ret is None else f"{ret:.4f}"
        print(
            f"{row['iteration']:>5} {ret_text:>10} {int(row['env_steps_lifetime']):>10} "
            f"{row['env_steps_per_s']:>12,.0f} {row['agent_steps_per_s']:>14,.0f}",
            flush=True,
        )
        if args.checkpoint_every and algo.iteration % args.checkpoint_every == 0:
            print(f"checkpoint {save(algo, args)}", flush=True)
    if not (args.checkpoint_every and rows and algo.iteration % args.checkpoint_every == 0):
        print(f"checkpoint {save(algo, args)}", flush=True)
    if args.json is not None:
        record = {"args": vars(args), "iterations": rows}
        Path(args.json).write_text(json.dumps(record, indent=2, default=str) + "\n")
    algo.stop()
    ray.shutdown()
    return rows


if __name__ == "__main__":
    main()
