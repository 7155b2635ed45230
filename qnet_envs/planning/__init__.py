"""QPLAN network planning (Gan et al.): instance, evaluation, ILP, PettingZoo flow-agent env.

``Instance`` (validated problem, ``Instance.load("abilene")``), ``Plan`` and ``evaluate``
(cost terms, satisfied demand, every violation), ``plan_to_json`` / ``plan_from_json``,
``solve_ilp`` (HiGHS, with upper bounds and a warm start), ``relaxation_bound`` /
``solve_lp_bound`` (the LP relaxation), ``parallel_env`` (the PettingZoo env,
``docs/envs/planning_v0.md``), ``batched_env`` (the same game as arrays with an agent axis),
and QPLAN's pipeline: ``first_stage_plan``, ``solve_qplan``, ``satisfied_under_failures``
(``qnet_envs.planning.qplan``, ``docs/planning-qplan.md``). See ``docs/planning-model.md``.
Importing this package pulls in numpy only.
"""

from qnet_envs.planning.ilp import ILPResult, relaxation_bound, solve_ilp, solve_lp_bound
from qnet_envs.planning.plan import (
    Evaluation,
    Plan,
    Violation,
    evaluate,
    load_plan,
    plan_from_json,
    plan_to_json,
)
from qnet_envs.planning.problem import Instance
from qnet_envs.planning.qplan import first_stage_plan, satisfied_under_failures, solve_qplan


def parallel_env(**kwargs):  # -> qnet_envs.planning.env.PlanningParallelEnv
    """The planning PettingZoo parallel env (arguments: ``PlanningParallelEnv``)."""
    from qnet_envs.planning.env import parallel_env as make

    return make(**kwargs)


def batched_env(**kwargs):  # -> qnet_envs.planning.batched.PlanningBatchedEnv
    """The planning game as a batched array env (same arguments as :func:`parallel_env`)."""
    from qnet_envs.planning.batched import PlanningBatchedEnv

    return PlanningBatchedEnv(**kwargs)


__all__ = [
    "Evaluation",
    "ILPResult",
    "Instance",
    "Plan",
    "Violation",
    "batched_env",
    "evaluate",
    "first_stage_plan",
    "load_plan",
    "parallel_env",
    "plan_from_json",
    "plan_to_json",
    "relaxation_bound",
    "satisfied_under_failures",
    "solve_ilp",
    "solve_lp_bound",
    "solve_qplan",
]
