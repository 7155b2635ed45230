"""qVPN resource management (Pouryousef et al.): problem model, path versions, LP and MILP.

``Instance`` (validated problem, ``Instance.load("default")``), ``path_versions`` (its flat
``VersionTable``), ``solve_lp`` (the rate LP of a selection), ``check_solution`` (re-check an
exported LP solution), ``solve_optimum`` (the exact selection MILP), ``parallel_env`` (the
PettingZoo game, ``docs/envs/qvpn_v0.md``). See ``docs/qvpn-model.md``. Importing this package
pulls in numpy only (no networkx, no highspy, no PettingZoo until ``parallel_env`` is called).
"""

from qnet_envs.qvpn.lp import LPResult, check_solution, solve_lp
from qnet_envs.qvpn.milp import OptimumResult, solve_optimum
from qnet_envs.qvpn.problem import DEFAULT_THRESHOLDS, Instance
from qnet_envs.qvpn.versions import VersionTable


def parallel_env(**kwargs):  # -> qnet_envs.qvpn.env.QVPNParallelEnv
    """The qVPN PettingZoo parallel env (arguments: :class:`qnet_envs.qvpn.env.QVPNParallelEnv`)."""
    from qnet_envs.qvpn.env import parallel_env as make

    return make(**kwargs)


def path_versions(instance: Instance) -> VersionTable:
    """The usable path versions of ``instance`` (``instance.versions``, computed once)."""
    return instance.versions


__all__ = [
    "DEFAULT_THRESHOLDS",
    "Instance",
    "LPResult",
    "OptimumResult",
    "VersionTable",
    "check_solution",
    "parallel_env",
    "path_versions",
    "solve_lp",
    "solve_optimum",
]
