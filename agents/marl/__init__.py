"""Multi-agent PPO for the suite's PettingZoo parallel envs (TorchRL under a thin layer).

Modules, one job each: :mod:`~agents.marl.batched` (the array interface and the PettingZoo
adapter), :mod:`~agents.marl.torch_env` (a TorchRL ``EnvBase`` over it),
:mod:`~agents.marl.heads` (action distributions), :mod:`~agents.marl.policy` (actor and
critic networks), :mod:`~agents.marl.args` (settings), :mod:`~agents.marl.trainer` (the PPO
loop and checkpoints), :mod:`~agents.marl.evaluate` (greedy play) and
:mod:`~agents.marl.examples` (a tiny cooperative game). See ``docs/marl.md``.
"""

from agents.marl.args import TrainArgs
from agents.marl.evaluate import Evaluation, evaluate
from agents.marl.trainer import TrainResult, UpdateStats, load_policy, train

__all__ = [
    "Evaluation",
    "TrainArgs",
    "TrainResult",
    "UpdateStats",
    "evaluate",
    "load_policy",
    "train",
]
