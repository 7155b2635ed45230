"""Candidate paths of every demand, their end-to-end fidelity and the scaling ``g_p``.

Each demand gets up to ``k`` (default 3) loopless paths by Yen's algorithm on ``length_km``,
shortest first, ties by node order: :class:`qnet_envs.planning.yen.YenPaths`, which returns
exactly what :func:`qnet_envs.topology.k_shortest_paths` (the reference, kept in the tests)
returns, on compiled Dijkstra searches shared among the demands of one source.

Fidelity-equivalent scaling (QPLAN Sec. III-B), all from :mod:`qnet_envs.physics`: path ``p``
crosses ``N_p`` elementary segments (the sum of its edges' ``s_e``), each of singlet fidelity
``F_0 = 1 - alpha``, treated as a Werner pair (a twirl keeps the fidelity). Without distillation
its end-to-end fidelity is ``S_0 = nested_swap_fidelity(F_0, N_p, P2, eta_m)``. When
``S_0 < F_d`` every segment is distilled by recurrence (DEJMPS or BBPSSW,
:func:`qnet_envs.physics.distillation_schedule`) to the smallest link fidelity ``F*`` with
``nested_swap_fidelity(F*, N_p) >= F_d`` (found by bisection on the physics function, never by
an inverted formula). The rounds consume ``a_p`` raw segment pairs per distilled pair, and each
of the ``N_p - 1`` swaps succeeds with probability ``q``, so

    g_p = a_p / q^(N_p - 1)

raw pairs of link capacity on every edge of ``p`` per usable end-to-end pair: a flow ``x_p``
(pairs/s of link capacity) delivers ``x_p / g_p``. A path is *unusable* (excluded, ``g_p =
inf``) when even perfect links miss ``F_d`` (``nested_swap_fidelity(1, N_p) < F_d``), when
``F_0 <= 1/2 < F*`` (recurrence cannot start) or when ``max_rounds`` rounds are not enough.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from qnet_envs.physics import distillation_schedule, nested_swap_fidelity

if TYPE_CHECKING:
    from qnet_envs.planning.problem import Instance

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BISECTION_STEPS = 60


@dataclass(frozen=True)
class PathPhysics:
    """Fidelity and distillation of a path of ``segments`` elementary segments."""

    fidelity_raw: float  # end to end, no distillation
    fidelity_link: float  # one segment after its distillation rounds
    fidelity_delivered: float  # end to end after them
    rounds: int  # recurrence rounds on every segment
    raw_per_distilled: float  # a_p
    g: float  # a_p / q^(N_p - 1); inf when unusable
    reason: str  # "" when usable, else why not


@dataclass(frozen=True)
class CandidatePaths:
    """Every demand's candidate paths, flat: demand ``d`` owns rows
    ``demand_offsets[d]:demand_offsets[d + 1]`` (its local slots 0, 1, ...).

    Edges of path ``p`` are ``edge_index[edge_indptr[p]:edge_indptr[p + 1]]`` (path order).
    """

    demand_offsets: IntArray  # (n_demands + 1,)
    demand: IntArray  # (n_paths,)
    slot: IntArray  # (n_paths,) local index within the demand
    nodes: tuple[tuple[int, ...], ...]  # (n_paths,) node sequences, source first
    edge_indptr: IntArray  # (n_paths + 1,)
    edge_index: IntArray  # (nnz,)
    hops: IntArray  # (n_paths,) edges
    segments: IntArray  # (n_paths,) elementary segments N_p
    length_km: FloatArray  # (n_paths,) sum of edge lengths
    fidelity_raw: FloatArray  # (n_paths,)
    fidelity_delivered: FloatArray  # (n_paths,)
    rounds: IntArray  # (n_paths,) distillation rounds per segment
    g: FloatArray  # (n_paths,) inf for unusable paths
    usable: NDArray[np.bool_]  # (n_paths,)
    reason: tuple[str, ...]  # (n_paths,)
    unit_cost: FloatArray  # (n_paths,) sum of cost_e over its edges (per pair/s of x_p)
    unit_fiber_cost: FloatArray  # (n_paths,) sum of fibre cost / C_e (per pair/s, fractional)

    @property
    def n_paths(self) -> int:
        return int(self.demand.shape[0])

    @property
    def n_demands(self) -> int:
        return int(self.demand_offsets.shape[0] - 1)

    @property
    def counts(self) -> IntArray:
        return np.diff(self.demand_offsets)

    @property
    def edge_path(self) -> IntArray:
        """``(nnz,)`` the path of each entry of ``edge_index``."""
        return np.repeat(np.arange(self.n_paths), np.diff(self.edge_indptr))

    @property
    def unserviceable(self) -> IntArray:
        """Demands without any usable path (they cannot be served by any plan)."""
        has = np.zeros(self.n_demands, dtype=bool)
        has[self.demand[self.usable]] = True
        return np.flatnonzero(~has)

    def delivered_cost(self) -> FloatArray:
        """``(n_paths,)`` linear cost per usable delivered pair/s, ``g_p * (capacity cost +
        fractional fibre cost)``: the LP relaxation's price of the path (inf when unusable)."""
        return self.g * (self.unit_cost + self.unit_fiber_cost)


def path_physics(instance: Instance, segments: int, target: float, f0: float) -> PathPhysics:
    """:class:`PathPhysics` of ``segments`` segments of fidelity ``f0`` for target ``target``."""
    p2, eta_m, q = instance.gate_fidelity, instance.measurement_fidelity, instance.swap_success
    raw = float(nested_swap_fidelity(f0, segments, p2, eta_m))
    swaps = q ** (segments - 1)
    if raw >= target:
        return PathPhysics(raw, f0, raw, 0, 1.0, 1.0 / swaps, "")
    if float(nested_swap_fidelity(1.0, segments, p2, eta_m)) < target:
        reason = "swap errors alone miss the fidelity target"
        return PathPhysics(raw, f0, raw, 0, np.inf, np.inf, reason)
    low, high = f0, 1.0  # nested_swap(low) < target <= nested_swap(high)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (low + high)
        if float(nested_swap_fidelity(mid, segments, p2, eta_m)) >= target:
            high = mid
        else:
            low = mid
    if high >= 1.0:
        reason = "needs perfect segments"
        return PathPhysics(raw, f0, raw, 0, np.inf, np.inf, reason)
    try:
        schedule = distillation_schedule(f0, high, instance.protocol, instance.max_rounds)
    except ValueError as exc:
        return PathPhysics(raw, f0, raw, 0, np.inf, np.inf, f"not distillable: {exc}")
    link = schedule.final_fidelity
    delivered = float(nested_swap_fidelity(link, segments, p2, eta_m))
    a = schedule.raw_pairs_per_output
    return PathPhysics(raw, link, delivered, schedule.rounds, a, a / swaps, "")


def candidate_paths(instance: Instance) -> CandidatePaths:
    """Yen paths of every demand with their physics (see the module docstring)."""
    from qnet_envs.planning.yen import YenPaths

    graph = instance.graph
    edges = instance.edges
    index = edges.index()
    targets = instance.fidelity_targets
    physics: dict[tuple[int, float], PathPhysics] = {}
    offsets = [0]
    demand: list[int] = []
    slot: list[int] = []
    nodes: list[tuple[int, ...]] = []
    indptr = [0]
    flat: list[int] = []
    rows: list[PathPhysics] = []
    pairs = [(s, t) for s, t in instance.demand_pairs.tolist()]
    all_found = YenPaths(graph, weight="length_km").many(pairs, instance.k_paths)
    for d, found in enumerate(all_found):
        for j, path in enumerate(found):
            path_edges = [index[(a, b)] for a, b in itertools.pairwise(path)]
            n_seg = int(edges.segments[path_edges].sum())
            key = (n_seg, float(targets[d]))
            if key not in physics:
                physics[key] = path_physics(instance, n_seg, key[1], edges.segment_fidelity)
            rows.append(physics[key])
            demand.append(d)
            slot.append(j)
            nodes.append(tuple(int(x) for x in path))
            flat += path_edges
            indptr.append(len(flat))
        offsets.append(len(demand))
    edge_indptr = np.asarray(indptr, dtype=np.int64)
    edge_index = np.asarray(flat, dtype=np.int64)
    n_paths = len(demand)
    path_of = np.repeat(np.arange(n_paths), np.diff(edge_indptr))

    def per_path(values: FloatArray) -> FloatArray:
        return np.bincount(path_of, weights=values[edge_index], minlength=n_paths)

    g = np.array([r.g for r in rows], dtype=np.float64)
    out = CandidatePaths(
        demand_offsets=np.asarray(offsets, dtype=np.int64),
        demand=np.asarray(demand, dtype=np.int64),
        slot=np.asarray(slot, dtype=np.int64),
        nodes=tuple(nodes),
        edge_indptr=edge_indptr,
        edge_index=edge_index,
        hops=np.diff(edge_indptr),
        segments=np.bincount(path_of, weights=edges.segments[edge_index], minlength=n_paths)
        .round()
        .astype(np.int64),
        length_km=per_path(edges.length_km),
        fidelity_raw=np.array([r.fidelity_raw for r in rows], dtype=np.float64),
        fidelity_delivered=np.array([r.fidelity_delivered for r in rows], dtype=np.float64),
        rounds=np.array([r.rounds for r in rows], dtype=np.int64),
        g=g,
        usable=np.isfinite(g),
        reason=tuple(r.reason for r in rows),
        unit_cost=per_path(edges.capacity_cost),
        unit_fiber_cost=per_path(edges.fiber_cost / edges.fiber_capacity),
    )
    for name in (
        "demand_offsets",
        "demand",
        "slot",
        "edge_indptr",
        "edge_index",
        "hops",
        "segments",
        "length_km",
        "fidelity_raw",
        "fidelity_delivered",
        "rounds",
        "g",
        "usable",
        "unit_cost",
        "unit_fiber_cost",
    ):
        getattr(out, name).setflags(write=False)
    return out
