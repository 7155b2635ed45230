"""Path versions: a candidate path with a link-level distillation threshold, and its cost ``g``.

A *version* of pair ``u`` is a candidate path ``p`` (``N`` physical links) with a link-level
threshold ``F_th``. Its strategy, for recurrence protocol DEJMPS (default) or BBPSSW:

1. link level: each link's raw pairs (fidelity ``F_l``) are distilled by
   :func:`qnet_envs.physics.distillation_schedule` until their fidelity reaches ``F_th`` (no
   round when ``F_l >= F_th``); ``a_l`` raw pairs are consumed per distilled link pair and the
   distilled pair has fidelity ``F_l'`` (treated as Werner: a twirl keeps the fidelity);
2. swapping: ``S = nested_swap_fidelity(F', N, P2, eta_m)`` (all links of an instance share one
   raw fidelity, so ``F'`` is common to the path);
3. end-to-end: pairs of fidelity ``S`` are distilled to the pair's ``F_u``, consuming ``b``
   end-to-end pairs per delivered pair (``b = 1`` when ``S >= F_u``).

``g_l = a_l * b`` link-level pairs of link ``l`` per delivered pair. A version is unusable when
``S <= 1/2 < F_u`` (recurrence cannot distil it) or ``max_rounds`` rounds are not enough at
either level; a path with no usable version is reported in :attr:`VersionTable.unusable`.
Nothing is tabulated: every number comes from the physics core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from qnet_envs.physics import distillation_schedule, nested_swap_fidelity
from qnet_envs.qvpn.network import Network
from qnet_envs.qvpn.paths import CandidatePaths

if TYPE_CHECKING:
    from qnet_envs.qvpn.problem import Instance

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class VersionTable:
    """Every usable version of every pair, flat; versions of pair ``u`` are rows
    ``pair_offsets[u]:pair_offsets[u + 1]`` (their *local* indices are 0, 1, ...).

    Per-link ``g`` is CSR: version ``v`` uses links ``link_index[link_indptr[v]:
    link_indptr[v + 1]]`` (in path order) with costs ``link_g[...]``.
    """

    pair_offsets: IntArray  # (n_pairs + 1,)
    pair: IntArray  # (n_versions,)
    path: IntArray  # (n_versions,) candidate index within the pair
    threshold: FloatArray  # (n_versions,) link-level threshold F_th
    hops: IntArray  # (n_versions,) physical links N
    swap_factor: FloatArray  # (n_versions,) q^(N - 1)
    coefficient: FloatArray  # (n_versions,) w_k * lambda_u * q^(N - 1), the LP objective
    fidelity_raw: FloatArray  # (n_versions,) end to end without distillation
    fidelity_link: FloatArray  # (n_versions,) end to end after link-level distillation
    fidelity_delivered: FloatArray  # (n_versions,) after end-to-end distillation
    link_rounds: IntArray  # (n_versions,) link-level rounds (largest over links)
    e2e_rounds: IntArray  # (n_versions,) end-to-end rounds
    e2e_pairs: FloatArray  # (n_versions,) end-to-end pairs per delivered pair, b
    g_max: FloatArray  # (n_versions,) largest per-link g
    bottleneck_capacity: FloatArray  # (n_versions,) min over links of c_l / g_l, pairs/s
    link_indptr: IntArray  # (n_versions + 1,)
    link_index: IntArray  # (nnz,)
    link_g: FloatArray  # (nnz,)
    unusable: tuple[tuple[int, int, str], ...]  # (pair, candidate path, reason)

    @property
    def n_pairs(self) -> int:
        return int(self.pair_offsets.shape[0] - 1)

    @property
    def n_total(self) -> int:
        return int(self.pair.shape[0])

    @property
    def counts(self) -> IntArray:
        """``(n_pairs,)`` number of usable versions of each pair."""
        return np.diff(self.pair_offsets)

    def n_versions(self, pair: int) -> int:
        """Number of usable versions of ``pair`` (0: the pair is unusable)."""
        return int(self.pair_offsets[pair + 1] - self.pair_offsets[pair])

    def links_of(self, version: int) -> tuple[IntArray, FloatArray]:
        """Links and per-link ``g`` of global version ``version``."""
        s, e = self.link_indptr[version], self.link_indptr[version + 1]
        return self.link_index[s:e], self.link_g[s:e]

    def unusable_pairs(self) -> list[int]:
        """Pairs without any usable version."""
        return [u for u in range(self.n_pairs) if self.n_versions(u) == 0]


#: Fidelities this close to a target count as reaching it (``1 - 0.2`` from the single-photon
#: state is 0.7999999999999999, which must meet a threshold of 0.8 without a round).
FIDELITY_ATOL = 1e-12


def _schedule(fidelity: float, target: float, protocol: str, max_rounds: int):
    """``(rounds, pairs per output, output fidelity)`` or ``None`` when unreachable."""
    if fidelity >= target - FIDELITY_ATOL:
        return 0, 1.0, fidelity
    if fidelity <= 0.5:
        return None
    try:
        s = distillation_schedule(fidelity, target, protocol, max_rounds)  # type: ignore[arg-type]
    except ValueError:
        return None
    return s.rounds, s.raw_pairs_per_output, s.final_fidelity


def build_versions(instance: Instance, network: Network, paths: CandidatePaths) -> VersionTable:
    """Tabulate every usable version of every pair of ``instance`` (module docstring)."""
    protocol, max_rounds = instance.protocol, instance.max_rounds
    q, p2, eta_m = instance.swap_success, instance.gate_fidelity, instance.measurement_fidelity
    link_cache: dict[tuple[float, float], tuple | None] = {}
    rows: list[tuple] = []
    links_out: list[np.ndarray] = []
    g_out: list[np.ndarray] = []
    offsets = [0]
    unusable: list[tuple[int, int, str]] = []
    org_weight = np.asarray(instance.org_weights)[np.asarray(instance.pair_org, dtype=np.int64)]
    for u in range(instance.n_pairs):
        target = float(instance.pair_fidelity[u])
        weight = float(org_weight[u] * instance.pair_weight[u])
        e2e_cache: dict[tuple[float, int], tuple | None] = {}
        for p, chain in enumerate(paths.links[u]):
            links = np.asarray(chain, dtype=np.int64)
            n = int(links.size)
            raw = network.fidelity[links]
            f_raw = float(nested_swap_fidelity(float(raw[0]), n, p2, eta_m))
            usable = 0
            for threshold in instance.thresholds:
                per_link = []
                for f in raw:
                    key = (float(f), float(threshold))
                    if key not in link_cache:
                        link_cache[key] = _schedule(key[0], key[1], protocol, max_rounds)
                    per_link.append(link_cache[key])
                if any(s is None for s in per_link):
                    continue
                f_link = float(per_link[0][2])
                s_fid = float(nested_swap_fidelity(f_link, n, p2, eta_m))
                e2e_key = (s_fid, n)
                if e2e_key not in e2e_cache:
                    e2e_cache[e2e_key] = _schedule(s_fid, target, protocol, max_rounds)
                e2e = e2e_cache[e2e_key]
                if e2e is None:
                    continue
                a = np.asarray([s[1] for s in per_link], dtype=np.float64)
                g = a * e2e[1]
                swap = q ** (n - 1)
                rows.append(
                    (
                        u,
                        p,
                        float(threshold),
                        n,
                        swap,
                        weight * swap,
                        f_raw,
                        s_fid,
                        float(e2e[2]),
                        max(s[0] for s in per_link),
                        e2e[0],
                        e2e[1],
                        float(g.max()),
                        float(np.min(network.capacity[links] / g)),
                    )
                )
                links_out.append(links)
                g_out.append(g)
                usable += 1
            if usable == 0:
                reason = (
                    f"no threshold in {len(instance.thresholds)} brings the path "
                    f"({n} links, F_raw = {f_raw:.4f}) to F_u = {target:.4f} with "
                    f"{protocol} in {max_rounds} rounds"
                )
                unusable.append((u, p, reason))
        offsets.append(len(rows))
    cols = list(zip(*rows, strict=True)) if rows else [()] * 14

    def f64(i: int) -> FloatArray:
        return np.asarray(cols[i], dtype=np.float64)

    def i64(i: int) -> IntArray:
        return np.asarray(cols[i], dtype=np.int64)

    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([x.size for x in links_out], out=indptr[1:])
    return VersionTable(
        pair_offsets=np.asarray(offsets, dtype=np.int64),
        pair=i64(0),
        path=i64(1),
        threshold=f64(2),
        hops=i64(3),
        swap_factor=f64(4),
        coefficient=f64(5),
        fidelity_raw=f64(6),
        fidelity_link=f64(7),
        fidelity_delivered=f64(8),
        link_rounds=i64(9),
        e2e_rounds=i64(10),
        e2e_pairs=f64(11),
        g_max=f64(12),
        bottleneck_capacity=f64(13),
        link_indptr=indptr,
        link_index=np.concatenate(links_out) if links_out else np.zeros(0, dtype=np.int64),
        link_g=np.concatenate(g_out) if g_out else np.zeros(0),
        unusable=tuple(unusable),
    )
