"""A synthetic selection problem with the qVPN LP's kind of coupling, for tests and benchmarks.

It is not the qVPN model (that is ``qnet_envs.qvpn``); it has the same structure so the
optimisers can be checked and timed without it. ``n_links`` links have capacities ``c_l``
(EPR pairs/s). Pair ``u`` has ``paths_per_pair`` candidate paths (random link sets of
``path_len`` links) and ``n_versions[u]`` versions; version ``v`` runs on one of them and spends
``a_v >= 1`` link-level EPR pairs per delivered pair on each of its links (the stand-in for the
distillation cost ``g_p``). The fitness of a selection is the LP

    max sum_u w_u sum_{v in sel(u)} x_v
    s.t. sum_{v uses l} a_v x_v <= c_l   for every link l      (capacity, the paper's (2))
         sum_{v in sel(u)} x_v <= r_max_u for every pair u      (maximum rate, the paper's (4))
         x_v >= 0

solved with HiGHS through ``scipy.optimize.linprog``. Pairs compete for shared links, so a
pair's best versions depend on the others' choices. An LP that fails to solve scores ``0.0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from agents.selection.problem import SelectionProblem, canonical


@dataclass(frozen=True)
class CapacityModel:
    """The data of the synthetic LP; :meth:`problem` wraps it as a :class:`SelectionProblem`."""

    n_versions: np.ndarray  # (n_pairs,) int
    max_slots: int
    capacity: np.ndarray  # (n_links,) EPR pairs/s
    usage: np.ndarray  # (sum(n_versions), n_links) link EPR pairs spent per delivered pair
    weight: np.ndarray  # (n_pairs,) W-EGR weight of a pair
    r_max: np.ndarray  # (n_pairs,) maximum rate of a pair, EPR pairs/s

    def fitness(self, selection: np.ndarray) -> float:
        """W-EGR (weighted EPR pairs/s) of ``selection`` (local indices, ``-1`` empty)."""
        sel = canonical(selection)
        pair_arr, slot = np.nonzero(sel >= 0)
        if pair_arr.size == 0:
            return 0.0
        start = np.concatenate([[0], np.cumsum(self.n_versions)])
        a_links = self.usage[start[pair_arr] + sel[pair_arr, slot]].T  # (n_links, n_selected)
        used = np.flatnonzero(a_links.any(axis=1))
        pairs = np.unique(pair_arr)
        a_pairs = (pair_arr[None, :] == pairs[:, None]).astype(float)
        res = linprog(
            -self.weight[pair_arr],
            A_ub=np.vstack([a_links[used], a_pairs]),
            b_ub=np.concatenate([self.capacity[used], self.r_max[pairs]]),
            bounds=(0, None),
            method="highs",
        )
        return float(-res.fun) if res.status == 0 else 0.0

    def features(self) -> tuple[np.ndarray, np.ndarray]:
        """``(version_features, pair_features)``: per version its cost ``a_v``, hop count,
        total cost, bottleneck rate ``min_l c_l / a_v`` (scaled) and load ``sum_l a_v / c_l``;
        per pair its weight and ``r_max``."""
        on = self.usage > 0
        cost = self.usage.max(axis=1)
        hops = on.sum(axis=1)
        bottleneck = np.where(on, self.capacity[None, :], np.inf).min(axis=1) / cost
        load = (self.usage / self.capacity[None, :]).sum(axis=1)
        version = np.stack([cost, hops, cost * hops, bottleneck / self.capacity.mean(), load], 1)
        pair = np.stack([self.weight, self.r_max / self.capacity.mean()], axis=1)
        return version, pair

    def problem(self, with_features: bool = True) -> SelectionProblem:
        version, pair = self.features() if with_features else (None, None)
        return SelectionProblem(
            n_versions=self.n_versions,
            max_slots=self.max_slots,
            fitness=self.fitness,
            version_features=version,
            pair_features=pair,
        )


def capacity_model(
    n_pairs: int = 150,
    versions: tuple[int, int] = (30, 200),
    max_slots: int = 3,
    n_links: int = 60,
    paths_per_pair: int = 5,
    path_len: tuple[int, int] = (1, 7),
    capacity: tuple[float, float] = (500.0, 5000.0),
    cost: tuple[float, float] = (1.0, 6.0),
    r_max: float = 1000.0,
    seed: int = 0,
) -> CapacityModel:
    """A seeded random :class:`CapacityModel`; ranges are inclusive ``(low, high)``.

    The defaults are the size of the paper's Sec. IV-E experiment: 150 pairs, 3 slots, 5
    candidate paths per pair, up to 7 hops, tens to hundreds of versions per pair.
    """
    for name, (low, high), floor in (
        ("versions", versions, 0),
        ("path_len", path_len, 1),
        ("capacity", capacity, 0),
        ("cost", cost, 1),
    ):
        if not floor <= low <= high:
            raise ValueError(
                f"{name} must be (low, high) with {floor} <= low <= high, got {low, high}"
            )
    if path_len[1] > n_links:
        raise ValueError(f"path_len high={path_len[1]} must be <= n_links={n_links}")
    for name, value in (
        ("n_pairs", n_pairs),
        ("max_slots", max_slots),
        ("paths_per_pair", paths_per_pair),
    ):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if versions[1] == 0:
        raise ValueError("versions high must be >= 1 (some pair needs a version)")
    rng = np.random.default_rng(seed)
    n_ver = rng.integers(versions[0], versions[1] + 1, size=n_pairs)
    cap = rng.uniform(*capacity, size=n_links)
    rows = []
    for u in range(n_pairs):
        paths = [
            rng.choice(n_links, size=int(rng.integers(path_len[0], path_len[1] + 1)), replace=False)
            for _ in range(paths_per_pair)
        ]
        for _ in range(int(n_ver[u])):
            row = np.zeros(n_links)
            row[paths[int(rng.integers(paths_per_pair))]] = rng.uniform(*cost)
            rows.append(row)
    return CapacityModel(
        n_versions=n_ver.astype(np.int64),
        max_slots=max_slots,
        capacity=cap,
        usage=np.array(rows),
        weight=rng.uniform(0.1, 1.0, size=n_pairs),
        r_max=np.full(n_pairs, r_max),
    )
