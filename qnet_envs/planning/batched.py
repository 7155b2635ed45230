"""The planning game as a batched array env: every agent's arrays with the agent axis first.

Implements the protocol of ``agents.marl.batched.BatchedParallelEnv`` in numpy (no torch, no
per-agent Python loop): observations ``(n_agents, obs_dim)`` float32, actions ``(n_agents, k)``
levels, rewards ``(n_agents,)``, and ``info`` a dict of arrays: ``"active"`` ``(n_agents,)``,
``"action_mask"`` ``(n_agents, k * (levels + 1))`` (slot-major, True = valid),
``"satisfied"`` and ``"invalid_slots"`` ``(n_agents,)``, and the round's reward components as
0-d arrays (``"cost_ratio"``, ``"unmet"``, ``"imbalance"``, ``"total_cost"``). The rules and
spaces are :class:`qnet_envs.planning.env.PlanningParallelEnv`'s (its docstring is the spec);
both run :mod:`qnet_envs.planning.core`, and ``tests/planning`` checks that they give identical
trajectories.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from qnet_envs.planning import core
from qnet_envs.planning.problem import Instance
from qnet_envs.validation import FieldError, check_integer, check_number, show

InstanceLike = str | Path | Instance
DEFAULT_ROUNDS = 4
DEFAULT_LEVELS = 4
DEFAULT_UNMET_PENALTY = 2.0
DEFAULT_IMBALANCE_PENALTY = 0.1
#: Named ``credit`` values: the weight of each agent's own share in its reward.
CREDIT_NAMES: dict[str, float] = {"team": 0.0, "own": 1.0}


@functools.lru_cache(maxsize=8)
def _shipped(name: str) -> Instance:
    """Shipped instances by name, loaded once per process (their paths are cached)."""
    return Instance.load(name)


@functools.lru_cache(maxsize=8)
def _layout(
    instance: Instance, rounds: int, levels: int, unmet: float, imbalance: float
) -> core.Layout:
    return core.Layout.compile(instance, rounds, levels, unmet, imbalance)


def resolve_instance(instance: InstanceLike) -> Instance:
    """An :class:`Instance` from a shipped name, a TOML path or an Instance."""
    if isinstance(instance, Instance):
        return instance
    if isinstance(instance, Path) or (isinstance(instance, str) and instance.endswith(".toml")):
        return Instance.load(instance)
    if isinstance(instance, str):
        return _shipped(instance)
    raise ValueError(
        f"instance: got {type(instance).__name__} (allowed: a shipped name, a TOML path or an "
        "Instance)"
    )


def resolve_credit(credit: Any) -> float:
    """``credit`` as a weight in ``[0, 1]``: ``"team"`` (0), ``"own"`` (1) or a number."""
    if isinstance(credit, str):
        if credit not in CREDIT_NAMES:
            raise FieldError("credit", f"got {show(credit)}", '"team", "own" or a number in [0, 1]')
        return CREDIT_NAMES[credit]
    try:
        return check_number("credit", credit, 0.0, 1.0)
    except FieldError as error:
        raise FieldError("credit", error.problem, '"team", "own" or a number in [0, 1]') from None


def compile_layout(
    instance: InstanceLike = "abilene",
    rounds: int = DEFAULT_ROUNDS,
    levels: int = DEFAULT_LEVELS,
    unmet_penalty: float = DEFAULT_UNMET_PENALTY,
    imbalance_penalty: float = DEFAULT_IMBALANCE_PENALTY,
) -> core.Layout:
    """The validated, cached :class:`core.Layout` of the env arguments."""
    return _layout(
        resolve_instance(instance),
        check_integer("rounds", rounds, 1),
        check_integer("levels", levels, 1),
        check_number("unmet_penalty", unmet_penalty, 0.0, math.inf, high_open=True),
        check_number("imbalance_penalty", imbalance_penalty, 0.0, math.inf, high_open=True),
    )


class PlanningBatchedEnv:
    """The planning game with an agent axis (module docstring; arguments as the parallel env,
    plus ``state_adjacency``: append the dense line-graph adjacency to ``state()``, and
    ``credit``: ``"team"`` (default, the cooperative reward), ``"own"`` or a weight in
    ``[0, 1]``, see :func:`qnet_envs.planning.core.credited_rewards`)."""

    def __init__(
        self,
        instance: InstanceLike = "abilene",
        rounds: int = DEFAULT_ROUNDS,
        levels: int = DEFAULT_LEVELS,
        unmet_penalty: float = DEFAULT_UNMET_PENALTY,
        imbalance_penalty: float = DEFAULT_IMBALANCE_PENALTY,
        state_adjacency: bool = False,
        credit: str | float = "team",
    ) -> None:
        if not isinstance(state_adjacency, bool):
            raise ValueError(f"state_adjacency: got {state_adjacency!r} (allowed: True, False)")
        self.credit = resolve_credit(credit)
        self.layout = compile_layout(instance, rounds, levels, unmet_penalty, imbalance_penalty)
        self.state_adjacency = state_adjacency
        self.agent_ids = tuple(f"demand_{d}" for d in range(self.layout.n_agents))
        self.observation_space = spaces.Box(
            -np.inf, np.inf, (self.layout.observation_size,), np.float32
        )
        self.action_space = spaces.MultiDiscrete(
            np.full(self.layout.k, self.layout.levels + 1, dtype=np.int64)
        )
        self.state_space = spaces.Box(
            -np.inf, np.inf, (self.layout.state_size(state_adjacency),), np.float32
        )
        self.has_action_mask = True
        self._mask = self.layout.action_mask()
        self._mask.setflags(write=False)
        self._adjacency: NDArray[np.float32] | None = None
        self._round = 0
        self._last: core.Round | None = None

    @property
    def n_agents(self) -> int:
        return self.layout.n_agents

    @property
    def instance(self) -> Instance:
        return self.layout.instance

    @property
    def last_round(self) -> core.Round | None:
        """The last round played (``None`` right after a reset)."""
        return self._last

    def reset(self, seed: int | None = None) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Start an episode (the game has no randomness; ``seed`` seeds the action space)."""
        if seed is not None:
            self.action_space.seed(seed)
        self._round = 0
        self._last = None
        return self._observations(), self._info(None)

    def step(
        self, actions: Any
    ) -> tuple[
        NDArray[np.float32], NDArray[np.float32], NDArray[np.bool_], NDArray[np.bool_], dict
    ]:
        if self._round >= self.layout.rounds:
            raise RuntimeError("step() after the episode ended: call reset() first")
        levels = self.check_actions(actions)
        played = core.play_round(self.layout, levels)
        self._round += 1
        self._last = played
        done = self._round >= self.layout.rounds
        n = self.n_agents
        if self.credit == 0.0:
            rewards = np.full(n, played.reward, dtype=np.float32)
        else:
            rewards = core.credited_rewards(self.layout, played, self.credit).astype(np.float32)
        terminated = np.full(n, done)
        truncated = np.zeros(n, dtype=bool)
        return self._observations(), rewards, terminated, truncated, self._info(played)

    def check_actions(self, actions: Any) -> NDArray[np.int64]:
        """``actions`` as ``(n_agents, k)`` int64 levels; ``ValueError`` for a wrong shape, a
        non-integer dtype or a level outside ``[0, levels]``."""
        array = np.asarray(actions)
        shape = (self.n_agents, self.layout.k)
        if array.shape != shape or array.dtype.kind not in "iu":
            raise ValueError(
                f"actions: got shape {array.shape} dtype {array.dtype} (allowed: integer levels "
                f"of shape {shape})"
            )
        if array.size and (array.min() < 0 or array.max() > self.layout.levels):
            raise ValueError(
                f"actions: levels in [{int(array.min())}, {int(array.max())}] (allowed: "
                f"[0, {self.layout.levels}])"
            )
        return array.astype(np.int64, copy=False)

    def state(self) -> NDArray[np.float32]:
        """Global features, then the edge features row by row (``core.EDGE_FEATURES``), then,
        with ``state_adjacency``, the ``(n_edges, n_edges)`` line-graph adjacency, flattened."""
        parts = [
            core.global_features(self.layout, self._round, self._last),
            core.edge_state(self.layout, self._last).reshape(-1),
        ]
        if self.state_adjacency:
            parts.append(self.adjacency().reshape(-1))
        return np.concatenate(parts).astype(np.float32)

    def state_graph(self) -> dict[str, NDArray[Any]]:
        """The state as a graph for a GNN over the network's edges: ``"edge_features"``
        ``(n_edges, F)``, ``"line_graph"`` ``(2, m)`` (edge pairs sharing a node, both
        directions) and ``"global"``."""
        return {
            "global": core.global_features(self.layout, self._round, self._last),
            "edge_features": core.edge_state(self.layout, self._last),
            "line_graph": self.layout.line_graph.copy(),
        }

    def graph_layout(self) -> dict[str, Any]:
        """The static structure a graph policy needs to read observations and ``state()``.

        * ``"observation"``: the blocks of one agent's observation in order, name -> shape
          (``{"global": (4,), "demand": (4,), "slots": (k, 8)}``; ``core.GLOBAL_FEATURES``,
          ``DEMAND_FEATURES``, ``SLOT_FEATURES``).
        * ``"state"``: the blocks of ``state()`` (``{"global": (4,), "edges": (n_edges, 7)}``,
          plus ``"adjacency": (n_edges, n_edges)`` with ``state_adjacency``).
        * ``"line_graph"``: ``(2, m)`` int64 pairs of edges sharing a node, both directions.
        * ``"slot_edges"``: ``(2, nnz)`` int64: row 0 a flat slot ``d * k + j``, row 1 an edge
          of that slot's candidate path (every real slot, usable or not; empty slots have none).
        * ``"n_edges"``, ``"n_agents"``, ``"k"``, ``"levels"``: ints.

        Nothing here changes within an episode; the arrays are fresh copies.
        """
        layout = self.layout
        paths = layout.instance.paths
        rows, cols = np.nonzero(layout.slot_path >= 0)
        path = layout.slot_path[rows, cols]
        hops = np.diff(paths.edge_indptr)[path]
        flat_slot = np.repeat(rows * layout.k + cols, hops)
        edges = (
            np.concatenate(
                [paths.edge_index[paths.edge_indptr[p] : paths.edge_indptr[p + 1]] for p in path]
            )
            if path.size
            else np.zeros(0, dtype=np.int64)
        )
        state: dict[str, tuple[int, ...]] = {
            "global": (len(core.GLOBAL_FEATURES),),
            "edges": (layout.n_edges, len(core.EDGE_FEATURES)),
        }
        if self.state_adjacency:
            state["adjacency"] = (layout.n_edges, layout.n_edges)
        return {
            "observation": {
                "global": (len(core.GLOBAL_FEATURES),),
                "demand": (len(core.DEMAND_FEATURES),),
                "slots": (layout.k, len(core.SLOT_FEATURES)),
            },
            "state": state,
            "line_graph": layout.line_graph.copy(),
            "slot_edges": np.stack([flat_slot, edges]).astype(np.int64),
            "n_edges": layout.n_edges,
            "n_agents": layout.n_agents,
            "k": layout.k,
            "levels": layout.levels,
        }

    def adjacency(self) -> NDArray[np.float32]:
        """Dense ``(n_edges, n_edges)`` 0/1 line-graph adjacency (built once)."""
        if self._adjacency is None:
            a = np.zeros((self.layout.n_edges, self.layout.n_edges), dtype=np.float32)
            a[self.layout.line_graph[0], self.layout.line_graph[1]] = 1.0
            a.setflags(write=False)
            self._adjacency = a
        return self._adjacency

    def close(self) -> None:
        """Nothing to release: the env holds no files, processes or windows."""

    def _observations(self) -> NDArray[np.float32]:
        return core.observe(self.layout, self._round, self._last).astype(np.float32)

    def _info(self, played: core.Round | None) -> dict[str, Any]:
        n = self.n_agents
        done = self._round >= self.layout.rounds
        info: dict[str, Any] = {
            "active": np.full(n, not done),
            "action_mask": self._mask.copy(),
        }
        if played is not None:
            info.update(
                satisfied=played.satisfied.copy(),
                invalid_slots=played.invalid.copy(),
                cost_ratio=np.asarray(played.cost_ratio),
                unmet=np.asarray(played.unmet),
                imbalance=np.asarray(played.imbalance),
                total_cost=np.asarray(played.total_cost),
                agent_terms=played.agent_terms.copy(),
            )
        return info
