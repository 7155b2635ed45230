"""Pure rules of the planning game: splits -> flows -> loads, fibres, cost -> reward, features.

Agent ``d`` is demand ``d``. Its action is an int vector ``(k,)``, one *level* ``a_j`` in
``0 .. levels`` per candidate-path slot ``j``: slot ``j`` (path ``p``) carries the fraction
``a_j / levels`` of the demand's rate, ``x_p = g_p D_d a_j / levels`` pairs/s of link capacity
(so it delivers ``D_d a_j / levels`` usable pairs/s). Levels summing to less than ``levels``
leave demand unmet; more over-provision it. A slot without a usable path (fewer than ``k``
candidates, or a path no distillation can lift) accepts only ``0``: any other value there is an
*invalid slot*, played as ``0`` and counted. Fibres follow the loads, ``y_e = ceil(load_e /
C_e)`` (the paper's First-stage rule), so capacity is never violated; cost (eq. 1) and unmet
demand are what the agents trade.

Cooperative reward of a round, the same for every agent::

    r = -(total_cost / cost_scale + unmet_penalty * unmet + imbalance_penalty * imbalance)

``cost_scale`` is the LP-relaxation bound (:func:`qnet_envs.planning.relaxation_bound`), so a
plan that meets all demand has a cost term >= 1 (about 1.0-1.2 for good plans); ``unmet`` is
the unmet share of all demand, ``1 - sum_d min(delivered_d, D_d) / sum_d D_d``; ``imbalance``
the demand-weighted mean, over demands with two or more usable paths, of ``max_j f_j - min_j
f_j`` over their usable slots (``f_j = a_j / levels``): QPLAN keeps a demand's paths close for
robustness to single link failures. Nothing here is random or touches PettingZoo.

Each round also splits the three terms exactly over the agents (:attr:`Round.agent_terms`,
columns in the order of :data:`AGENT_TERMS`, each column summing over agents to the round's
term): agent ``d``'s capacity cost is that of its own flows, ``sum_p x_p sum_{e in p} cost_e``;
each edge's fibre cost is shared in proportion to the agents' loads on it; its unmet term is
``(D_d - min(delivered_d, D_d)) / sum D``; its imbalance term its spread times its weight in the
weighted mean. :func:`credited_rewards` turns them into per-agent rewards for credit
assignment (``credit`` 0: the cooperative reward for all; 1: each agent's own share, scaled by
the number of agents so that the mean over agents is still the cooperative reward).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qnet_envs.planning.ilp import relaxation_bound
from qnet_envs.planning.problem import Instance

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Global features at the start of every observation and of the state, in order.
GLOBAL_FEATURES: tuple[str, ...] = (
    "round",  # rounds played / rounds
    "has_result",  # 0 before the first round
    "cost_ratio",  # last round's total cost / cost_scale
    "unmet",  # last round's unmet share of all demand
)
#: Columns of :attr:`Round.agent_terms`: each agent's exact share of the reward's terms.
AGENT_TERMS: tuple[str, ...] = ("cost_ratio", "unmet", "imbalance")
#: Per-demand features of an observation, in order.
DEMAND_FEATURES: tuple[str, ...] = (
    "rate",  # D_d / mean demand rate
    "fidelity_target",  # F_d
    "usable_paths",  # usable slots / k
    "last_satisfied",  # min(1, delivered / D_d) of the last round
)
#: Per-slot (candidate path) features of an observation, in order.
SLOT_FEATURES: tuple[str, ...] = (
    "usable",  # 1 when the slot holds a usable path
    "inverse_g",  # 1 / g_p
    "segments",  # N_p / largest N_p
    "length",  # path length / longest candidate path
    "price_ratio",  # the demand's cheapest linear price per delivered pair / this one's
    "last_fraction",  # own a_j / levels played last round
    "last_peak_fill",  # max over its edges of load / (y C) last round
    "last_spare",  # min over its edges of spare fibre capacity / (g_p D_d), capped at 4
)
#: Per-edge features of the state (the nodes of the line graph), in order.
EDGE_FEATURES: tuple[str, ...] = (
    "length",  # effective length / longest
    "capacity_cost",  # cost_e / largest
    "fiber_cost",  # cost_f L_e / largest
    "paths",  # candidate paths crossing it / most crossing any edge
    "last_load",  # load / C_e: the load in fibres' worth of capacity
    "last_fibres",  # y_e / largest y_e of the round (0 before)
    "last_fill",  # load / (y C), 0 without fibres
)
SPARE_CAP = 4.0


@dataclass(frozen=True)
class Round:
    """One played round: the plan's flows, loads, fibres and what it scored."""

    levels: IntArray  # (n_agents, k) as played (invalid slots zeroed)
    invalid: IntArray  # (n_agents,) invalid slots per agent
    x: FloatArray  # (n_paths,)
    load: FloatArray  # (n_edges,)
    fibres: FloatArray  # (n_edges,)
    capacity_cost: float
    fiber_cost: float
    satisfied: FloatArray  # (n_agents,)
    cost_ratio: float
    unmet: float
    imbalance: float
    reward: float
    agent_terms: FloatArray  # (n_agents, 3) AGENT_TERMS, columns summing to the terms above

    @property
    def total_cost(self) -> float:
        return self.capacity_cost + self.fiber_cost


@dataclass(frozen=True)
class Layout:
    """Everything about the game on one instance that is fixed within an episode."""

    instance: Instance
    rounds: int
    levels: int
    unmet_penalty: float
    imbalance_penalty: float
    slot_path: IntArray  # (n_agents, k) global path, -1 when the slot is empty
    slot_usable: BoolArray  # (n_agents, k)
    slot_g: FloatArray  # (n_agents, k), 0 on unusable slots
    static_slots: FloatArray  # (n_agents, k, 5) the static SLOT_FEATURES
    static_demand: FloatArray  # (n_agents, 3) the static DEMAND_FEATURES
    static_edges: FloatArray  # (n_edges, 4) the static EDGE_FEATURES
    line_graph: IntArray  # (2, m) pairs of edges sharing a node, both directions
    cost_scale: float  # cost units (LP bound)
    load_scale: FloatArray  # (n_edges,) pairs/s

    @property
    def n_agents(self) -> int:
        return int(self.slot_path.shape[0])

    @property
    def k(self) -> int:
        return int(self.slot_path.shape[1])

    @property
    def observation_size(self) -> int:
        return len(GLOBAL_FEATURES) + len(DEMAND_FEATURES) + self.k * len(SLOT_FEATURES)

    @property
    def n_edges(self) -> int:
        return int(self.static_edges.shape[0])

    def state_size(self, adjacency: bool) -> int:
        size = len(GLOBAL_FEATURES) + self.n_edges * len(EDGE_FEATURES)
        return size + (self.n_edges**2 if adjacency else 0)

    def action_mask(self) -> BoolArray:
        """``(n_agents, k * (levels + 1))``, slot-major: unusable slots allow only level 0."""
        mask = np.ones((self.n_agents, self.k, self.levels + 1), dtype=bool)
        mask[~self.slot_usable, 1:] = False
        return mask.reshape(self.n_agents, -1)

    @classmethod
    def compile(
        cls,
        instance: Instance,
        rounds: int,
        levels: int,
        unmet_penalty: float,
        imbalance_penalty: float,
    ) -> Layout:
        paths, edges = instance.paths, instance.edges
        n, k = instance.n_demands, instance.k_paths
        slot_path = -np.ones((n, k), dtype=np.int64)
        slot_path[paths.demand, paths.slot] = np.arange(paths.n_paths)
        real = slot_path >= 0
        safe = np.where(real, slot_path, 0)
        usable = real & paths.usable[safe]
        g = np.where(usable, paths.g[safe], 0.0)
        price = np.where(usable, paths.delivered_cost()[safe], np.inf)
        cheapest = price.min(axis=1, keepdims=True)
        relative = np.where(usable, np.where(np.isfinite(cheapest), cheapest, 0.0) / price, 0.0)
        static_slots = np.stack(
            [
                usable.astype(np.float64),
                np.where(usable, 1.0 / np.where(usable, g, 1.0), 0.0),
                np.where(real, paths.segments[safe], 0) / max(1, int(paths.segments.max())),
                np.where(real, paths.length_km[safe], 0.0) / max(1e-12, paths.length_km.max()),
                relative,
            ],
            axis=-1,
        )
        demand = instance.demand
        mean_rate = float(demand.mean()) if demand.size and demand.mean() > 0 else 1.0
        static_demand = np.stack(
            [demand / mean_rate, instance.fidelity_targets, usable.sum(axis=1) / k], axis=-1
        )
        crossing = np.bincount(paths.edge_index, minlength=edges.n_edges).astype(np.float64)
        static_edges = np.stack(
            [
                edges.effective_km / edges.effective_km.max(),
                edges.capacity_cost / max(1e-300, edges.capacity_cost.max()),
                edges.fiber_cost / max(1e-300, edges.fiber_cost.max()),
                crossing / max(1.0, crossing.max()),
            ],
            axis=-1,
        )
        bound = relaxation_bound(instance)
        return cls(
            instance=instance,
            rounds=rounds,
            levels=levels,
            unmet_penalty=unmet_penalty,
            imbalance_penalty=imbalance_penalty,
            slot_path=slot_path,
            slot_usable=usable,
            slot_g=g,
            static_slots=static_slots,
            static_demand=static_demand,
            static_edges=static_edges,
            line_graph=line_graph(edges.u, edges.v),
            cost_scale=bound if bound > 0 else 1.0,
            load_scale=edges.fiber_capacity.copy(),
        )


def line_graph(u: IntArray, v: IntArray) -> IntArray:
    """``(2, m)`` ordered pairs ``(e, f)``, ``e != f``, of edges sharing an end node, sorted."""
    ends = np.concatenate([u, v])
    edge = np.concatenate([np.arange(u.size), np.arange(u.size)])
    order = np.argsort(ends, kind="stable")
    ends, edge = ends[order], edge[order]
    pairs: list[tuple[int, int]] = []
    starts = np.flatnonzero(np.r_[True, ends[1:] != ends[:-1]])
    bounds = np.r_[starts, ends.size]
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        group = edge[a:b].tolist()
        pairs += [(e, f) for e in group for f in group if e != f]
    if not pairs:
        return np.zeros((2, 0), dtype=np.int64)
    out = np.unique(np.asarray(pairs, dtype=np.int64), axis=0)
    return np.ascontiguousarray(out.T)


def play_round(layout: Layout, actions: IntArray) -> Round:
    """Score one round of everyone's levels ``actions`` ``(n_agents, k)`` (module docstring)."""
    instance = layout.instance
    paths, edges = instance.paths, instance.edges
    actions = np.asarray(actions, dtype=np.int64)
    wrong = (actions != 0) & ~layout.slot_usable
    played = np.where(wrong, 0, actions)
    fraction = played / layout.levels
    demand = instance.demand
    x = np.zeros(paths.n_paths)
    rows, cols = np.nonzero(layout.slot_usable)
    x[layout.slot_path[rows, cols]] = (
        layout.slot_g[rows, cols] * demand[rows] * fraction[rows, cols]
    )
    load = np.bincount(paths.edge_index, weights=x[paths.edge_path], minlength=edges.n_edges)
    fibres = np.maximum(np.ceil(load / edges.fiber_capacity - 1e-9), 0.0)
    capacity_cost = float(load @ edges.capacity_cost)
    fiber_cost = float(fibres @ edges.fiber_cost)
    share = fraction.sum(axis=1)
    satisfied = np.minimum(1.0, share)
    total = float(demand.sum())
    unmet = float(1.0 - (satisfied * demand).sum() / total) if total > 0 else 0.0
    multi = layout.slot_usable.sum(axis=1) >= 2
    high = np.where(layout.slot_usable, fraction, -np.inf).max(axis=1)
    low = np.where(layout.slot_usable, fraction, np.inf).min(axis=1)
    spread = np.where(multi, high - low, 0.0)
    weight = demand * multi
    imbalance = float((spread * weight).sum() / weight.sum()) if weight.sum() > 0 else 0.0
    cost_ratio = (capacity_cost + fiber_cost) / layout.cost_scale
    reward = -(cost_ratio + layout.unmet_penalty * unmet + layout.imbalance_penalty * imbalance)
    agent_cost = _agent_costs(layout, x, load, fibres)
    agent_terms = np.stack(
        [
            agent_cost / layout.cost_scale,
            (1.0 - satisfied) * demand / total if total > 0 else np.zeros_like(demand),
            spread * weight / weight.sum() if weight.sum() > 0 else np.zeros_like(demand),
        ],
        axis=-1,
    )
    return Round(
        levels=played,
        invalid=wrong.sum(axis=1).astype(np.int64),
        x=x,
        load=load,
        fibres=fibres,
        capacity_cost=capacity_cost,
        fiber_cost=fiber_cost,
        satisfied=satisfied,
        cost_ratio=float(cost_ratio),
        unmet=unmet,
        imbalance=imbalance,
        reward=float(reward),
        agent_terms=agent_terms,
    )


def _agent_costs(layout: Layout, x: FloatArray, load: FloatArray, fibres: FloatArray) -> FloatArray:
    """``(n_agents,)`` cost units: own flows' capacity cost plus load-proportional fibre cost."""
    paths, edges = layout.instance.paths, layout.instance.edges
    fibre_cost = fibres * edges.fiber_cost
    per_unit = edges.capacity_cost + np.divide(
        fibre_cost, load, out=np.zeros_like(load), where=load > 0
    )
    # Fibres on an edge without load are none (ceil(0) = 0), so nothing is left unassigned.
    incidence = x[paths.edge_path] * per_unit[paths.edge_index]
    path_cost = np.bincount(paths.edge_path, weights=incidence, minlength=paths.n_paths)
    return np.bincount(paths.demand, weights=path_cost, minlength=layout.n_agents)


def credited_rewards(layout: Layout, played: Round, credit: float) -> FloatArray:
    """``(n_agents,)`` rewards ``(1 - credit) r + credit * n * own_d`` (module docstring), with
    ``r`` the cooperative reward and ``own_d = -(terms_d . (1, unmet_penalty,
    imbalance_penalty))``; their mean over agents is ``r`` for every ``credit`` in ``[0, 1]``."""
    weights = np.array([1.0, layout.unmet_penalty, layout.imbalance_penalty])
    own = -layout.n_agents * (played.agent_terms @ weights)
    return (1.0 - credit) * played.reward + credit * own


def _path_extremes(layout: Layout, last: Round) -> tuple[FloatArray, FloatArray]:
    """Per path: max fill ``load / (y C)`` and min spare ``y C - load`` over its edges."""
    paths, edges = layout.instance.paths, layout.instance.edges
    capacity = last.fibres * edges.fiber_capacity
    fill = np.where(capacity > 0, last.load / np.where(capacity > 0, capacity, 1.0), 0.0)
    spare = np.maximum(capacity - last.load, 0.0)
    starts = paths.edge_indptr[:-1]
    peak = np.maximum.reduceat(fill[paths.edge_index], starts)
    least = np.minimum.reduceat(spare[paths.edge_index], starts)
    return peak, least


def observe(layout: Layout, round_index: int, last: Round | None) -> FloatArray:
    """``(n_agents, observation_size)`` every agent's observation (features above)."""
    n, k = layout.n_agents, layout.k
    glob = global_features(layout, round_index, last)
    dynamic_slots = np.zeros((n, k, 3))
    satisfied = np.zeros(n)
    if last is not None:
        satisfied = last.satisfied
        peak, least = _path_extremes(layout, last)
        safe = np.where(layout.slot_usable, layout.slot_path, 0)
        demand = layout.instance.demand[:, None]
        need = layout.slot_g * demand
        spare = np.where(need > 0, least[safe] / np.where(need > 0, need, 1.0), SPARE_CAP)
        dynamic_slots[..., 0] = last.levels / layout.levels
        dynamic_slots[..., 1] = np.where(layout.slot_usable, peak[safe], 0.0)
        dynamic_slots[..., 2] = np.where(layout.slot_usable, np.minimum(spare, SPARE_CAP), 0.0)
    slots = np.concatenate([layout.static_slots, dynamic_slots], axis=-1).reshape(n, -1)
    demand_rows = np.concatenate([layout.static_demand, satisfied[:, None]], axis=1)
    return np.concatenate([np.broadcast_to(glob, (n, glob.size)), demand_rows, slots], axis=1)


def edge_state(layout: Layout, last: Round | None) -> FloatArray:
    """``(n_edges, len(EDGE_FEATURES))`` the line graph's node features."""
    dynamic = np.zeros((layout.n_edges, 3))
    if last is not None:
        capacity = last.fibres * layout.load_scale
        dynamic[:, 0] = last.load / layout.load_scale
        dynamic[:, 1] = last.fibres / max(1.0, float(last.fibres.max()))
        dynamic[:, 2] = np.where(capacity > 0, last.load / np.where(capacity > 0, capacity, 1), 0)
    return np.concatenate([layout.static_edges, dynamic], axis=1)


def global_features(layout: Layout, round_index: int, last: Round | None) -> FloatArray:
    glob = np.zeros(len(GLOBAL_FEATURES))
    glob[0] = round_index / layout.rounds
    if last is not None:
        glob[1:] = (1.0, last.cost_ratio, last.unmet)
    return glob
