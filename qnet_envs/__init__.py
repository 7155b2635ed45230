"""qnet_envs: Gymnasium and PettingZoo environments for reinforcement learning on quantum networks.

Importing this package registers every single-agent environment with Gymnasium under the
``qnet_envs/`` namespace and lists the PettingZoo parallel environments in
:data:`PARALLEL_ENVS`. It imports numpy and Gymnasium only (no torch, no qutip).
"""

from __future__ import annotations

from qnet_envs.registration import PARALLEL_ENVS, register_envs

__version__ = "0.1.0"
__all__ = ["PARALLEL_ENVS", "__version__", "register_envs"]

register_envs()
