"""The single-agent entanglement-swapping routing game (scenarios, rules, Gymnasium envs).

``Scenario`` and ``EvolvingScenario`` (their ``from_dict`` / ``load``), ``ScenarioError`` and the
two env classes are the public names; the rules live in :mod:`qnet_envs.routing.core`.
"""

from qnet_envs.routing.env import EvolvingSwapRoutingEnv, SwapRoutingEnv
from qnet_envs.routing.evolving import EvolvingScenario
from qnet_envs.routing.scenario import Scenario, ScenarioError

__all__ = [
    "EvolvingScenario",
    "EvolvingSwapRoutingEnv",
    "Scenario",
    "ScenarioError",
    "SwapRoutingEnv",
]
