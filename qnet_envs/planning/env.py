"""PettingZoo parallel adapter of the planning game (rules in ``qnet_envs.planning.core``)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo import ParallelEnv

from qnet_envs.planning.batched import (
    DEFAULT_IMBALANCE_PENALTY,
    DEFAULT_LEVELS,
    DEFAULT_ROUNDS,
    DEFAULT_UNMET_PENALTY,
    InstanceLike,
    PlanningBatchedEnv,
)
from qnet_envs.planning.problem import Instance


class PlanningParallelEnv(ParallelEnv):
    """Flow agents split their demands over candidate paths; fibres follow the shared load.

    ## Description
    The first stage of "QPLAN: Deep Reinforcement Learning Assisted Quantum Network Planning"
    (Gan et al., Sec. III-D) as a cooperative multi-agent game. One agent per demand ``d``
    (a node pair asking for ``D_d`` usable pairs/s at fidelity ``F_d``; the instance's planned
    traffic matrix). Each agent splits its demand over its ``k`` candidate paths (Yen, by
    length; `docs/planning-model.md`); all agents act at once, the flows add up on the edges,
    every edge gets the fewest fibres that carry its load, ``y_e = ceil(load_e / C_e)``, and the
    plan's cost (QPLAN eq. 1) is shared. Agents then refine their splits for ``rounds`` rounds
    (each round is a complete new split, seen against the last round's loads).

    ## Action Space
    Per agent ``MultiDiscrete([levels + 1] * k)`` (default ``levels = 4``, ``k = 3``): entry
    ``j`` is the level ``a_j`` of candidate slot ``j``; the slot's path carries ``a_j /
    levels`` of the demand (delivered pairs/s; ``x_p = g_p D_d a_j / levels`` of link
    capacity, ``g_p`` the fidelity-equivalent scaling of distillation and swap losses). Levels
    summing below ``levels`` leave demand unmet, above it over-provision. A slot without a
    usable path (fewer than ``k`` candidates, or one no distillation can lift to ``F_d``)
    accepts only 0; another value there is an *invalid slot*: played as 0, counted in
    ``info["invalid_slots"]``, no penalty. ``infos[agent]["action_mask"]`` (``(k * (levels +
    1),)`` bool, slot-major) marks the valid values.

    ## Observation Space
    Per agent ``Box(-inf, inf, (8 + 8 k,), float32)``: the global features
    (``core.GLOBAL_FEATURES``: round fraction, whether a round was played, last cost / LP
    bound, last unmet share), the demand's row (``core.DEMAND_FEATURES``: ``D_d`` / mean rate,
    ``F_d``, usable paths / ``k``, last satisfied fraction) and one row per slot
    (``core.SLOT_FEATURES``: usable, ``1/g_p``, segments, length, the demand's cheapest price
    per delivered pair over this path's (in ``(0, 1]``), own last fraction, and along the path
    last round's peak fibre fill and least spare fibre capacity in units of the demand's need,
    capped at 4). ``state()`` is the global picture for a centralised critic or a GNN whose
    nodes are the network's edges: the global features, then per edge ``core.EDGE_FEATURES``
    (length, ``cost_e``, fibre cost, candidate paths crossing it, last load / ``C_e``, fibres,
    fill), and with ``state_adjacency=True`` the dense line-graph adjacency (edges sharing a
    node). ``env.state_graph()`` gives the same as ``edge_features`` ``(n_edges, 7)`` and
    ``line_graph`` ``(2, m)`` arrays; ``env.graph_layout()`` the static structure a graph
    policy needs (the observation's and state's blocks, each slot's path edges, the line
    graph).

    ## Rewards
    Cooperative: every agent gets ``-(cost / cost_scale + unmet_penalty * unmet +
    imbalance_penalty * imbalance)`` each round, ``cost_scale`` the LP-relaxation bound (so a
    plan meeting all demand scores a cost term >= 1), ``unmet`` the unmet share of all demand,
    ``imbalance`` the demand-weighted mean spread ``max - min`` of a demand's fractions over
    its usable paths (QPLAN keeps them close for robustness to link failures).
    ``info["rewards"]`` holds the three components (``cost``, ``unmet``, ``imbalance``, as
    the terms subtracted). With ``credit="own"`` (or a weight ``w`` in ``[0, 1]``) agent ``d``
    gets ``(1 - w) r + w n own_d`` instead, ``own_d`` minus its exact share of the same terms
    (its flows' capacity cost, its load's share of each edge's fibres, its unmet demand, its
    spread; ``info["own_terms"]``, the same keys as ``info["rewards"]``; the batched env's
    ``info["agent_terms"]`` holds them unweighted, ``core.AGENT_TERMS``): the mean over agents
    stays the cooperative reward, but each agent's reward now answers for its own choices
    (``docs/planning-policy.md``).

    ## Starting State
    No round played: dynamic features are 0. ``reset(seed)`` seeds the action and
    observation spaces; the game has no randomness (the traffic matrix is the instance's).

    ## Episode End
    Every agent terminates after ``rounds`` rounds (the round fraction is observed). Nothing
    truncates.

    ## Info
    Per agent: ``action_mask`` (also at reset), ``satisfied`` (its delivered / ``D_d``, capped
    at 1), ``invalid_slots``, ``rewards`` (the components), ``total_cost`` (cost units),
    ``unmet``. The batched interface (``qnet_envs.planning.batched_env``) returns the same as
    arrays with an agent axis.

    ## Arguments
    ``instance``: a shipped name (``scenarios/planning/<name>.toml``: ``"abilene"``
    (default), ``"cogentco"``, ``"kdl"``, ``"waxman850"``, ``"tiny"``), a TOML path or an
    :class:`~qnet_envs.planning.Instance` (``instance.with_matrix(i)`` picks a traffic
    matrix). ``rounds``: refinement rounds (default 4). ``levels``: split resolution (default
    4). ``unmet_penalty`` (default 2) and ``imbalance_penalty`` (default 0.1): finite, >= 0.
    ``state_adjacency``: append the adjacency to ``state()`` (default False). ``credit``:
    ``"team"`` (default), ``"own"`` or a weight in ``[0, 1]`` (Rewards).

    ## Version History
    * v0: initial release.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "planning_v0",
        "render_modes": [],
        "is_parallelizable": True,
    }

    def __init__(
        self,
        instance: InstanceLike = "abilene",
        rounds: int = DEFAULT_ROUNDS,
        levels: int = DEFAULT_LEVELS,
        unmet_penalty: float = DEFAULT_UNMET_PENALTY,
        imbalance_penalty: float = DEFAULT_IMBALANCE_PENALTY,
        state_adjacency: bool = False,
        credit: str | float = "team",
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode: got {render_mode!r} (allowed: None)")
        self.render_mode = render_mode
        self.batched = PlanningBatchedEnv(
            instance, rounds, levels, unmet_penalty, imbalance_penalty, state_adjacency, credit
        )
        self.possible_agents = list(self.batched.agent_ids)
        self.agents: list[str] = []
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        box, nvec = self.batched.observation_space, self.batched.action_space.nvec
        self._observation_spaces = {
            a: spaces.Box(-np.inf, np.inf, box.shape, np.float32) for a in self.possible_agents
        }
        self._action_spaces = {a: spaces.MultiDiscrete(nvec.copy()) for a in self.possible_agents}
        self.state_space = self.batched.state_space

    @property
    def instance(self) -> Instance:
        return self.batched.instance

    @property
    def layout(self):  # -> core.Layout
        return self.batched.layout

    def observation_space(self, agent: str) -> spaces.Box:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.MultiDiscrete:
        return self._action_spaces[agent]

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, NDArray[np.float32]], dict[str, dict[str, Any]]]:
        if seed is not None:
            for i, agent in enumerate(self.possible_agents):
                self._action_spaces[agent].seed(seed + i)
                self._observation_spaces[agent].seed(seed + i)
        obs, info = self.batched.reset()
        self.agents = list(self.possible_agents)
        mask = info["action_mask"]
        observations = {a: obs[i] for i, a in enumerate(self.possible_agents)}
        return observations, {a: {"action_mask": mask[i]} for i, a in enumerate(self.agents)}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise RuntimeError("step() called with no live agents: call reset() first")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(
                f"actions: missing an action for {missing[:5]} (allowed: one per live agent)"
            )
        k = self.layout.k
        levels = np.zeros((len(self.possible_agents), k), dtype=np.int64)
        for agent in self.agents:
            row = np.asarray(actions[agent])
            if row.shape != (k,) or row.dtype.kind not in "iu":
                raise ValueError(
                    f"actions[{agent!r}]: got shape {row.shape} dtype {row.dtype} (allowed: "
                    f"{k} integer levels in [0, {self.layout.levels}])"
                )
            levels[self._index[agent]] = row
        obs, reward, terminated, truncated, info = self.batched.step(levels)
        played = self.batched.last_round
        assert played is not None
        components = {
            "cost": float(played.cost_ratio),
            "unmet": float(self.layout.unmet_penalty * played.unmet),
            "imbalance": float(self.layout.imbalance_penalty * played.imbalance),
        }
        own = played.agent_terms * np.array(
            [1.0, self.layout.unmet_penalty, self.layout.imbalance_penalty]
        )
        live = self.agents
        observations = {a: obs[self._index[a]] for a in live}
        rewards = {a: float(reward[self._index[a]]) for a in live}
        terms = {a: bool(terminated[self._index[a]]) for a in live}
        truncs = {a: bool(truncated[self._index[a]]) for a in live}
        infos = {
            a: {
                "action_mask": info["action_mask"][self._index[a]],
                "satisfied": float(info["satisfied"][self._index[a]]),
                "invalid_slots": int(info["invalid_slots"][self._index[a]]),
                "rewards": dict(components),
                "own_terms": dict(zip(components, own[self._index[a]].tolist(), strict=True)),
                "total_cost": float(played.total_cost),
                "unmet": float(played.unmet),
            }
            for a in live
        }
        if all(terms.values()):
            self.agents = []
        return observations, rewards, terms, truncs, infos

    def state(self) -> NDArray[np.float32]:
        return self.batched.state()

    def state_graph(self) -> dict[str, NDArray[Any]]:
        return self.batched.state_graph()

    def graph_layout(self) -> dict[str, Any]:
        """Static structure for a graph policy (``PlanningBatchedEnv.graph_layout``)."""
        return self.batched.graph_layout()

    def render(self) -> None:
        return None

    def close(self) -> None:
        """Nothing to release: the env holds no files, processes or windows."""


def parallel_env(**kwargs: Any) -> PlanningParallelEnv:
    return PlanningParallelEnv(**kwargs)


parallel_env.__doc__ = PlanningParallelEnv.__doc__


def raw_env(**kwargs: Any) -> PlanningParallelEnv:
    """Alias of :func:`parallel_env` (PettingZoo's module convention)."""
    return PlanningParallelEnv(**kwargs)
