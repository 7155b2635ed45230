"""The actor and critic networks: TorchRL ``MultiAgentMLP`` over the agent axis.

* Actor: a network from ``("agents", "observation")`` to the head's parameters (by default
  ``MultiAgentMLP``, agent-local, ``centralised=False``; ``actor="choice-scorer"`` the
  structured scorer of :mod:`agents.marl.networks`), then a TorchRL ``ProbabilisticActor``
  with the head's distribution. ``share_params=True`` is one policy for all agents
  (parameter sharing, any number of agents); ``False`` gives every agent its own weights
  (per-agent policies, e.g. one per organisation; the weights grow with the number of agents).
* Critic, one value per agent at ``("agents", "state_value")``:
  ``"ippo"`` a local ``MultiAgentMLP`` (each agent's value from its own observation);
  ``"mappo"`` a centralised ``MultiAgentMLP`` (``centralised=True``: every agent's value from
  all agents' observations concatenated; its input grows as ``n_agents * obs_dim``, so it is for
  tens of agents, not thousands); ``"state"`` an MLP from the env's global ``state()`` to the
  ``n_agents`` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from tensordict.nn import TensorDictModule
from torch import nn
from torchrl.modules import MLP, MultiAgentMLP, ProbabilisticActor

from agents.marl.heads import ActionHead
from agents.marl.networks import STATE_ACTORS, Layout, build_actor_network
from agents.marl.torch_env import ACTION_KEY, GROUP, OBSERVATION, STATE_KEY

VALUE_KEY = (GROUP, "state_value")
LOG_PROB_KEY = (GROUP, "action_log_prob")
CRITICS = ("ippo", "mappo", "state")


def build_actor(
    head: ActionHead,
    n_agents: int,
    obs_dim: int,
    hidden_sizes: tuple[int, ...],
    share_params: bool,
    actor: str = "mlp",
    layout: Layout | None = None,
    graph: Mapping[str, Any] | None = None,
    gcn_layers: int = 2,
) -> ProbabilisticActor:
    """The stochastic policy: writes ``("agents", "action")`` and its log-probability
    ``("agents", "action_log_prob")`` (summed over action slots). ``actor`` names the network
    (:data:`agents.marl.networks.ACTORS`); ``layout`` is the env's ``observation_layout``,
    ``graph`` its ``graph_layout()`` (the ``"gnn-transformer"`` actor, ``gcn_layers`` deep,
    which also reads ``"state"``)."""
    network = build_actor_network(
        actor, head, n_agents, obs_dim, hidden_sizes, share_params, layout, graph, gcn_layers
    )
    in_keys: list[Any] = [OBSERVATION]
    if actor in STATE_ACTORS:
        in_keys.append(STATE_KEY)
        net = _Then(network, head.network_tail())
    else:
        net = nn.Sequential(network, head.network_tail())
    module = TensorDictModule(net, in_keys=in_keys, out_keys=head.param_keys)
    return ProbabilisticActor(
        module,
        in_keys=head.distribution_keys(),
        out_keys=[ACTION_KEY],
        distribution_class=head.distribution_class,
        distribution_kwargs=head.distribution_kwargs,
        return_log_prob=True,
        log_prob_key=LOG_PROB_KEY,
    )


class _Then(nn.Module):
    """``tail(first(*inputs))``: a two-stage network whose first stage takes several inputs."""

    def __init__(self, first: nn.Module, tail: nn.Module) -> None:
        super().__init__()
        self.first, self.tail = first, tail

    def forward(self, *inputs: torch.Tensor) -> Any:
        return self.tail(self.first(*inputs))


class _StateValues(nn.Module):
    """Global state ``(..., state_dim)`` -> per-agent values ``(..., n_agents, 1)``."""

    def __init__(self, state_dim: int, n_agents: int, hidden_sizes: tuple[int, ...]) -> None:
        super().__init__()
        self.mlp = MLP(
            in_features=state_dim,
            out_features=n_agents,
            num_cells=list(hidden_sizes),
            activation_class=nn.Tanh,
        )

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        return self.mlp(state).unsqueeze(-1)


def build_critic(
    critic: str,
    n_agents: int,
    obs_dim: int,
    hidden_sizes: tuple[int, ...],
    share_params: bool,
    state_dim: int | None = None,
) -> TensorDictModule:
    """The value network (``critic`` one of :data:`CRITICS`); writes ``("agents",
    "state_value")`` ``(..., n_agents, 1)``."""
    if critic not in CRITICS:
        raise ValueError(f"critic must be one of {CRITICS}, got {critic!r}")
    if critic == "state":
        if state_dim is None:
            raise ValueError("critic='state' needs an env with a global state (state_space)")
        net = _StateValues(state_dim, n_agents, hidden_sizes)
        return TensorDictModule(net, in_keys=[STATE_KEY], out_keys=[VALUE_KEY])
    net = MultiAgentMLP(
        n_agent_inputs=obs_dim,
        n_agent_outputs=1,
        n_agents=n_agents,
        centralised=critic == "mappo",
        share_params=share_params,
        num_cells=list(hidden_sizes),
        activation_class=nn.Tanh,
    )
    return TensorDictModule(net, in_keys=[OBSERVATION], out_keys=[VALUE_KEY])
