"""The qVPN path-version selection as a :class:`SelectionProblem` (fitness: the rate LP's W-EGR).

:func:`selection_problem` turns an :class:`~qnet_envs.qvpn.Instance` into the contract the GA
and REINFORCE optimise: ``n_versions`` per pair, ``max_slots = instance.max_paths`` and a
fitness that is :func:`qnet_envs.qvpn.lp.solve_lp`'s ``w_egr`` (0.0 for an infeasible LP, the
paper's W-EGR of an infeasible setting). Both optimisers memoise it by canonical selection
(:class:`agents.selection.cache.CachedFitness`), so each distinct version set costs one LP.

With ``prune_dominated`` (default) a pair offers only the versions that no other version of
it dominates (:func:`qnet_envs.qvpn.milp.dominance_representatives`: at least the LP
coefficient and at most the ``g`` on every link), as the env does. The reduction is exact, so
the best W-EGR is unchanged, and it keeps 8-12 versions per pair instead of up to 120. The
problem's local indices then differ from the LP's: :class:`VersionMap` converts both ways
(a dominated LP version maps to the version that dominates it, which never lowers W-EGR).

Features (REINFORCE's MLP input; it standardises every column): per version
:data:`VERSION_FEATURES` from the ``VersionTable``, per pair :data:`PAIR_FEATURES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from agents.selection.problem import SelectionProblem
from qnet_envs.qvpn.lp import solve_lp
from qnet_envs.qvpn.milp import dominance_representatives
from qnet_envs.qvpn.problem import Instance

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: How :func:`lp_fitness` may score an infeasible LP.
INFEASIBLE_SCORES: tuple[str, ...] = ("zero", "shortfall")
#: Columns of ``version_features``, in order (logs of rates and costs: they span decades).
VERSION_FEATURES: tuple[str, ...] = (
    "hops",  # physical links N
    "threshold",  # link-level threshold F_th
    "fidelity_raw",  # end to end without distillation
    "fidelity_delivered",  # after both distillation levels
    "coefficient",  # w_k lambda_u q^(N-1), the LP objective per pair/s
    "log_g_max",  # ln of the largest per-link g (raw link pairs per delivered pair)
    "log_bottleneck",  # ln of min_l c_l / g_l, pairs/s
    "link_rounds",  # link-level distillation rounds
    "e2e_rounds",  # end-to-end distillation rounds
)
#: Columns of ``pair_features``, in order.
PAIR_FEATURES: tuple[str, ...] = (
    "org_weight",  # w_k
    "pair_weight",  # lambda_u
    "fidelity_threshold",  # F_u
    "r_min",  # pairs/s
    "has_r_max",  # 1 when R_max is finite
    "r_max",  # pairs/s, 0 when unbounded
    "versions",  # versions offered to the pair
)


@dataclass(frozen=True)
class VersionMap:
    """Which LP versions a selection problem offers, and the index conversions.

    ``offered`` holds the global version ids the problem offers, ascending (so grouped by
    pair); pair ``u``'s problem-local index ``j`` is global version ``offered[offsets[u] + j]``.
    """

    instance: Instance
    offered: IntArray  # (n_offered,) global version ids, ascending
    offsets: IntArray  # (n_pairs + 1,) pair u offers offered[offsets[u]:offsets[u + 1]]
    representative: IntArray  # (n_versions,) global id of the offered version dominating each

    @property
    def counts(self) -> IntArray:
        """``(n_pairs,)`` versions offered per pair."""
        return np.diff(self.offsets)

    def to_lp(self, selection: NDArray[np.integer]) -> IntArray:
        """A problem selection ``(n_pairs, max_paths)`` as the LP's local indices (-1 kept)."""
        sel = np.asarray(selection, dtype=np.int64)
        self._check(sel, self.counts, "problem")
        lp_offsets = self.instance.versions.pair_offsets
        safe = np.where(sel >= 0, sel, 0) + self.offsets[:-1, None]
        glob = self.offered[np.minimum(safe, max(self.offered.size - 1, 0))]
        return np.where(sel >= 0, glob - lp_offsets[:-1, None], -1)

    def from_lp(self, selection: NDArray[np.integer]) -> IntArray:
        """An LP selection as problem indices; a version not offered becomes its dominator."""
        sel = np.asarray(selection, dtype=np.int64)
        lp_offsets = self.instance.versions.pair_offsets
        self._check(sel, np.diff(lp_offsets), "LP")
        glob = self.representative[np.where(sel >= 0, sel, 0) + lp_offsets[:-1, None]]
        local = np.searchsorted(self.offered, glob) - self.offsets[:-1, None]
        return np.where(sel >= 0, local, -1)

    def _check(self, sel: IntArray, counts: IntArray, kind: str) -> None:
        shape = (self.instance.n_pairs, self.instance.max_paths)
        if sel.shape != shape:
            raise ValueError(f"{kind} selection must have shape {shape}, got {sel.shape}")
        bad = (sel < -1) | (sel >= counts[:, None])
        if bad.any():
            u, s = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{kind} selection[{u}, {s}] = {int(sel[u, s])}: pair {u} has {int(counts[u])} "
                f"{kind} versions, so allowed values are -1..{int(counts[u]) - 1}"
            )


def version_map(instance: Instance, *, prune_dominated: bool = True) -> VersionMap:
    """The versions offered (all, or the undominated ones) and their index conversions."""
    if not isinstance(prune_dominated, bool):
        raise ValueError(f"prune_dominated must be True or False, got {prune_dominated!r}")
    vt = instance.versions
    if prune_dominated:
        representative = dominance_representatives(instance).astype(np.int64)
    else:
        representative = np.arange(vt.n_total, dtype=np.int64)
    offered = np.flatnonzero(representative == np.arange(vt.n_total)).astype(np.int64)
    counts = np.bincount(vt.pair[offered], minlength=instance.n_pairs)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return VersionMap(instance, offered, offsets, representative)


def version_features(mapping: VersionMap) -> FloatArray:
    """``(n_offered, len(VERSION_FEATURES))`` features of the offered versions."""
    vt, v = mapping.instance.versions, mapping.offered
    return np.stack(
        [
            vt.hops[v].astype(np.float64),
            vt.threshold[v],
            vt.fidelity_raw[v],
            vt.fidelity_delivered[v],
            vt.coefficient[v],
            np.log(vt.g_max[v]),
            np.log(vt.bottleneck_capacity[v]),
            vt.link_rounds[v].astype(np.float64),
            vt.e2e_rounds[v].astype(np.float64),
        ],
        axis=1,
    )


def pair_features(mapping: VersionMap) -> FloatArray:
    """``(n_pairs, len(PAIR_FEATURES))`` features of the pairs."""
    inst = mapping.instance
    pair_org = np.asarray(inst.pair_org, dtype=np.int64)
    r_max = np.asarray(inst.r_max, dtype=np.float64)
    bounded = np.isfinite(r_max)
    return np.stack(
        [
            np.asarray(inst.org_weights, dtype=np.float64)[pair_org],
            np.asarray(inst.pair_weight, dtype=np.float64),
            np.asarray(inst.pair_fidelity, dtype=np.float64),
            np.asarray(inst.r_min, dtype=np.float64),
            bounded.astype(np.float64),
            np.where(bounded, r_max, 0.0),
            mapping.counts.astype(np.float64),
        ],
        axis=1,
    )


def lp_fitness(mapping: VersionMap, infeasible: str = "zero") -> Callable[[np.ndarray], float]:
    """W-EGR (pairs/s, weighted) of a problem selection; an infeasible LP scores ``0.0``
    (``infeasible="zero"``) or ``-sum_u shortfall_u / sum_u R_min_u`` in ``[-1, 0)``
    (``"shortfall"``: below every feasible selection, and higher the closer to feasible)."""
    if infeasible not in INFEASIBLE_SCORES:
        raise ValueError(f"infeasible must be one of {INFEASIBLE_SCORES}, got {infeasible!r}")
    instance = mapping.instance
    total_r_min = float(np.sum(instance.r_min))

    def fitness(selection: np.ndarray) -> float:
        result = solve_lp(instance, mapping.to_lp(selection))
        if result.status == "optimal":
            return float(result.w_egr)
        if infeasible == "zero" or total_r_min <= 0:
            return 0.0
        return -float(result.shortfall.sum()) / total_r_min

    return fitness


def selection_problem(
    instance: Instance, *, prune_dominated: bool = True, infeasible: str = "zero"
) -> SelectionProblem:
    """``instance`` as a selection problem (module docstring); use :func:`version_map` with
    the same ``prune_dominated`` to convert its selections to the LP's indices and back.

    ``infeasible``: how an infeasible LP scores (:func:`lp_fitness`). ``"zero"`` is the
    paper's W-EGR; ``"shortfall"`` gives a search started from random selections a gradient
    towards feasibility where almost every random selection is infeasible (``paper-per-km``:
    every one of 2,566 selections a 30-generation GA scored), so W-EGR alone is flat at 0.
    """
    mapping = version_map(instance, prune_dominated=prune_dominated)
    return SelectionProblem(
        n_versions=mapping.counts,
        max_slots=instance.max_paths,
        fitness=lp_fitness(mapping, infeasible),
        version_features=version_features(mapping),
        pair_features=pair_features(mapping),
    )
