"""Multi-agent PPO over a batched env: parameter sharing, IPPO or MAPPO, per-agent policies.

Proximal Policy Optimization (Schulman et al., arXiv:1707.06347, 2017) with generalised
advantage estimation (Schulman et al., arXiv:1506.02438) on every agent at once; with a
centralised critic it is MAPPO (Yu et al., "The Surprising Effectiveness of PPO in Cooperative
Multi-Agent Games", arXiv:2103.01955), with local critics IPPO (de Witt et al.,
arXiv:2011.09533). The pieces are TorchRL's: ``EnvBase.rollout`` over
:class:`~agents.marl.torch_env.BatchedTorchEnv`, ``MultiAgentMLP`` networks, GAE and
``ClipPPOLoss`` (masked to the agents still acting, ``("agents", "active")``).

Every update starts a fresh batch: the env is reseeded (from ``seed`` and the update index)
and reset, ``steps_per_batch`` env steps are collected (over ``n_envs`` copies), then
``epochs`` passes of minibatch PPO. So an update depends only on the weights, the optimizer,
torch's random state and its index: a run directory's atomic checkpoints
(``checkpoints/step-<env steps>/`` with ``state.pt`` and ``progress.json``,
:mod:`agents.checkpoints`) hold exactly those, and a resumed run continues bit for bit as if it
had not stopped.

Usage::

    from agents.marl import TrainArgs, evaluate, train
    from agents.marl.examples import parallel_env

    result = train(parallel_env, TrainArgs(total_steps=20_000, run_dir="runs/marl"))
    print(evaluate(result.policy, parallel_env, episodes=10))
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import ProbabilisticActor
from torchrl.objectives import ClipPPOLoss, ValueEstimators

from agents.checkpoints import CheckpointFormat, remove_stale_temporaries
from agents.marl.args import ARCHITECTURE_DEFAULTS, ARCHITECTURE_FIELDS, TrainArgs
from agents.marl.batched import EnvFactory, as_batched
from agents.marl.heads import make_head
from agents.marl.networks import STATE_ACTORS, graph_layout, observation_layout
from agents.marl.policy import LOG_PROB_KEY, VALUE_KEY, build_actor, build_critic
from agents.marl.torch_env import ACTION_KEY, ACTIVE_KEY, GROUP, REWARD_KEY, BatchedTorchEnv

STATE_FILE = "state.pt"
PROGRESS_FORMAT = 1
CHECKPOINT_FORMAT = CheckpointFormat(version=PROGRESS_FORMAT, payload=STATE_FILE)
"""A MARL checkpoint is complete with ``state.pt`` and a ``progress.json`` of this format."""
latest_checkpoint = CHECKPOINT_FORMAT.latest_checkpoint
read_progress = CHECKPOINT_FORMAT.read_progress


class UpdateStats(NamedTuple):
    """What one PPO update reports (also a row of ``progress.json``'s ``history``)."""

    update: int  # 1-based index of the update
    steps: int  # env steps trained on so far
    episodes: int  # episodes that ended inside this update's batch
    mean_return: float | None  # their return, averaged over episodes and agents
    team_return: float | None  # their return summed over agents, averaged over episodes
    loss_objective: float
    loss_critic: float
    entropy: float


class TrainResult(NamedTuple):
    """What :func:`train` returns."""

    policy: ProbabilisticActor  # the trained actor (use with :func:`agents.marl.evaluate`)
    critic: torch.nn.Module
    steps: int  # env steps trained on, resumed ones included
    agent_steps: int  # steps * n_agents
    updates: int
    history: list[UpdateStats]  # every update of the run, resumed sessions included
    resumed_from: int  # env steps of the checkpoint resumed from (0: fresh start)
    wall_time_s: float  # training time summed over all sessions
    checkpoint: Path | None  # the final checkpoint directory


@dataclasses.dataclass
class Learner:
    """The trainable parts of a run: env, actor, critic, loss, optimizer."""

    env: BatchedTorchEnv
    actor: ProbabilisticActor
    critic: torch.nn.Module
    loss: ClipPPOLoss
    optimizer: torch.optim.Optimizer

    @property
    def n_agents(self) -> int:
        return self.env.n_agents


def build_learner(env_fn: EnvFactory, args: TrainArgs) -> Learner:
    """Env, networks, loss and optimizer for ``args`` (weights initialised from torch's
    current random state)."""
    copies = [as_batched(env_fn()) for _ in range(args.n_envs)]
    reads_state = args.actor in STATE_ACTORS
    env = BatchedTorchEnv(copies, use_state=args.critic == "state" or reads_state)
    head = make_head(env.env.action_space, masked=env.has_action_mask)
    share = not args.per_agent_policies
    layout = observation_layout(copies[0])
    graph = graph_layout(copies[0]) if reads_state else None
    actor = build_actor(
        head,
        env.n_agents,
        env.obs_dim,
        args.hidden_sizes,
        share,
        args.actor,
        layout,
        graph,
        args.gcn_layers,
    )
    state_dim = None
    if args.critic == "state":
        state_dim = env.observation_spec["state"].shape[-1]
    critic = build_critic(
        args.critic, env.n_agents, env.obs_dim, args.hidden_sizes, share, state_dim
    )
    loss = ClipPPOLoss(
        actor_network=actor,
        critic_network=critic,
        clip_epsilon=args.clip_epsilon,
        entropy_coeff=args.entropy_coef,
        critic_coeff=args.critic_coef,
        loss_critic_type="l2",
        normalize_advantage=False,  # done in ppo_update, over acting agents only
    )
    loss.set_keys(
        reward=REWARD_KEY,
        action=ACTION_KEY,
        sample_log_prob=LOG_PROB_KEY,
        value=VALUE_KEY,
        done=(GROUP, "done"),
        terminated=(GROUP, "terminated"),
    )
    loss.loss_mask_key = ACTIVE_KEY
    loss.make_value_estimator(ValueEstimators.GAE, gamma=args.gamma, lmbda=args.gae_lambda)
    optimizer = torch.optim.Adam(loss.parameters(), lr=args.learning_rate)
    return Learner(env, actor, critic, loss, optimizer)


def batch_seed(seed: int, update: int) -> int:
    """The env seed of update ``update`` (0-based) of a run seeded ``seed``."""
    return int(np.random.SeedSequence([seed, update]).generate_state(1)[0])


def episode_returns(rewards: np.ndarray, done: np.ndarray) -> np.ndarray:
    """Returns ``(episodes, n_agents)`` of the episodes that end inside a batch that starts at
    an episode start: ``rewards`` ``(T, n_agents)``, ``done`` ``(T,)`` (over after step t)."""
    ends = np.flatnonzero(done)
    if ends.size == 0:
        return np.zeros((0, rewards.shape[1]))
    sums = np.cumsum(rewards, axis=0)[ends]
    return np.diff(np.concatenate([np.zeros((1, rewards.shape[1])), sums]), axis=0)


def collect(learner: Learner, steps: int, seed: int) -> Any:
    """One batch of ``steps`` env steps (all copies together) from a fresh reset seeded
    ``seed``, with the GAE advantages and value targets written in; ``(n_envs, steps /
    n_envs)``."""
    learner.env.set_seed(seed)
    with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):
        start = learner.env.reset()
        data = learner.env.rollout(
            steps // learner.env.n_envs,
            learner.actor,
            tensordict=start,
            auto_reset=False,
            break_when_any_done=False,
        )
        learner.loss.value_estimator(
            data,
            params=learner.loss.critic_network_params,
            target_params=learner.loss.target_critic_network_params,
        )
    return data


def standardize(advantage: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    """Advantages ``(B, n_agents, 1)`` shifted and scaled to mean 0, standard deviation 1 over
    the acting agents' entries (``active``); the others are set to 0."""
    active = active.expand_as(advantage)
    count = active.sum().clamp_min(1)
    mean = torch.where(active, advantage, 0.0).sum() / count
    var = torch.where(active, (advantage - mean) ** 2, 0.0).sum() / count
    return torch.where(active, (advantage - mean) / (var.sqrt() + 1e-8), 0.0)


def ppo_update(learner: Learner, data: Any, args: TrainArgs) -> dict[str, float]:
    """``args.epochs`` passes of clipped PPO over ``data`` (copies and time flattened) in
    minibatches; mean losses."""
    data = data.reshape(-1)
    totals = {"loss_objective": 0.0, "loss_critic": 0.0, "entropy": 0.0}
    n_steps = data.shape[0]
    count = 0
    for _ in range(args.epochs):
        order = torch.randperm(n_steps)
        for start in range(0, n_steps, args.minibatch_size):
            minibatch = data[order[start : start + args.minibatch_size]]
            if args.normalize_advantage:
                minibatch.set(
                    "advantage",
                    standardize(minibatch.get("advantage"), minibatch.get(ACTIVE_KEY)),
                )
            losses = learner.loss(minibatch)
            total = losses["loss_objective"] + losses["loss_critic"] + losses["loss_entropy"]
            learner.optimizer.zero_grad()
            total.backward()
            torch.nn.utils.clip_grad_norm_(learner.loss.parameters(), args.max_grad_norm)
            learner.optimizer.step()
            for key in totals:
                totals[key] += float(losses[key].detach())
            count += 1
    return {key: value / count for key, value in totals.items()}


def save_checkpoint(run_dir: Path, learner: Learner, steps: int, progress: dict[str, Any]) -> Path:
    """Write ``state.pt`` (loss module = actor + critic weights, optimizer, torch's random
    state) and ``progress.json`` as one atomic checkpoint ``step-<steps>``."""

    def write_payload(directory: Path) -> None:
        torch.save(
            {
                "loss": learner.loss.state_dict(),
                "optimizer": learner.optimizer.state_dict(),
                "torch_rng": torch.get_rng_state(),
            },
            directory / STATE_FILE,
        )

    return CHECKPOINT_FORMAT.write_checkpoint(run_dir, steps, write_payload, progress)


def load_checkpoint(checkpoint: Path, learner: Learner) -> dict[str, Any]:
    """Load a checkpoint's weights, optimizer and random state into ``learner``; its progress."""
    state = torch.load(checkpoint / STATE_FILE, weights_only=False)
    learner.loss.load_state_dict(state["loss"])
    learner.optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["torch_rng"])
    return read_progress(checkpoint)


def init_weights(source: str | Path, learner: Learner, args: TrainArgs) -> Path:
    """Load the actor and critic weights (not the optimizer or random state) of checkpoint
    ``source`` (or a run directory's latest) into ``learner``; ``ValueError`` when its
    architecture differs from ``args``'. The checkpoint it used."""
    path = CHECKPOINT_FORMAT.resolve(source)
    saved = {**ARCHITECTURE_DEFAULTS, **read_progress(path).get("args", {})}
    for field in ARCHITECTURE_FIELDS:
        value = getattr(args, field)
        value = list(value) if isinstance(value, tuple) else value
        if saved.get(field) != value:
            raise ValueError(
                f"TrainArgs.init_from: {path} has {field}={saved.get(field)!r}, this run "
                f"{value!r} (allowed: the same architecture)"
            )
    state = torch.load(path / STATE_FILE, weights_only=False)
    try:
        learner.loss.load_state_dict(state["loss"])
    except RuntimeError as error:
        raise ValueError(
            f"TrainArgs.init_from: {path}'s weights do not fit this env (allowed: size-agnostic "
            f"networks, or the same env): {error}"
        ) from error
    return path


def _check_resumable(checkpoint: Path, progress: dict[str, Any], args: TrainArgs) -> None:
    saved = {**ARCHITECTURE_DEFAULTS, **progress.get("args", {})}  # runs saved before a field
    for field in (*ARCHITECTURE_FIELDS, "seed", "steps_per_batch", "n_envs"):
        value = getattr(args, field)
        value = list(value) if isinstance(value, tuple) else value
        if saved.get(field) != value:
            raise ValueError(
                f"{checkpoint} holds a run with {field}={saved.get(field)!r}; TrainArgs.{field}="
                f"{value!r}: use another run_dir"
            )


def _json_args(args: TrainArgs) -> dict[str, Any]:
    out = {}
    for field in dataclasses.fields(args):
        value = getattr(args, field.name)
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[field.name] = value
    return out


def train(
    env_fn: EnvFactory,
    args: TrainArgs,
    callbacks: Sequence[Callable[[UpdateStats], None]] = (),
) -> TrainResult:
    """Train with multi-agent PPO; resume if ``args.run_dir`` has a checkpoint.

    Args:
        env_fn: builds the env: a PettingZoo parallel env with homogeneous spaces (stacked by
            :class:`~agents.marl.batched.StackedParallelEnv`) or a
            :class:`~agents.marl.batched.BatchedParallelEnv`.
        args: the run's settings. A resumed run must keep the architecture, the seed and
            ``steps_per_batch``; ``total_steps`` may grow.
        callbacks: called with every update's stats, after its checkpoint (if any).
    """
    torch.set_num_threads(args.torch_threads)
    torch.manual_seed(args.seed)
    learner = build_learner(env_fn, args)
    run_dir = None if args.run_dir is None else Path(args.run_dir)
    log_dir = args.log_dir
    if log_dir is None and run_dir is not None:
        log_dir = run_dir / "tensorboard"
    history: list[UpdateStats] = []
    previous_wall = 0.0
    checkpoint = None
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(run_dir)
        checkpoint = latest_checkpoint(run_dir)
    if checkpoint is not None:
        progress = read_progress(checkpoint)
        _check_resumable(checkpoint, progress, args)
        load_checkpoint(checkpoint, learner)
        history = [UpdateStats(**row) for row in progress["history"]]
        previous_wall = float(progress["wall_time_s"])
    elif args.init_from is not None:
        init_weights(args.init_from, learner, args)
    resumed_from = len(history) * args.steps_per_batch
    n_updates = -(-args.total_steps // args.steps_per_batch)
    writer = None
    if log_dir is not None and len(history) < n_updates:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(log_dir))
    bar = None
    if args.progress_bar:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=n_updates * args.steps_per_batch, initial=resumed_from, unit="step", desc="MARL"
        )
    started = time.perf_counter()

    def progress_now() -> dict[str, Any]:
        steps = len(history) * args.steps_per_batch
        return {
            "format": PROGRESS_FORMAT,
            "steps": steps,
            "agent_steps": steps * learner.n_agents,
            "n_agents": learner.n_agents,
            "updates": len(history),
            "args": _json_args(args),
            "history": [row._asdict() for row in history],
            "wall_time_s": previous_wall + time.perf_counter() - started,
        }

    final = checkpoint
    try:
        for update in range(len(history), n_updates):
            tick = time.perf_counter()
            data = collect(learner, args.steps_per_batch, batch_seed(args.seed, update))
            rewards = data["next", *REWARD_KEY][..., 0].numpy()  # (n_envs, T, n_agents)
            done = data["next", "done"][..., 0].numpy()
            returns = np.concatenate(
                [episode_returns(rewards[i], done[i]) for i in range(len(rewards))]
            )
            losses = ppo_update(learner, data, args)
            stats = UpdateStats(
                update=update + 1,
                steps=(update + 1) * args.steps_per_batch,
                episodes=len(returns),
                mean_return=float(returns.mean()) if len(returns) else None,
                team_return=float(returns.sum(axis=1).mean()) if len(returns) else None,
                **losses,
            )
            history.append(stats)
            if writer is not None:
                _log(writer, stats, learner.n_agents, time.perf_counter() - tick, args)
            if bar is not None:
                bar.update(args.steps_per_batch)
                if stats.mean_return is not None:
                    bar.set_postfix(mean_return=f"{stats.mean_return:.3f}")
            if (
                run_dir is not None
                and args.checkpoint_every
                and (stats.update % args.checkpoint_every == 0)
            ):
                final = save_checkpoint(run_dir, learner, stats.steps, progress_now())
            for callback in callbacks:
                callback(stats)
        if run_dir is not None and history and (final is None or final.name != _name(history)):
            final = save_checkpoint(run_dir, learner, history[-1].steps, progress_now())
    finally:
        if writer is not None:
            writer.close()
        if bar is not None:
            bar.close()
        learner.env.close()
    steps = len(history) * args.steps_per_batch
    return TrainResult(
        policy=learner.actor,
        critic=learner.critic,
        steps=steps,
        agent_steps=steps * learner.n_agents,
        updates=len(history),
        history=history,
        resumed_from=resumed_from,
        wall_time_s=progress_now()["wall_time_s"] if steps > resumed_from else previous_wall,
        checkpoint=final,
    )


def _name(history: list[UpdateStats]) -> str:
    return f"step-{history[-1].steps:012d}"


def _log(writer: Any, stats: UpdateStats, n_agents: int, seconds: float, args: TrainArgs) -> None:
    step = stats.steps
    if stats.mean_return is not None:
        writer.add_scalar("marl/mean_return", stats.mean_return, step)
        writer.add_scalar("marl/team_return", stats.team_return, step)
    writer.add_scalar("marl/loss_objective", stats.loss_objective, step)
    writer.add_scalar("marl/loss_critic", stats.loss_critic, step)
    writer.add_scalar("marl/entropy", stats.entropy, step)
    writer.add_scalar("marl/agent_steps_per_s", args.steps_per_batch * n_agents / seconds, step)


def load_policy(
    checkpoint: str | Path, env_fn: EnvFactory, args: TrainArgs | None = None
) -> ProbabilisticActor:
    """The actor of a checkpoint (or of a run directory's latest checkpoint), rebuilt for
    ``env_fn``'s env with the architecture recorded in its ``progress.json``."""
    path = CHECKPOINT_FORMAT.resolve(checkpoint)
    saved = read_progress(path)["args"]
    if args is None:
        args = TrainArgs(
            hidden_sizes=tuple(saved["hidden_sizes"]),
            critic=saved["critic"],
            per_agent_policies=saved["per_agent_policies"],
            actor=saved.get("actor", ARCHITECTURE_DEFAULTS["actor"]),
            gcn_layers=saved.get("gcn_layers", ARCHITECTURE_DEFAULTS["gcn_layers"]),
        )
    learner = build_learner(env_fn, args)
    state = torch.load(path / STATE_FILE, weights_only=False)
    learner.loss.load_state_dict(state["loss"])
    learner.env.close()
    return learner.actor
