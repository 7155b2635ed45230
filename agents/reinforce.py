"""REINFORCE with a baseline, in plain torch, one file (CleanRL style).

Williams, "Simple statistical gradient-following algorithms for connectionist reinforcement
learning", Machine Learning 8, 229-256 (1992). The policy gradient is estimated from whole
episodes: ``grad J = E[sum_t grad log pi(a_t|s_t) (G_t - b(s_t))]`` with ``G_t`` the return from
step ``t`` and ``b`` a baseline that lowers the variance without biasing the gradient: a learnt
state-value head (default), a running mean of the returns, or none.

Works on any Gymnasium env with a ``Box`` observation and a ``Discrete`` action space. With
``masked=True`` it samples only the actions that ``env.action_masks()`` allows (the routing env
has that hook); otherwise invalid actions are the env's business (the routing env ends the
episode with a penalty, as in the paper). For the routing env it counts the paper's metric: the
env actions played until the agent first plays an oracle-optimal route.

Runs are deterministic for a seed, and resumable: a checkpoint is written atomically after a
policy update (``checkpoints/step-<timesteps>/`` with ``state.pt`` and ``progress.json``) and
holds the networks, the optimizer, the baseline and every random state, so a run killed and
restarted with the same arguments ends with exactly the parameters of an uninterrupted one.

Usage::

    from agents.reinforce import Args, evaluate, train

    result = train(Args(env_kwargs={"scenario": "default"}, run_dir="runs/reinforce"))
    route, fidelity, actions, event = evaluate(result.agent, "default")
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch
from torch import nn

import qnet_envs  # noqa: F401  (registers the qnet_envs/ ids)
from agents.checkpoints import CheckpointFormat, remove_stale_temporaries
from agents.rollout import GreedyRollout, greedy_rollout

STATE_FILE = "state.pt"
PROGRESS_FORMAT = 1
FIDELITY_TOLERANCE = 1e-9
BASELINES = ("value", "mean", "none")
_MASKED_LOGIT = -1e8


# ------------------------------------------------------------------------------------ ARGS
@dataclasses.dataclass
class Args:
    """Settings of a REINFORCE run."""

    env_id: str = "qnet_envs/SwapRouting-v0"
    """Gymnasium id of the env (Box observations, Discrete actions)."""
    env_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    """Keyword arguments of ``gym.make``, e.g. ``{"scenario": "default"}``."""
    total_timesteps: int = 50_000
    """Env actions to train for (the last batch of episodes is completed, so a few more)."""
    episodes_per_update: int = 8
    """Whole episodes per gradient step."""
    learning_rate: float = 1e-3
    """Adam step size of the policy and the value head."""
    gamma: float = 1.0
    """Discount of the returns; the routing game is short and episodic, so undiscounted."""
    baseline: str = "value"
    """``"value"``: a learnt state-value head; ``"mean"``: running mean of the returns;
    ``"none"``: plain REINFORCE."""
    baseline_rate: float = 0.1
    """Step size of the running-mean baseline."""
    normalize_advantages: bool = True
    """Scale each batch's advantages to zero mean and unit variance."""
    ent_coef: float = 0.01
    """Weight of the entropy bonus, which keeps the policy exploring."""
    vf_coef: float = 0.5
    """Weight of the value head's squared error (``baseline="value"``)."""
    max_grad_norm: float = 0.5
    """Gradient clipping norm."""
    hidden_size: int = 64
    """Width of the two hidden layers of the policy and the value networks."""
    masked: bool = False
    """Sample only the actions ``env.action_masks()`` allows."""
    seed: int = 0
    """Seeds the networks' initialisation, the action sampling and the env."""
    run_dir: str | Path | None = None
    """Directory for checkpoints and TensorBoard logs; ``None`` trains in memory only."""
    log_dir: str | Path | None = None
    """TensorBoard directory; ``None`` means ``<run_dir>/tensorboard`` (none without run_dir)."""
    checkpoint_every: int = 10_000
    """Checkpoint after the first update at least this many actions after the last one;
    0 checkpoints only at the end. Needs ``run_dir``."""
    optimal_fidelity: float | None = None
    """Oracle-optimal ``F`` for the first-optimal metric; ``None`` asks
    ``agents.baselines.oracle`` when the env is a plain routing env, else no metric."""
    stop_at_optimal: bool = False
    """Stop after the update in which the agent first plays an optimal route."""
    torch_threads: int = 1
    """``torch.set_num_threads`` for the run; one thread is fastest for small networks."""
    progress_bar: bool = False
    """Show a tqdm progress bar over ``total_timesteps``."""

    def __post_init__(self) -> None:
        for field in ("total_timesteps", "episodes_per_update", "hidden_size", "torch_threads"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Args.{field} must be a positive integer, got {value!r}")
        if self.baseline not in BASELINES:
            raise ValueError(f"Args.baseline must be one of {BASELINES}, got {self.baseline!r}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ValueError(f"Args.gamma must lie in [0, 1], got {self.gamma}")
        if not 0.0 < self.baseline_rate <= 1.0:
            raise ValueError(f"Args.baseline_rate must lie in (0, 1], got {self.baseline_rate}")
        if self.checkpoint_every < 0:
            raise ValueError(f"Args.checkpoint_every must be >= 0, got {self.checkpoint_every}")


# ----------------------------------------------------------------------------------- AGENT
class Agent(nn.Module):
    """A softmax policy and a state-value head, two separate MLPs (CleanRL's layout)."""

    def __init__(self, obs_size: int, num_actions: int, hidden_size: int = 64) -> None:
        super().__init__()
        self.actor = nn.Sequential(
            _layer(nn.Linear(obs_size, hidden_size)),
            nn.Tanh(),
            _layer(nn.Linear(hidden_size, hidden_size)),
            nn.Tanh(),
            _layer(nn.Linear(hidden_size, num_actions), std=0.01),
        )
        self.critic = nn.Sequential(
            _layer(nn.Linear(obs_size, hidden_size)),
            nn.Tanh(),
            _layer(nn.Linear(hidden_size, hidden_size)),
            nn.Tanh(),
            _layer(nn.Linear(hidden_size, 1), std=1.0),
        )

    def logits(self, obs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Action logits, shape (batch, num_actions); masked-out actions get ~zero probability."""
        logits = self.actor(obs)
        if mask is not None:
            logits = logits.masked_fill(~mask, _MASKED_LOGIT)
        return logits

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """State values, shape (batch,)."""
        return self.critic(obs).squeeze(-1)


def _layer(layer: nn.Linear, std: float = float(np.sqrt(2.0))) -> nn.Linear:
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, 0.0)
    return layer


class TrainResult(NamedTuple):
    """What :func:`train` returns."""

    agent: Agent
    timesteps: int  # env actions trained on, resumed ones included
    episodes: int
    first_optimal_step: int | None  # actions until the first oracle-optimal route, if tracked
    first_optimal_route: tuple[int, ...] | None
    best_fidelity: float | None  # best F of a route that reached Bob (routing envs)
    optimal_fidelity: float | None
    resumed_from: int  # timesteps of the checkpoint resumed from (0: fresh start)
    wall_time_s: float  # summed over all sessions of the run
    checkpoint: Path | None  # the final checkpoint directory


# ----------------------------------------------------------------------------- CHECKPOINTS
CHECKPOINT_FORMAT = CheckpointFormat(version=PROGRESS_FORMAT, payload=STATE_FILE)
"""A REINFORCE checkpoint is complete with ``state.pt`` and a ``progress.json`` of this format."""
checkpoint_dirs = CHECKPOINT_FORMAT.checkpoint_dirs
latest_checkpoint = CHECKPOINT_FORMAT.latest_checkpoint
read_progress = CHECKPOINT_FORMAT.read_progress


def save_checkpoint(
    run_dir: str | Path, timesteps: int, state: dict[str, Any], progress: dict[str, Any]
) -> Path:
    """Write ``state.pt`` and ``progress.json`` as one atomic checkpoint ``step-<timesteps>``.

    See :meth:`agents.checkpoints.CheckpointFormat.write_checkpoint`: a kill at any point leaves
    the previous checkpoint untouched.
    """
    return CHECKPOINT_FORMAT.write_checkpoint(
        run_dir, timesteps, lambda directory: torch.save(state, directory / STATE_FILE), progress
    )


# ------------------------------------------------------------------------------ ENV HELPERS
def make_env(args: Args) -> gym.Env:
    """``gym.make(env_id, **env_kwargs)``, checked to have Box observations, Discrete actions."""
    env = gym.make(args.env_id, **args.env_kwargs)
    if not isinstance(env.observation_space, gym.spaces.Box):
        raise ValueError(f"{args.env_id}: REINFORCE needs a Box observation space")
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise ValueError(f"{args.env_id}: REINFORCE needs a Discrete action space")
    return env


def _action_mask(env: gym.Env, num_actions: int, masked: bool) -> np.ndarray:
    if not masked:
        return np.ones(num_actions, dtype=bool)
    return np.asarray(env.get_wrapper_attr("action_masks")(), dtype=bool)


def _routing_target(env: gym.Env, args: Args) -> tuple[float | None, str]:
    """The optimal ``F`` to look for and the info key holding ``F`` (routing envs only)."""
    from qnet_envs.routing.env import SwapRoutingEnv

    base = env.unwrapped
    figure_of_merit = "singlet_fidelity"
    if isinstance(base, SwapRoutingEnv):
        figure_of_merit = base.scenario.figure_of_merit
    if args.optimal_fidelity is not None:
        return float(args.optimal_fidelity), figure_of_merit
    if type(base) is SwapRoutingEnv:
        from agents.baselines.oracle import best_route

        return float(best_route(base.scenario)[1]), figure_of_merit
    return None, figure_of_merit


def _json_safe(value: Any) -> Any:
    """Args as JSON: scenarios and paths become their names."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return getattr(value, "name", str(value))


# ----------------------------------------------------------------------------------- TRAIN
def train(args: Args) -> TrainResult:
    """Train a REINFORCE agent; resume from the run directory's latest checkpoint if any.

    A checkpoint holds the networks, Adam's state, the running-mean baseline, the counters, the
    first-optimal record and every random state (torch's sampler, the env's ``np_random``), and
    is taken between updates, at an episode boundary; resuming from it continues the exact run.
    An env with internal state beyond ``np_random`` that outlives an episode (the evolving
    routing env's clock) restarts that state instead.
    """
    torch.set_num_threads(args.torch_threads)
    # SEEDING
    torch.manual_seed(args.seed)
    sampler = torch.Generator().manual_seed(args.seed)
    env = make_env(args)
    num_actions = int(env.action_space.n)
    obs_size = int(np.prod(env.observation_space.shape))
    agent = Agent(obs_size, num_actions, args.hidden_size)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    optimal, figure_of_merit = _routing_target(env, args)

    # RUN STATE (restored from a checkpoint when resuming)
    global_step, episodes, running_mean = 0, 0, 0.0
    first_step: int | None = None
    first_route: list[int] | None = None
    best_fidelity: float | None = None
    best_route: list[int] | None = None
    previous_wall = 0.0
    resumed_from = 0
    run_dir = None if args.run_dir is None else Path(args.run_dir)
    checkpoint = None
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(run_dir)
        checkpoint = latest_checkpoint(run_dir)
    if checkpoint is None:
        obs, _ = env.reset(seed=args.seed)
        env.action_space.seed(args.seed)
    else:
        progress = read_progress(checkpoint)
        if progress.get("env_id") != args.env_id:
            raise ValueError(
                f"{checkpoint} holds a run on {progress.get('env_id')!r}, not {args.env_id!r}"
            )
        if progress["args"]["masked"] != args.masked:
            raise ValueError(
                f"{checkpoint} holds a run with masked={progress['args']['masked']}; "
                f"Args.masked={args.masked}: use another run_dir"
            )
        state = torch.load(checkpoint / STATE_FILE, weights_only=True)
        agent.load_state_dict(state["agent"])
        optimizer.load_state_dict(state["optimizer"])
        sampler.set_state(state["sampler"])
        torch.set_rng_state(state["torch"])
        env.reset(seed=args.seed)  # seeds the env once, as the first session did
        env.unwrapped.np_random.bit_generator.state = json.loads(state["env_np_random"])
        obs, _ = env.reset()
        global_step, episodes = progress["timesteps"], progress["episodes"]
        running_mean = progress["running_mean"]
        first_step, first_route = progress["first_optimal_step"], progress["first_optimal_route"]
        best_fidelity, best_route = progress["best_fidelity"], progress["best_route"]
        previous_wall = progress["wall_time_s"]
        resumed_from = global_step

    log_dir = args.log_dir
    if log_dir is None and run_dir is not None:
        log_dir = run_dir / "tensorboard"
    writer = None
    if log_dir is not None:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(log_dir))
    progress_bar = None
    if args.progress_bar:
        from tqdm import tqdm

        progress_bar = tqdm(total=args.total_timesteps, initial=global_step, unit="action")
    started = time.perf_counter()

    def snapshot() -> tuple[dict[str, Any], dict[str, Any]]:
        state = {
            "agent": agent.state_dict(),
            "optimizer": optimizer.state_dict(),
            "sampler": sampler.get_state(),
            "torch": torch.get_rng_state(),
            "env_np_random": json.dumps(env.unwrapped.np_random.bit_generator.state),
        }
        progress = {
            "format": PROGRESS_FORMAT,
            "algo": "reinforce",
            "env_id": args.env_id,
            "args": _json_safe(dataclasses.asdict(args)),
            "timesteps": global_step,
            "episodes": episodes,
            "running_mean": running_mean,
            "optimal_fidelity": optimal,
            "first_optimal_step": first_step,
            "first_optimal_route": first_route,
            "best_fidelity": best_fidelity,
            "best_route": best_route,
            "wall_time_s": previous_wall + time.perf_counter() - started,
        }
        return state, progress

    last_checkpoint = global_step
    while global_step < args.total_timesteps and not (
        args.stop_at_optimal and first_step is not None
    ):
        # ROLLOUT: whole episodes with the current policy, no gradients
        batch_obs, batch_masks, batch_actions, batch_returns = [], [], [], []
        episode_returns = []
        for _ in range(args.episodes_per_update):
            rewards = []
            done = False
            while not done:
                mask = _action_mask(env, num_actions, args.masked)
                obs_t = torch.as_tensor(obs, dtype=torch.float32).reshape(1, -1)
                mask_t = torch.as_tensor(mask).reshape(1, -1)
                with torch.no_grad():
                    probs = torch.softmax(agent.logits(obs_t, mask_t), dim=-1)
                action = int(torch.multinomial(probs[0], 1, generator=sampler))
                next_obs, reward, terminated, truncated, info = env.step(action)
                global_step += 1
                batch_obs.append(obs_t[0])
                batch_masks.append(mask_t[0])
                batch_actions.append(action)
                rewards.append(float(reward))
                obs, done = next_obs, terminated or truncated
            episodes += 1
            # FIRST-OPTIMAL METRIC (routing envs): the paper's count of actions
            if info.get("event") == "arrived":
                fidelity = float(info[figure_of_merit])
                if best_fidelity is None or fidelity > best_fidelity:
                    best_fidelity, best_route = fidelity, list(info["route"])
                if (
                    optimal is not None
                    and first_step is None
                    and fidelity >= optimal - FIDELITY_TOLERANCE
                ):
                    first_step, first_route = global_step, list(info["route"])
                    if writer is not None:
                        writer.add_scalar("routing/first_optimal_step", first_step, global_step)
            # RETURNS-TO-GO: G_t = r_t + gamma G_{t+1}
            returns = np.zeros(len(rewards))
            future = 0.0
            for t in reversed(range(len(rewards))):
                future = rewards[t] + args.gamma * future
                returns[t] = future
            batch_returns.extend(returns.tolist())
            episode_returns.append(returns[0])
            obs, _ = env.reset()

        # ALGO LOGIC: policy gradient with a baseline
        obs_b = torch.stack(batch_obs)
        mask_b = torch.stack(batch_masks) if args.masked else None
        actions_b = torch.as_tensor(batch_actions)
        returns_b = torch.as_tensor(batch_returns, dtype=torch.float32)
        log_probs = torch.log_softmax(agent.logits(obs_b, mask_b), dim=-1)
        chosen = log_probs.gather(1, actions_b[:, None]).squeeze(1)
        entropy = -(log_probs.exp() * log_probs).sum(-1).mean()
        value_loss = torch.zeros(())
        if args.baseline == "value":
            values = agent.value(obs_b)
            value_loss = 0.5 * ((values - returns_b) ** 2).mean()
            advantages = returns_b - values.detach()
        elif args.baseline == "mean":
            advantages = returns_b - running_mean
            running_mean += args.baseline_rate * (float(returns_b.mean()) - running_mean)
        else:
            advantages = returns_b
        if args.normalize_advantages and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        policy_loss = -(chosen * advantages).mean()
        loss = policy_loss - args.ent_coef * entropy + args.vf_coef * value_loss
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
        optimizer.step()

        # LOGGING
        if progress_bar is not None:
            progress_bar.update(global_step - progress_bar.n)
        if writer is not None:
            writer.add_scalar(
                "charts/episodic_return", float(np.mean(episode_returns)), global_step
            )
            writer.add_scalar("losses/policy_loss", policy_loss.item(), global_step)
            writer.add_scalar("losses/value_loss", value_loss.item(), global_step)
            writer.add_scalar("losses/entropy", entropy.item(), global_step)
            if best_fidelity is not None:
                writer.add_scalar("routing/best_fidelity", best_fidelity, global_step)

        # CHECKPOINT: between updates, at an episode boundary
        if (
            run_dir is not None
            and args.checkpoint_every > 0
            and global_step - last_checkpoint >= args.checkpoint_every
        ):
            save_checkpoint(run_dir, global_step, *snapshot())
            last_checkpoint = global_step

    state, progress = snapshot()
    final = checkpoint
    if run_dir is not None and (checkpoint is None or global_step > resumed_from):
        final = save_checkpoint(run_dir, global_step, state, progress)
    if writer is not None:
        writer.close()
    if progress_bar is not None:
        progress_bar.close()
    env.close()
    return TrainResult(
        agent=agent,
        timesteps=global_step,
        episodes=episodes,
        first_optimal_step=first_step,
        first_optimal_route=None if first_route is None else tuple(first_route),
        best_fidelity=best_fidelity,
        optimal_fidelity=optimal,
        resumed_from=resumed_from,
        wall_time_s=progress["wall_time_s"],
        checkpoint=final,
    )


def load_agent(checkpoint: str | Path, obs_size: int, num_actions: int) -> Agent:
    """The agent of a checkpoint directory (or a run directory: its latest checkpoint)."""
    path = CHECKPOINT_FORMAT.resolve(checkpoint)
    hidden = read_progress(path)["args"]["hidden_size"]
    agent = Agent(obs_size, num_actions, hidden)
    agent.load_state_dict(torch.load(path / STATE_FILE, weights_only=True)["agent"])
    return agent


# -------------------------------------------------------------------------------- EVALUATE
def evaluate(agent: Agent, scenario: Any, masked: bool = False) -> GreedyRollout:
    """Play one routing episode with the most likely action at every step.

    ``scenario`` is anything ``SwapRoutingEnv`` takes (a name, a TOML path, a Scenario).
    """
    from qnet_envs.routing.env import SwapRoutingEnv

    env = SwapRoutingEnv(scenario)

    def choose(obs: np.ndarray) -> int:
        mask = torch.as_tensor(env.action_masks()).reshape(1, -1) if masked else None
        with torch.no_grad():
            logits = agent.logits(torch.as_tensor(obs).reshape(1, -1), mask)
        return int(logits.argmax())

    return greedy_rollout(env, choose)
