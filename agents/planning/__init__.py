"""QPLAN's learned first stage: the shared GNN + Transformer policy on ``planning_v0``.

:func:`~agents.planning.first_stage.first_stage_levels` rolls a trained actor out greedily on
an instance and returns the final round's levels; :mod:`~agents.planning.instances` shares
one instance's computed paths among its traffic matrices. Training is ``scripts/
train_planning.py`` (the multi-agent trainer of :mod:`agents.marl` with ``actor=
"gnn-transformer"``); see ``docs/planning-policy.md``.
"""

from agents.planning.first_stage import (
    ENV_FILE,
    first_stage_flows,
    first_stage_levels,
    read_env_settings,
    write_env_settings,
)
from agents.planning.instances import with_matrix_shared

__all__ = [
    "ENV_FILE",
    "first_stage_flows",
    "first_stage_levels",
    "read_env_settings",
    "with_matrix_shared",
    "write_env_settings",
]
