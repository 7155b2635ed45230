"""Quantum-computing task offloading (paper 002, Sec. IV): scenario, rules, optima, env.

``Scenario`` (validated inputs, ``Scenario.load("default")``), ``core`` (pure rules: jobs,
link draws, placement, cost, queues), ``solve_clairvoyant`` (the per-step MILP that sees the
realised links), ``solve_stochastic`` (the two-stage stochastic program over sampled links,
extensive form), ``parallel_env`` (the PettingZoo game, ``docs/envs/offloading_v0.md``). See
``docs/offloading-model.md``. Importing this package pulls in numpy only.
"""

from qnet_envs.offloading.scenario import Scenario, ScenarioError


def parallel_env(**kwargs):  # -> qnet_envs.offloading.env.OffloadingParallelEnv
    """The offloading PettingZoo parallel env (arguments:
    :class:`qnet_envs.offloading.env.OffloadingParallelEnv`)."""
    from qnet_envs.offloading.env import parallel_env as make

    return make(**kwargs)


__all__ = ["Scenario", "ScenarioError", "parallel_env"]
