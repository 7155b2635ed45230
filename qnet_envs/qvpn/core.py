"""Pure rules of the qVPN revision game: actions -> selection -> rate LP -> rewards, observations.

Every organisation ``k`` owns the pairs ``layout.org_pairs[k]``. In each round every
organisation submits, for each of its pairs, up to ``max_paths`` path versions; the union of
the submissions is a selection (:mod:`qnet_envs.qvpn.lp`) and the rate LP decides the rates.
Nothing here touches PettingZoo or a random generator: a round is a pure function of the
layout, the round counter and the actions (the LP is deterministic).

Conventions (also the env's spec):

- An organisation's action is an int vector ``(max_pairs * max_paths,)``: slot
  ``i * max_paths + s`` is slot ``s`` of the organisation's ``i``-th pair. ``0`` leaves the slot
  empty; ``j >= 1`` picks the pair's local version ``j - 1``. A value naming no version (``j - 1
  >= n_versions(u)``, or any non-zero value on a padding row of a smaller organisation) is an
  *invalid slot*: it is treated as empty and counted.
- Rates are scaled by ``layout.rate_scale`` (pairs/s: the largest bottleneck capacity of any
  version) and W-EGR by ``layout.reward_scale`` (the W-EGR of the LP over *every* version of
  every pair, which bounds any selection's W-EGR from above) in observations and rewards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from qnet_envs.qvpn.lp import LPResult, rate_program, solve_lp
from qnet_envs.qvpn.milp import dominance_representatives
from qnet_envs.qvpn.problem import Instance
from qnet_envs.solvers import solve
from qnet_envs.validation import check_flag, check_integer

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Features of a pair row of an observation, in order.
PAIR_FEATURES: tuple[str, ...] = (
    "valid",  # 1 for a real pair, 0 for a padding row
    "org_weight",  # w_k
    "pair_weight",  # lambda_u
    "fidelity_threshold",  # F_u
    "r_min",  # / rate_scale
    "has_r_max",  # 1 when R_max is finite
    "r_max",  # / rate_scale, 0 when unbounded
    "versions",  # n_versions(u) / max_versions
    "last_rate",  # pair rate of the last round / rate_scale
    "last_shortfall",  # R_min shortfall of the last round / rate_scale
)
#: Features of a version row of an observation, in order.
VERSION_FEATURES: tuple[str, ...] = (
    "valid",  # 1 for a real version, 0 for padding
    "hops",  # physical links / max hops of any version
    "fidelity_raw",  # end to end without distillation
    "fidelity_delivered",  # after link-level and end-to-end distillation
    "threshold",  # link-level threshold F_th
    "coefficient",  # w_k lambda_u q^(N-1), the LP objective per pair/s
    "inverse_g",  # 1 / largest per-link g
    "bottleneck",  # min_l c_l / g_l, / rate_scale
    "selected",  # chosen in the last round (by anyone)
    "last_rate",  # its rate in the last round / rate_scale
    "reduced_value",  # coefficient - sum_l price_l g_l at the last LP's link prices
)
#: Global features at the start of every observation, in order.
GLOBAL_FEATURES: tuple[str, ...] = (
    "round",  # rounds played / rounds
    "has_result",  # 0 before the first round
    "feasible",  # the last round's LP was feasible
    "w_egr",  # the last round's W-EGR / reward_scale
)


@dataclass(frozen=True)
class Layout:
    """Everything about the game on one instance that never changes within an episode."""

    instance: Instance
    rounds: int
    org_pairs: tuple[IntArray, ...]  # (n_orgs,) pairs of each organisation, ascending
    max_pairs: int  # pairs of the largest organisation: observations and actions pad to it
    max_versions: int  # largest n_versions(u): a slot chooses among max_versions + 1 values
    version_index: IntArray  # (n_pairs, max_versions) global version offered, -1 for padding
    static_versions: FloatArray  # (n_pairs, max_versions, 8) the static VERSION_FEATURES
    static_pairs: FloatArray  # (n_pairs, 8) the static PAIR_FEATURES
    rate_scale: float  # pairs/s
    reward_scale: float  # pairs/s (weighted)

    @property
    def n_orgs(self) -> int:
        return len(self.org_pairs)

    @property
    def slots(self) -> int:
        """Action entries per organisation."""
        return self.max_pairs * self.instance.max_paths

    @property
    def observation_size(self) -> int:
        return (
            len(GLOBAL_FEATURES)
            + self.max_pairs * len(PAIR_FEATURES)
            + self.max_pairs * self.max_versions * len(VERSION_FEATURES)
            + self.instance.network.n_links
        )

    @property
    def state_size(self) -> int:
        return (
            len(GLOBAL_FEATURES)
            + self.instance.n_pairs * len(PAIR_FEATURES)
            + self.n_orgs
            + self.instance.network.n_links
        )

    @classmethod
    def compile(cls, instance: Instance, rounds: int, prune_dominated: bool = True) -> Layout:
        """Tabulate the static shapes and features of ``instance`` (solves one LP: the bound).

        ``prune_dominated`` offers only the versions that no other version of the same pair
        dominates (a version is dominated when another has at least its LP coefficient and at
        most its ``g`` on every link; :func:`qnet_envs.qvpn.milp.dominance_representatives`).
        The reduction is exact: swapping a dominated version for its dominator keeps every
        rate feasible and the W-EGR at least as high, so the best selection is unchanged.
        """
        check_integer("rounds", rounds, 1)
        check_flag("prune_dominated", prune_dominated)
        vt = instance.versions
        n_pairs = instance.n_pairs
        if vt.n_total == 0:
            raise ValueError(f"instance {instance.name!r}: no pair has a usable path version")
        offered = np.arange(vt.n_total)
        if prune_dominated:
            offered = offered[dominance_representatives(instance) == offered]
        counts = np.bincount(vt.pair[offered], minlength=n_pairs)
        pair_org = np.asarray(instance.pair_org, dtype=np.int64)
        org_pairs = tuple(np.flatnonzero(pair_org == k) for k in range(instance.n_orgs))
        max_versions = int(counts.max())
        local = np.arange(max_versions)
        valid = local[None, :] < counts[:, None]
        index = np.full((n_pairs, max_versions), -1, dtype=np.int64)
        index[valid] = offered  # offered is sorted by pair, so rows fill in order
        rate_scale = float(vt.bottleneck_capacity.max())
        reward_scale = _upper_bound(instance)
        max_hops = float(vt.hops.max())

        def per_version(values: FloatArray) -> FloatArray:
            return np.where(valid, values[np.maximum(index, 0)], 0.0)

        static_versions = np.stack(
            [
                valid.astype(np.float64),
                per_version(vt.hops / max_hops),
                per_version(vt.fidelity_raw),
                per_version(vt.fidelity_delivered),
                per_version(vt.threshold),
                per_version(vt.coefficient),
                per_version(1.0 / vt.g_max),
                per_version(vt.bottleneck_capacity / rate_scale),
            ],
            axis=-1,
        )
        r_max = np.asarray(instance.r_max, dtype=np.float64)
        bounded = np.isfinite(r_max)
        static_pairs = np.stack(
            [
                np.ones(n_pairs),
                np.asarray(instance.org_weights, dtype=np.float64)[pair_org],
                np.asarray(instance.pair_weight, dtype=np.float64),
                np.asarray(instance.pair_fidelity, dtype=np.float64),
                np.asarray(instance.r_min, dtype=np.float64) / rate_scale,
                bounded.astype(np.float64),
                np.where(bounded, r_max, 0.0) / rate_scale,
                counts / max_versions,
            ],
            axis=-1,
        )
        return cls(
            instance=instance,
            rounds=rounds,
            org_pairs=org_pairs,
            max_pairs=max(p.size for p in org_pairs),
            max_versions=max_versions,
            version_index=index,
            static_versions=static_versions,
            static_pairs=static_pairs,
            rate_scale=rate_scale,
            reward_scale=reward_scale,
        )

    def action_mask(self, org: int) -> BoolArray:
        """``(slots, max_versions + 1)``: the values each slot of ``org`` may take (0 always)."""
        pairs = self.org_pairs[org]
        mask = np.zeros((self.max_pairs, self.max_versions + 1), dtype=bool)
        mask[:, 0] = True
        mask[: pairs.size, 1:] = self.version_index[pairs] >= 0
        return np.repeat(mask, self.instance.max_paths, axis=0)


def _upper_bound(instance: Instance) -> float:
    """W-EGR of the LP over every version (no per-pair limit): no selection does better.

    Falls back to 1 when that LP is infeasible (then every selection is) or has W-EGR 0.
    """
    every = np.arange(instance.versions.n_total)
    program, _, _ = rate_program(instance, every)
    result = solve(program)
    if result.status != "optimal" or not result.objective > 0:
        return 1.0
    return float(result.objective)


class Round(NamedTuple):
    """The outcome of one round (all arrays over the whole instance)."""

    selection: IntArray  # (n_pairs, max_paths) local versions, -1 empty
    invalid_slots: IntArray  # (n_orgs,) slots that named no version
    lp: LPResult
    org_w_egr: FloatArray  # (n_orgs,) weighted rate of each organisation's pairs, pairs/s
    org_shortfall: FloatArray  # (n_orgs,) sum of R_min shortfalls / sum of R_min (0 if none)


def decode(layout: Layout, actions: list[IntArray]) -> tuple[IntArray, IntArray]:
    """Selection ``(n_pairs, max_paths)`` (the LP's local versions) and invalid-slot counts
    from one action per organisation."""
    instance = layout.instance
    paths = instance.max_paths
    offsets = instance.versions.pair_offsets
    selection = np.full((instance.n_pairs, paths), -1, dtype=np.int64)
    invalid = np.zeros(layout.n_orgs, dtype=np.int64)
    for org, (pairs, action) in enumerate(zip(layout.org_pairs, actions, strict=True)):
        grid = np.asarray(action, dtype=np.int64).reshape(layout.max_pairs, paths)
        real, padding = grid[: pairs.size], grid[pairs.size :]
        offered = layout.version_index[pairs]  # (n_k, max_versions)
        named = np.clip(real - 1, 0, layout.max_versions - 1)
        version = np.take_along_axis(offered, named, axis=1)
        ok = (real >= 1) & (real <= layout.max_versions) & (version >= 0)
        invalid[org] = int(np.count_nonzero((real != 0) & ~ok) + np.count_nonzero(padding))
        selection[pairs] = np.where(ok, version - offsets[pairs, None], -1)
    return selection, invalid


def play_round(layout: Layout, actions: list[IntArray]) -> Round:
    """Decode the actions, solve the rate LP and split its result by organisation."""
    instance = layout.instance
    selection, invalid = decode(layout, actions)
    lp = solve_lp(instance, selection)
    vt = instance.versions
    pair_value = np.bincount(vt.pair, weights=vt.coefficient * lp.rate, minlength=instance.n_pairs)
    r_min = np.asarray(instance.r_min, dtype=np.float64)
    org_w_egr = np.array([pair_value[p].sum() for p in layout.org_pairs])
    org_shortfall = np.array(
        [
            lp.shortfall[p].sum() / r_min[p].sum() if r_min[p].sum() > 0 else 0.0
            for p in layout.org_pairs
        ]
    )
    return Round(selection, invalid, lp, org_w_egr, org_shortfall)


def rewards(
    layout: Layout, played: Round, *, cooperative: bool, infeasible_penalty: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(reward, weighted_rate, shortfall_penalty)`` per organisation.

    Feasible round: ``weighted_rate_k = W-EGR_k / reward_scale``. Infeasible round (W-EGR 0):
    ``shortfall_penalty_k = -infeasible_penalty * org_shortfall_k``. Cooperative: every
    organisation receives the sum over organisations.
    """
    feasible = played.lp.feasible
    weighted = played.org_w_egr / layout.reward_scale if feasible else np.zeros(layout.n_orgs)
    penalty = np.zeros(layout.n_orgs) if feasible else -infeasible_penalty * played.org_shortfall
    reward = weighted + penalty
    if cooperative:
        reward = np.full(layout.n_orgs, reward.sum())
    return reward, weighted, penalty


def _global(layout: Layout, round_index: int, played: Round | None) -> FloatArray:
    if played is None:
        return np.array([round_index / layout.rounds, 0.0, 0.0, 0.0])
    return np.array(
        [
            round_index / layout.rounds,
            1.0,
            float(played.lp.feasible),
            played.lp.w_egr / layout.reward_scale,
        ]
    )


def _dynamic_pairs(layout: Layout, played: Round | None) -> FloatArray:
    """``(n_pairs, 2)``: last rate and shortfall, scaled."""
    if played is None:
        return np.zeros((layout.instance.n_pairs, 2))
    lp = played.lp
    return np.stack([lp.pair_rate, lp.shortfall], axis=-1) / layout.rate_scale


def _link_utilisation(layout: Layout, played: Round | None) -> FloatArray:
    if played is None:
        return np.zeros(layout.instance.network.n_links)
    return played.lp.link_use / layout.instance.network.capacity


def observe(layout: Layout, org: int, round_index: int, played: Round | None) -> FloatArray:
    """Organisation ``org``'s observation (float64; the adapter casts), see the feature tables.

    Layout: ``GLOBAL_FEATURES``, then ``max_pairs`` rows of ``PAIR_FEATURES``, then
    ``max_pairs * max_versions`` rows of ``VERSION_FEATURES`` (pair-major), then each link's
    utilisation (use / capacity) in the last round.
    """
    pairs = layout.org_pairs[org]
    n_pair_f, n_ver_f = len(PAIR_FEATURES), len(VERSION_FEATURES)
    pair_rows = np.zeros((layout.max_pairs, n_pair_f))
    pair_rows[: pairs.size, :8] = layout.static_pairs[pairs]
    pair_rows[: pairs.size, 8:] = _dynamic_pairs(layout, played)[pairs]
    version_rows = np.zeros((layout.max_pairs, layout.max_versions, n_ver_f))
    version_rows[: pairs.size, :, :8] = layout.static_versions[pairs]
    if played is not None:
        index = layout.version_index[pairs]
        valid = index >= 0
        safe = np.maximum(index, 0)
        lp, vt = played.lp, layout.instance.versions
        selected = np.zeros(vt.n_total)
        selected[lp.selected] = 1.0
        version_rows[: pairs.size, :, 8] = np.where(valid, selected[safe], 0.0)
        version_rows[: pairs.size, :, 9] = np.where(valid, lp.rate[safe] / layout.rate_scale, 0.0)
        version_rows[: pairs.size, :, 10] = np.where(valid, _reduced_value(layout, lp)[safe], 0.0)
    else:
        version_rows[: pairs.size, :, 10] = version_rows[: pairs.size, :, 5]
    return np.concatenate(
        [
            _global(layout, round_index, played),
            pair_rows.ravel(),
            version_rows.ravel(),
            _link_utilisation(layout, played),
        ]
    )


def _reduced_value(layout: Layout, lp: LPResult) -> FloatArray:
    """Per version: ``coefficient - sum_l price_l g_l`` at the LP's link prices."""
    vt = layout.instance.versions
    lengths = np.diff(vt.link_indptr)
    cost = np.bincount(
        np.repeat(np.arange(vt.n_total), lengths),
        weights=lp.link_price[vt.link_index] * vt.link_g,
        minlength=vt.n_total,
    )
    return vt.coefficient - cost


def global_state(layout: Layout, round_index: int, played: Round | None) -> FloatArray:
    """The centralised critic's input: global features, every pair's row, each organisation's
    last weighted rate (/ reward_scale), and the link utilisation."""
    pairs = np.concatenate([layout.static_pairs, _dynamic_pairs(layout, played)], axis=-1)
    org = np.zeros(layout.n_orgs) if played is None else played.org_w_egr / layout.reward_scale
    return np.concatenate(
        [
            _global(layout, round_index, played),
            pairs.ravel(),
            org,
            _link_utilisation(layout, played),
        ]
    )
