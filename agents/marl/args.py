"""The trainer's settings: one frozen dataclass, a docstring per field."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from agents.marl.networks import ACTORS
from agents.marl.policy import CRITICS

# Fields that define the networks and the game's data layout: a resumed run must match them.
ARCHITECTURE_FIELDS = ("hidden_sizes", "critic", "per_agent_policies", "actor", "gcn_layers")
#: What a checkpoint saved before a field existed used (for resume and ``load_policy``).
ARCHITECTURE_DEFAULTS = {"actor": "mlp", "gcn_layers": 2}


@dataclasses.dataclass(frozen=True)
class TrainArgs:
    """Everything :func:`agents.marl.trainer.train` needs besides the env; a run is
    reproducible from these (same seed, same run)."""

    total_steps: int = 20_000
    """Env steps to train for, resumed ones included. One env step moves every agent once, so
    a run makes ``total_steps * n_agents`` agent-steps; training stops at the first whole
    update at or past this count."""
    steps_per_batch: int = 512
    """Env steps collected per PPO update, all copies together (each copy plays
    ``steps_per_batch / n_envs`` steps from a fresh reset; an episode still running at the end
    is cut and bootstrapped from the critic)."""
    n_envs: int = 1
    """Copies of the env stepped side by side (a TorchRL batch dimension); each copy's step
    counts as one env step. More copies share TorchRL's per-step cost, which dominates for a
    handful of agents. Must divide ``steps_per_batch``."""
    epochs: int = 4
    """Passes of the PPO update over each batch."""
    minibatch_size: int = 128
    """Env steps per gradient step (all agents of a step together, any copy); must divide
    ``steps_per_batch``."""
    learning_rate: float = 3e-4
    """Adam step size of actor and critic."""
    gamma: float = 0.99
    """Discount per env step, in (0, 1]."""
    gae_lambda: float = 0.95
    """GAE's lambda, in [0, 1]."""
    clip_epsilon: float = 0.2
    """PPO's ratio clip, > 0."""
    entropy_coef: float = 0.01
    """Entropy bonus weight (>= 0); keeps the categorical heads exploring."""
    critic_coef: float = 0.5
    """Value loss weight (> 0)."""
    max_grad_norm: float = 1.0
    """Gradient norm clip per step (> 0)."""
    normalize_advantage: bool = True
    """Standardise advantages per minibatch (over time and agents)."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the actor and critic MLPs."""
    critic: str = "mappo"
    """``"mappo"``: centralised critic over all agents' observations (``MultiAgentMLP``
    ``centralised=True``); ``"ippo"``: each agent's value from its own observation;
    ``"state"``: a critic over the env's global ``state()``."""
    actor: str = "mlp"
    """The actor network (:data:`agents.marl.networks.ACTORS`): ``"mlp"`` over the flat
    observation, or ``"choice-scorer"``, one shared scorer per choice for envs that expose an
    ``observation_layout`` of groups and choices (the qVPN env)."""
    gcn_layers: int = 2
    """Graph convolutions of the ``"gnn-transformer"`` actor (the paper compares 1, 2 and 4);
    ignored by the other actors."""
    init_from: str | Path | None = None
    """A checkpoint (or run directory) whose actor and critic weights a *fresh* run starts
    from (ignored when the run resumes its own checkpoint). Its architecture must match; with
    size-agnostic networks (``"gnn-transformer"`` or ``"choice-scorer"`` actor, ``"ippo"``
    critic) it may come from another instance, e.g. train on a small topology, continue on a
    large one."""
    per_agent_policies: bool = False
    """Every agent its own actor and critic weights (``share_params=False``) instead of one
    shared policy; for a handful of agents (e.g. one per organisation)."""
    seed: int = 0
    """Seeds torch (initial weights, action sampling, minibatches) and the env resets."""
    run_dir: str | Path | None = None
    """Checkpoints and TensorBoard logs; an existing run resumes. ``None``: in memory only."""
    log_dir: str | Path | None = None
    """TensorBoard directory; ``None`` means ``<run_dir>/tensorboard`` (none without run_dir)."""
    checkpoint_every: int = 10
    """Checkpoint every this many updates (and at the end); 0: only at the end."""
    progress_bar: bool = False
    """Show a tqdm bar over env steps."""
    torch_threads: int = 1
    """``torch.set_num_threads`` for the run (one thread: DESIGN measured 2 as 13x slower under
    load on these machines)."""

    def __post_init__(self) -> None:
        for field in (
            "total_steps",
            "steps_per_batch",
            "n_envs",
            "epochs",
            "minibatch_size",
            "torch_threads",
            "gcn_layers",
        ):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainArgs.{field} must be a positive integer, got {value!r}")
        if self.steps_per_batch % self.minibatch_size:
            raise ValueError(
                f"TrainArgs.minibatch_size ({self.minibatch_size}) must divide steps_per_batch "
                f"({self.steps_per_batch})"
            )
        if self.steps_per_batch % self.n_envs:
            raise ValueError(
                f"TrainArgs.n_envs ({self.n_envs}) must divide steps_per_batch "
                f"({self.steps_per_batch})"
            )
        if isinstance(self.checkpoint_every, bool) or self.checkpoint_every < 0:
            raise ValueError(
                f"TrainArgs.checkpoint_every must be >= 0, got {self.checkpoint_every}"
            )
        positive = ("learning_rate", "clip_epsilon", "critic_coef", "max_grad_norm")
        for field in positive:
            value = getattr(self, field)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"TrainArgs.{field} must be a finite number > 0, got {value}")
        if not (math.isfinite(self.gamma) and 0 < self.gamma <= 1):
            raise ValueError(f"TrainArgs.gamma must lie in (0, 1], got {self.gamma}")
        if not (math.isfinite(self.gae_lambda) and 0 <= self.gae_lambda <= 1):
            raise ValueError(f"TrainArgs.gae_lambda must lie in [0, 1], got {self.gae_lambda}")
        if not (math.isfinite(self.entropy_coef) and self.entropy_coef >= 0):
            raise ValueError(f"TrainArgs.entropy_coef must be >= 0, got {self.entropy_coef}")
        hidden = tuple(self.hidden_sizes)
        if not hidden or not all(
            isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in hidden
        ):
            raise ValueError(
                "TrainArgs.hidden_sizes must be a non-empty sequence of positive integers, "
                f"got {hidden!r}"
            )
        object.__setattr__(self, "hidden_sizes", hidden)
        if self.actor not in ACTORS:
            raise ValueError(f"TrainArgs.actor must be one of {ACTORS}, got {self.actor!r}")
        if self.critic not in CRITICS:
            raise ValueError(f"TrainArgs.critic must be one of {CRITICS}, got {self.critic!r}")
