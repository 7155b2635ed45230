"""PPO on the swap-routing game through Stable-Baselines3, with resumable runs.

Proximal Policy Optimization (Schulman, Wolski, Dhariwal, Radford and Klimov, "Proximal Policy
Optimization Algorithms", arXiv:1707.06347, 2017), used the way "Routing in quantum networks using
reinforcement learning" (Sec. 3) uses it: Stable-Baselines3's ``PPO`` with its default
hyperparameters, except ``n_steps`` (actions per policy update), which the paper tunes to the
network's complexity. An invalid action ends the game with a penalty (plain PPO, the paper's
setting); ``masked=True`` trains sb3-contrib's ``MaskablePPO`` on the env's ``action_masks()``
instead, so invalid actions are never sampled.

The paper's metric is the number of actions the agent plays until it FIRST plays a route that
reaches Bob with the oracle-optimal fidelity; :class:`FirstOptimalCallback` counts it.

A run directory holds atomic checkpoints (``checkpoints/step-<timesteps>/`` with ``model.zip``,
``vecnormalize.pkl`` when rewards are normalised, and ``progress.json``), and TensorBoard logs.
:func:`train` resumes from the latest complete checkpoint in it, so a killed run restarted with
the same arguments continues where its last checkpoint left off.

Usage::

    from agents.ppo import TrainArgs, evaluate, train

    result = train(TrainArgs(scenario="default", total_timesteps=30_000, run_dir="runs/ppo"))
    route, fidelity, actions, event = evaluate(result.model, "default")
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize

import qnet_envs  # noqa: F401  (registers the qnet_envs/ ids)
from agents.checkpoints import CheckpointFormat, remove_stale_temporaries
from agents.rollout import GreedyRollout, greedy_rollout
from qnet_envs.routing.env import ScenarioLike, SwapRoutingEnv, resolve_scenario
from qnet_envs.routing.scenario import Scenario

ROUTING_ENV_ID = "qnet_envs/SwapRouting-v0"
MODEL_FILE = "model.zip"
VECNORMALIZE_FILE = "vecnormalize.pkl"
PROGRESS_FORMAT = 1
FIDELITY_TOLERANCE = 1e-9


# ------------------------------------------------------------------------------------ ARGS
@dataclasses.dataclass
class TrainArgs:
    """Everything :func:`train` needs; a run is reproducible from these and the seed."""

    scenario: ScenarioLike = "default"
    """Shipped scenario name (``scenarios/routing/<name>.toml``), a TOML path or a Scenario."""
    total_timesteps: int = 50_000
    """Env actions to train for in total, counting those of the run being resumed."""
    n_steps: int = 256
    """Actions per env per policy update (the hyperparameter the paper tunes; SB3's default is
    2048); an update learns from ``n_steps * n_envs`` actions."""
    n_envs: int = 1
    """Copies of the game played side by side (a DummyVecEnv); every action of every copy counts
    in ``total_timesteps`` and in the first-optimal count. More copies batch the policy's forward
    passes (faster per action) and give each update more varied games."""
    batch_size: int = 64
    """Minibatch size of the PPO update (SB3 default); must divide ``n_steps * n_envs``."""
    ent_coef: float = 0.0
    """Entropy bonus of the PPO loss (SB3 default 0); a small value keeps exploring longer."""
    learning_rate: float = 3e-4
    """Adam step size (SB3 default 3e-4); smaller commits to the first route found more slowly."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the policy and value MLPs (SB3 default 64-64); wider networks
    separate the 100-odd one-hot inputs of the larger scenarios better."""
    seed: int = 0
    """Seeds torch, the action sampling and the env: same seed, same run."""
    masked: bool = False
    """Train sb3-contrib's MaskablePPO on the env's action masks instead of plain PPO (where an
    invalid action ends the game with ``invalid_action_reward``, as in the paper)."""
    run_dir: str | Path | None = None
    """Directory for checkpoints and logs; ``None`` trains in memory only (no resume)."""
    log_dir: str | Path | None = None
    """TensorBoard directory; ``None`` means ``<run_dir>/tensorboard`` (none without run_dir)."""
    checkpoint_every: int = 10_000
    """Checkpoint after at least this many actions since the last one (at the next rollout
    boundary); 0 checkpoints only at the end. Needs ``run_dir``."""
    stop_at_optimal: bool = False
    """End training as soon as the agent first plays an oracle-optimal route."""
    optimal_fidelity: float | None = None
    """The optimal ``F``; ``None`` asks ``agents.baselines.oracle.best_route`` for it."""
    invalid_action_reward: float = -1.0
    """Reward of an invalid action, which ends the episode (the env's default)."""
    normalize_reward: bool = False
    """Wrap the env in VecNormalize (rewards only; the observations already lie in [0, 1])."""
    progress_bar: bool = False
    """Show SB3's tqdm + rich progress bar."""
    torch_threads: int = 1
    """``torch.set_num_threads`` for the run; one thread is fastest for these small networks."""
    verbose: int = 0
    """SB3 verbosity: 0 silent, 1 prints the training table every update."""
    device: str = "cpu"
    """Torch device; the MLP policy is fastest on the CPU."""

    def __post_init__(self) -> None:
        for field in ("total_timesteps", "n_steps", "n_envs", "batch_size", "torch_threads"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainArgs.{field} must be a positive integer, got {value!r}")
        if (self.n_steps * self.n_envs) % self.batch_size:
            raise ValueError(
                f"TrainArgs.batch_size ({self.batch_size}) must divide n_steps * n_envs "
                f"({self.n_steps} * {self.n_envs})"
            )
        if self.checkpoint_every < 0:
            raise ValueError(
                f"TrainArgs.checkpoint_every must be >= 0, got {self.checkpoint_every}"
            )
        self.hidden_sizes = tuple(self.hidden_sizes)
        if not self.hidden_sizes or not all(
            isinstance(width, int) and not isinstance(width, bool) and width > 0
            for width in self.hidden_sizes
        ):
            raise ValueError(
                "TrainArgs.hidden_sizes must be a non-empty sequence of positive integers, "
                f"got {self.hidden_sizes!r}"
            )
        if not (np.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ValueError(
                f"TrainArgs.learning_rate must be a positive number, got {self.learning_rate!r}"
            )
        if not np.isfinite(self.invalid_action_reward) or self.invalid_action_reward > 0:
            raise ValueError(
                "TrainArgs.invalid_action_reward must be a finite number <= 0, "
                f"got {self.invalid_action_reward}"
            )

    @property
    def algo(self) -> str:
        return "maskable-ppo" if self.masked else "ppo"


class TrainResult(NamedTuple):
    """What :func:`train` returns."""

    model: PPO | MaskablePPO
    timesteps: int  # env actions trained on in total, resumed ones included
    first_optimal_step: int | None  # actions until the first oracle-optimal route, if found
    first_optimal_route: tuple[int, ...] | None  # that route, as edge indices
    best_fidelity: float | None  # best F of a route that reached Bob during training
    optimal_fidelity: float | None
    resumed_from: int  # timesteps of the checkpoint the run resumed from (0: fresh start)
    wall_time_s: float  # training time summed over all sessions of the run
    checkpoint: Path | None  # the final checkpoint directory


# ------------------------------------------------------------------------------- CALLBACKS
class FirstOptimalCallback(BaseCallback):
    """Counts env actions until the agent first plays an oracle-optimal route.

    An episode counts when it ends with ``info["event"] == "arrived"`` and its figure of merit
    (``info[figure_of_merit]``) is within ``tolerance`` of ``optimal_fidelity``. The count is the
    number of env actions played up to and including that episode's last action, over all
    sessions of a resumed run (``model.num_timesteps``; the actions of one step of a vector env
    are counted in env order). Also tracks the best arriving route, and logs
    ``routing/best_fidelity`` and ``routing/first_optimal_step`` to the SB3 logger.

    Args:
        optimal_fidelity: the oracle's ``F``.
        figure_of_merit: ``"singlet_fidelity"`` or ``"fully_entangled_fraction"``.
        stop_on_found: return ``False`` (stop training) once found.
        tolerance: absolute tolerance on ``F``.
        found_step, found_route, best_fidelity, best_route: state restored from a checkpoint.
    """

    def __init__(
        self,
        optimal_fidelity: float,
        figure_of_merit: str = "singlet_fidelity",
        stop_on_found: bool = False,
        tolerance: float = FIDELITY_TOLERANCE,
        found_step: int | None = None,
        found_route: Sequence[int] | None = None,
        best_fidelity: float | None = None,
        best_route: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.optimal_fidelity = float(optimal_fidelity)
        self.figure_of_merit = figure_of_merit
        self.stop_on_found = stop_on_found
        self.tolerance = tolerance
        self.found_step = found_step
        self.found_route = None if found_route is None else tuple(found_route)
        self.best_fidelity = best_fidelity
        self.best_route = None if best_route is None else tuple(best_route)

    @property
    def found(self) -> bool:
        return self.found_step is not None

    def _on_step(self) -> bool:
        infos: list[dict[str, Any]] = self.locals["infos"]
        dones = self.locals["dones"]
        first_action = self.num_timesteps - len(infos)
        for i, (info, done) in enumerate(zip(infos, dones, strict=True)):
            if not done or info.get("event") != "arrived":
                continue
            fidelity = float(info[self.figure_of_merit])
            if self.best_fidelity is None or fidelity > self.best_fidelity:
                self.best_fidelity, self.best_route = fidelity, tuple(info["route"])
                self.logger.record("routing/best_fidelity", fidelity)
            if not self.found and fidelity >= self.optimal_fidelity - self.tolerance:
                self.found_step = first_action + i + 1
                self.found_route = tuple(info["route"])
                self.logger.record("routing/first_optimal_step", self.found_step)
        return not (self.stop_on_found and self.found)


class AtomicCheckpointCallback(BaseCallback):
    """Checkpoints the run at rollout boundaries, at least ``every`` actions apart.

    A checkpoint is taken at the start of a rollout, right after a policy update, so every
    counted action has been learnt from. See :func:`save_checkpoint` for the atomic write.

    Args:
        run_dir: the run directory.
        every: minimum actions between checkpoints.
        progress: returns the run's progress dict (written as ``progress.json``).
    """

    def __init__(self, run_dir: Path, every: int, progress: Any) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.every = every
        self.progress = progress
        self.last_saved: int | None = None

    def _on_training_start(self) -> None:
        self.last_saved = self.num_timesteps

    def _on_rollout_start(self) -> None:
        assert self.last_saved is not None
        if self.num_timesteps - self.last_saved >= self.every:
            save_checkpoint(self.run_dir, self.model, self.progress())
            self.last_saved = self.num_timesteps

    def _on_step(self) -> bool:
        return True


# ----------------------------------------------------------------------------- CHECKPOINTS
CHECKPOINT_FORMAT = CheckpointFormat(version=PROGRESS_FORMAT, payload=MODEL_FILE)
"""A PPO checkpoint is complete with ``model.zip`` and a ``progress.json`` of this format."""
checkpoint_dirs = CHECKPOINT_FORMAT.checkpoint_dirs
latest_checkpoint = CHECKPOINT_FORMAT.latest_checkpoint
read_progress = CHECKPOINT_FORMAT.read_progress


def save_checkpoint(
    run_dir: str | Path, model: PPO | MaskablePPO, progress: dict[str, Any]
) -> Path:
    """Write ``model.zip``, the VecNormalize statistics (when rewards are normalised) and
    ``progress.json`` as one atomic checkpoint ``step-<timesteps>``.

    See :meth:`agents.checkpoints.CheckpointFormat.write_checkpoint`: a kill at any point leaves
    either the new checkpoint complete or the previous one untouched.
    """

    def write_payload(directory: Path) -> None:
        model.save(directory / MODEL_FILE)
        vec_normalize = model.get_vec_normalize_env()
        if vec_normalize is not None:
            vec_normalize.save(directory / VECNORMALIZE_FILE)

    return CHECKPOINT_FORMAT.write_checkpoint(run_dir, model.num_timesteps, write_payload, progress)


# ------------------------------------------------------------------------------------ ENVS
def make_env(
    scenario: Scenario,
    invalid_action_reward: float = -1.0,
    normalize_reward: bool = False,
    n_envs: int = 1,
) -> VecEnv:
    """``n_envs`` routing envs, each behind SB3's Monitor (episode stats for TensorBoard), in a
    DummyVecEnv.

    Every action of every copy is one timestep of the paper's count (one copy is the paper's
    setting).
    """

    def build() -> gym.Env:
        env = gym.make(
            ROUTING_ENV_ID, scenario=scenario, invalid_action_reward=invalid_action_reward
        )
        return Monitor(env)

    vec_env: VecEnv = DummyVecEnv([build] * n_envs)
    if normalize_reward:
        vec_env = VecNormalize(vec_env, norm_obs=False, norm_reward=True)
    return vec_env


def optimal_fidelity_of(scenario: Scenario) -> float:
    """The oracle-optimal ``F`` of a scenario (``agents.baselines.oracle.best_route``)."""
    from agents.baselines.oracle import best_route

    _, fidelity = best_route(scenario)
    return float(fidelity)


# ----------------------------------------------------------------------------------- TRAIN
def train(args: TrainArgs, callbacks: Sequence[BaseCallback] = ()) -> TrainResult:
    """Train PPO (or MaskablePPO) on a routing scenario; resume if the run directory has a
    checkpoint.

    Resuming loads the latest complete checkpoint (policy, optimizer, timestep counter, the
    VecNormalize statistics, the first-optimal record) and trains on to ``total_timesteps`` with
    ``reset_num_timesteps=False``, so TensorBoard curves continue. The env restarts at a fresh
    episode and the random streams are reseeded from ``seed`` and the resumed step count, so a
    resumed run is reproducible, though not identical to one that was never stopped. A run
    whose checkpoint already has ``total_timesteps`` (or the optimum, with
    ``stop_at_optimal``) returns without training.

    Args:
        args: the run's settings.
        callbacks: extra SB3 callbacks, called after the built-in ones.
    """
    torch.set_num_threads(args.torch_threads)
    scenario = resolve_scenario(args.scenario)
    optimal = args.optimal_fidelity
    if optimal is None:
        optimal = optimal_fidelity_of(scenario)
    run_dir = None if args.run_dir is None else Path(args.run_dir)
    log_dir = args.log_dir
    if log_dir is None and run_dir is not None:
        log_dir = run_dir / "tensorboard"
    algo_class = MaskablePPO if args.masked else PPO

    env = make_env(scenario, args.invalid_action_reward, args.normalize_reward, args.n_envs)
    checkpoint = None
    if run_dir is not None:
        run_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(run_dir)
        checkpoint = latest_checkpoint(run_dir)
    progress: dict[str, Any] = {}
    if checkpoint is None:
        model = algo_class(
            "MlpPolicy",
            env,
            n_steps=args.n_steps,
            batch_size=args.batch_size,
            ent_coef=args.ent_coef,
            learning_rate=args.learning_rate,
            policy_kwargs={"net_arch": list(args.hidden_sizes)},
            seed=args.seed,
            verbose=args.verbose,
            device=args.device,
            tensorboard_log=None if log_dir is None else str(log_dir),
        )
        resumed_from = 0
    else:
        progress = read_progress(checkpoint)
        if progress.get("algo") != args.algo:
            raise ValueError(
                f"{checkpoint} holds a {progress.get('algo')!r} run; TrainArgs.masked="
                f"{args.masked} asks for {args.algo!r}: use another run_dir"
            )
        if progress.get("normalize_reward") != args.normalize_reward:
            raise ValueError(
                f"{checkpoint} holds a run with normalize_reward="
                f"{progress.get('normalize_reward')}; TrainArgs.normalize_reward="
                f"{args.normalize_reward}: use another run_dir"
            )
        if progress.get("n_envs", 1) != args.n_envs:
            raise ValueError(
                f"{checkpoint} holds a run with n_envs={progress.get('n_envs', 1)}; "
                f"TrainArgs.n_envs={args.n_envs}: use another run_dir"
            )
        if args.normalize_reward:
            assert isinstance(env, VecNormalize)
            env = VecNormalize.load(str(checkpoint / VECNORMALIZE_FILE), env.venv)
        model = algo_class.load(
            checkpoint / MODEL_FILE,
            env=env,
            device=args.device,
            tensorboard_log=None if log_dir is None else str(log_dir),
            verbose=args.verbose,
        )
        resumed_from = model.num_timesteps
        model.set_random_seed(args.seed + resumed_from)

    first = FirstOptimalCallback(
        optimal,
        scenario.figure_of_merit,
        stop_on_found=args.stop_at_optimal,
        found_step=progress.get("first_optimal_step"),
        found_route=progress.get("first_optimal_route"),
        best_fidelity=progress.get("best_fidelity"),
        best_route=progress.get("best_route"),
    )
    previous_wall = float(progress.get("wall_time_s", 0.0))
    started = time.perf_counter()

    def current_progress() -> dict[str, Any]:
        return {
            "format": PROGRESS_FORMAT,
            "algo": args.algo,
            "normalize_reward": args.normalize_reward,
            "n_envs": args.n_envs,
            "scenario": scenario.name,
            "seed": args.seed,
            "timesteps": int(model.num_timesteps),
            "total_timesteps": args.total_timesteps,
            "optimal_fidelity": optimal,
            "first_optimal_step": first.found_step,
            "first_optimal_route": None if first.found_route is None else list(first.found_route),
            "best_fidelity": first.best_fidelity,
            "best_route": None if first.best_route is None else list(first.best_route),
            "wall_time_s": previous_wall + time.perf_counter() - started,
        }

    all_callbacks: list[BaseCallback] = [first]
    if run_dir is not None and args.checkpoint_every > 0:
        all_callbacks.append(
            AtomicCheckpointCallback(run_dir, args.checkpoint_every, current_progress)
        )
    all_callbacks.extend(callbacks)

    remaining = args.total_timesteps - model.num_timesteps
    finished = remaining <= 0 or (args.stop_at_optimal and first.found)
    if not finished:
        model.learn(
            total_timesteps=remaining,
            callback=CallbackList(all_callbacks),
            tb_log_name=args.algo,
            reset_num_timesteps=False,
            progress_bar=args.progress_bar,
        )
    final_progress = progress if finished else current_progress()
    final = checkpoint if finished else None
    if run_dir is not None and not finished:
        final = save_checkpoint(run_dir, model, final_progress)
    env.close()
    return TrainResult(
        model=model,
        timesteps=int(model.num_timesteps),
        first_optimal_step=first.found_step,
        first_optimal_route=first.found_route,
        best_fidelity=first.best_fidelity,
        optimal_fidelity=optimal,
        resumed_from=resumed_from,
        wall_time_s=final_progress["wall_time_s"],
        checkpoint=final,
    )


def load(checkpoint: str | Path, masked: bool | None = None) -> PPO | MaskablePPO:
    """Load the policy of a checkpoint directory (or a run directory: its latest checkpoint).

    ``masked`` defaults to what the checkpoint's ``progress.json`` records.
    """
    path = CHECKPOINT_FORMAT.resolve(checkpoint)
    if masked is None:
        masked = read_progress(path)["algo"] == "maskable-ppo"
    algo_class = MaskablePPO if masked else PPO
    return algo_class.load(path / MODEL_FILE, device="cpu")


# -------------------------------------------------------------------------------- EVALUATE
def evaluate(
    model: PPO | MaskablePPO, scenario: ScenarioLike, invalid_action_reward: float = -1.0
) -> GreedyRollout:
    """Play one episode with the policy's most likely action at every step.

    MaskablePPO policies choose among valid actions only. The game is deterministic, so this is
    the route the trained agent proposes.
    """
    env = SwapRoutingEnv(resolve_scenario(scenario), invalid_action_reward=invalid_action_reward)

    def choose(obs: np.ndarray) -> int:
        if isinstance(model, MaskablePPO):
            action, _ = model.predict(obs, deterministic=True, action_masks=env.action_masks())
        else:
            action, _ = model.predict(obs, deterministic=True)
        return int(action)

    return greedy_rollout(env, choose)
