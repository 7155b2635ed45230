"""The rate LP of the paper (eq. 1-5) for a selection of path versions, its JSON and its check.

Given a *selection* (``(n_pairs, max_paths)`` ints: local version indices, ``-1`` for an empty
slot, repeats counted once) the LP over the selected versions ``v`` is::

    maximise   sum_v  w_k(v) lambda_u(v) q^(|p_v| - 1) x_v              (W-EGR, pairs/s)
    s.t.       sum_v g_{v,l} x_v <= c_l                  every link l used by a selected version
               R_min_u <= sum_{v of u} x_v <= R_max_u    every pair u
               x_v >= 0

Infeasibility is a result, not an exception: the LP is re-solved *elastically* (a shortfall
``s_u >= 0`` added to each pair's rate, minimising ``sum_u s_u``), and the result has status
``"infeasible"``, ``w_egr = 0``, the elastic rates and each pair's ``R_min`` shortfall. A pair
with no selected version and ``R_min > 0`` is short by its whole ``R_min``.

``link_price`` is the dual of each link row: W-EGR gained per extra pair/s of capacity
(>= 0; 0 for links no selected version uses and for infeasible results). The links of one
repeater chain share one row (their rows are identical, :class:`CompactRows`), so each of
them reports that row's price: extra capacity helps only when added to the whole chain.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnet_envs.qvpn.problem import Instance
from qnet_envs.solvers import LinearProgram, solve

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: HiGHS options of the rate LP: presolve costs more than it saves on these small models
#: (measured: about half the solve time on the default instance).
_LP_OPTIONS = {"presolve": "off"}

#: Format tag of :meth:`LPResult.to_dict`.
SOLUTION_FORMAT = "qnet_envs.qvpn.lp_solution/1"


@dataclass(frozen=True)
class LPResult:
    """Solution of the rate LP for one selection; arrays over all versions/pairs/links."""

    status: str  # "optimal" | "infeasible" | a solver status string on failure
    w_egr: float  # objective, pairs/s weighted; 0 unless optimal
    rate: FloatArray  # (n_versions,) x_v, 0 for unselected versions
    pair_rate: FloatArray  # (n_pairs,) sum of x over the pair's versions
    shortfall: FloatArray  # (n_pairs,) R_min shortfall (elastic solve), 0 when feasible
    link_use: FloatArray  # (n_links,) sum_v g_{v,l} x_v
    link_price: FloatArray  # (n_links,) dual of the capacity row
    selected: IntArray  # (n_selected,) global version indices, sorted
    wall_time_s: float
    instance: Instance

    @property
    def feasible(self) -> bool:
        return self.status == "optimal"

    @property
    def short_pairs(self) -> list[int]:
        """Pairs whose ``R_min`` is not met (empty when feasible)."""
        return [int(u) for u in np.flatnonzero(self.shortfall > 0.0)]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: every selected version (links, g, swap factor, weight, rate), every link
        (capacity, use) and every pair (bounds, rate, shortfall). ``r_max = null`` is no bound.
        Enough to re-check every constraint and re-solve the LP (:func:`check_solution`)."""
        inst, vt, net = self.instance, self.instance.versions, self.instance.network
        org_w = np.asarray(inst.org_weights)[np.asarray(inst.pair_org)]
        versions = []
        for v in self.selected:
            links, g = vt.links_of(int(v))
            u = int(vt.pair[v])
            versions.append(
                {
                    "version": int(v),
                    "pair": u,
                    "local": int(v - vt.pair_offsets[u]),
                    "path": int(vt.path[v]),
                    "threshold": float(vt.threshold[v]),
                    "links": [int(x) for x in links],
                    "g": [float(x) for x in g],
                    "swap_factor": float(vt.swap_factor[v]),
                    "weight": float(org_w[u] * inst.pair_weight[u]),
                    "fidelity_delivered": float(vt.fidelity_delivered[v]),
                    "rate": float(self.rate[v]),
                }
            )
        return {
            "format": SOLUTION_FORMAT,
            "instance": inst.name,
            "status": self.status,
            "w_egr": float(self.w_egr),
            "objective": "maximise sum(weight * swap_factor * rate)",
            "pairs": [
                {
                    "pair": u,
                    "org": int(inst.pair_org[u]),
                    "src": int(inst.pair_src[u]),
                    "dst": int(inst.pair_dst[u]),
                    "fidelity": float(inst.pair_fidelity[u]),
                    "r_min": float(inst.r_min[u]),
                    "r_max": None if math.isinf(inst.r_max[u]) else float(inst.r_max[u]),
                    "rate": float(self.pair_rate[u]),
                    "shortfall": float(self.shortfall[u]),
                }
                for u in range(inst.n_pairs)
            ],
            "versions": versions,
            "links": [
                {
                    "link": int(k),
                    "nodes": [int(x) for x in net.link_nodes[k]],
                    "length_km": float(net.length_km[k]),
                    "capacity": float(net.capacity[k]),
                    "use": float(self.link_use[k]),
                }
                for k in range(net.n_links)
            ],
        }


def selection_to_global(instance: Instance, selection: ArrayLike) -> IntArray:
    """Validate ``selection`` and return the sorted unique global version indices it names.

    Raises:
        ValueError: naming the pair and slot of an out-of-range entry, or the bad shape.
    """
    vt = instance.versions
    sel = np.asarray(selection)
    shape = (instance.n_pairs, instance.max_paths)
    if sel.shape != shape:
        raise ValueError(f"selection must have shape {shape} (pairs, max_paths), got {sel.shape}")
    if sel.dtype.kind not in "iu":
        if sel.dtype.kind == "f" and np.all(np.isfinite(sel)) and np.all(sel == np.round(sel)):
            sel = sel.astype(np.int64)
        else:
            raise ValueError(f"selection must hold integers, got dtype {sel.dtype}")
    sel = sel.astype(np.int64, copy=False)
    counts = np.diff(vt.pair_offsets)[:, None]
    bad = (sel < -1) | (sel >= counts)
    if bad.any():
        u, s = (int(x) for x in np.argwhere(bad)[0])
        raise ValueError(
            f"selection[{u}, {s}] = {int(sel[u, s])}: pair {u} slot {s} must be -1 or a local "
            f"version index in [0, {int(counts[u, 0]) - 1}]"
        )
    used = sel >= 0
    return np.unique((sel + vt.pair_offsets[:-1, None])[used])


@dataclass(frozen=True)
class CompactRows:
    """The per-link ``g`` CSR restricted to one representative link per group of identical rows.

    The links of one repeater chain (one trunk) have equal capacity, and every version uses all
    of them with equal ``g`` (all links share one raw fidelity), so their capacity rows are the
    same row; the LP keeps the chain's first link (``group[l]`` is the representative of link
    ``l``). A chain whose capacities or ``g`` differ is not merged (checked, not assumed).
    """

    link_indptr: IntArray  # (n_versions + 1,)
    link_index: IntArray  # (nnz_compact,)
    link_g: FloatArray  # (nnz_compact,)
    group: IntArray  # (n_links,) representative link of each link


def compact_rows(instance: Instance) -> CompactRows:
    """Build :class:`CompactRows` for ``instance`` (cached as ``instance.lp_rows``)."""
    vt, net = instance.versions, instance.network
    group = np.arange(net.n_links)
    for chain in net.trunk_links:
        links = np.asarray(chain)
        if links.size > 1 and np.allclose(
            net.capacity[links], net.capacity[links[0]], rtol=1e-12, atol=0.0
        ):
            group[links] = links[0]
    rep = group[vt.link_index]
    keep = rep == vt.link_index
    # every version's g must be equal over the links a representative stands for
    version_of = np.repeat(np.arange(vt.n_total), np.diff(vt.link_indptr))
    key = version_of * net.n_links + vt.link_index
    lookup = dict(zip(key[keep].tolist(), vt.link_g[keep].tolist(), strict=True))
    rep_key = version_of * net.n_links + rep
    rep_g = np.array([lookup.get(k, np.nan) for k in rep_key.tolist()])
    bad = ~np.isclose(rep_g, vt.link_g, rtol=1e-12, atol=0.0)
    if np.any(bad):  # unmerge every link whose row would differ from its representative's
        group[np.unique(vt.link_index[bad])] = np.unique(vt.link_index[bad])
        group[np.unique(rep[bad])] = np.unique(rep[bad])
        rep = group[vt.link_index]
        keep = rep == vt.link_index
    indptr = np.zeros(vt.n_total + 1, dtype=np.int64)
    np.cumsum(np.bincount(version_of[keep], minlength=vt.n_total), out=indptr[1:])
    return CompactRows(
        link_indptr=indptr, link_index=vt.link_index[keep], link_g=vt.link_g[keep], group=group
    )


def _gather(vt: Any, chosen: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
    """CSR rows ``chosen`` of the per-link g: (lengths, link indices, g values)."""
    starts, ends = vt.link_indptr[chosen], vt.link_indptr[chosen + 1]
    lengths = ends - starts
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    flat = offsets + np.arange(int(lengths.sum()))
    return lengths, vt.link_index[flat], vt.link_g[flat]


def rate_program(
    instance: Instance, chosen: IntArray, *, elastic: bool = False
) -> tuple[LinearProgram, IntArray, FloatArray]:
    """The LP over global versions ``chosen``, scaled, with the links of its link rows.

    ``g`` spans many orders of magnitude (1 to 1e10 on SURFnet), so the model is scaled
    before HiGHS sees it: column ``j`` is ``y_j = x_j / B_j`` with ``B_j`` the version's
    bottleneck capacity (so ``0 <= y_j <= 1`` is implied and stated), and link row ``l`` is
    divided by ``c_l``. Columns: ``y`` of each chosen version (then one shortfall ``s_u`` per
    pair, in pairs/s, when ``elastic``); rows: one per used link, then one per pair.

    Returns:
        ``(program, links_used, scale)`` with ``x = scale * y`` for the version columns.
    """
    vt, net = instance.versions, instance.network
    n_pairs = instance.n_pairs
    lengths, link_idx, g = _gather(instance.lp_rows, chosen)
    links_used, link_row = np.unique(link_idx, return_inverse=True)
    n_link_rows = links_used.size
    n_x = chosen.size
    scale = vt.bottleneck_capacity[chosen]
    # column j: its link rows, then its pair row; CSC built directly.
    per_col = lengths + 1
    start = np.zeros(n_x + (n_pairs if elastic else 0) + 1, dtype=np.int64)
    np.cumsum(per_col, out=start[1 : n_x + 1])
    nnz_x = int(start[n_x])
    index = np.empty(nnz_x, dtype=np.int64)
    value = np.empty(nnz_x, dtype=np.float64)
    pair_pos = start[1 : n_x + 1] - 1
    mask = np.ones(nnz_x, dtype=bool)
    mask[pair_pos] = False
    index[mask] = link_row
    value[mask] = g * np.repeat(scale, lengths) / net.capacity[links_used][link_row]
    index[pair_pos] = n_link_rows + vt.pair[chosen]
    value[pair_pos] = scale
    r_min = np.asarray(instance.r_min, dtype=np.float64)
    r_max = np.asarray(instance.r_max, dtype=np.float64)
    row_lower = np.concatenate([np.full(n_link_rows, -np.inf), r_min])
    row_upper = np.concatenate([np.ones(n_link_rows), r_max])
    col_upper = np.ones(n_x)
    if elastic:
        start[n_x + 1 :] = nnz_x + np.arange(1, n_pairs + 1)
        index = np.concatenate([index, n_link_rows + np.arange(n_pairs)])
        value = np.concatenate([value, np.ones(n_pairs)])
        cost = np.concatenate([np.zeros(n_x), -np.ones(n_pairs)])
        col_upper = np.concatenate([col_upper, np.full(n_pairs, np.inf)])
    else:
        cost = vt.coefficient[chosen] * scale
    program = LinearProgram(
        cost=cost,
        col_lower=np.zeros(col_upper.size),
        col_upper=col_upper,
        row_lower=row_lower,
        row_upper=row_upper,
        a_start=start,
        a_index=index,
        a_value=value,
        maximize=True,
    )
    return program, links_used, scale


def solve_lp(instance: Instance, selection: ArrayLike, *, threads: int = 1) -> LPResult:
    """Solve the rate LP for ``selection`` (module docstring); never raises for infeasibility.

    Raises:
        ValueError: the selection is malformed (shape, dtype, or a slot out of range).
    """
    started = time.perf_counter()
    vt, net = instance.versions, instance.network
    chosen = selection_to_global(instance, selection)
    program, links_used, scale = rate_program(instance, chosen)
    result = solve(program, threads=threads, options=_LP_OPTIONS)
    n_pairs, n_links = instance.n_pairs, net.n_links
    rate = np.zeros(vt.n_total)
    shortfall = np.zeros(n_pairs)
    price = np.zeros(n_links)
    status = result.status
    w_egr = 0.0
    if status == "optimal":
        assert result.x is not None and result.row_duals is not None
        rate[chosen] = np.clip(result.x, 0.0, 1.0) * scale
        w_egr = float(result.objective)
        row_price = np.abs(result.row_duals[: links_used.size]) / net.capacity[links_used]
        position = np.full(n_links, -1)
        position[links_used] = np.arange(links_used.size)
        rep = position[instance.lp_rows.group]
        if links_used.size:
            price = np.where(rep >= 0, row_price[np.maximum(rep, 0)], 0.0)
    elif status in ("infeasible", "infeasible_or_unbounded"):
        elastic, _, _ = rate_program(instance, chosen, elastic=True)
        phase1 = solve(elastic, threads=threads, options=_LP_OPTIONS)
        status = "infeasible"
        if phase1.x is not None:
            rate[chosen] = np.clip(phase1.x[: chosen.size], 0.0, 1.0) * scale
            shortfall = np.maximum(phase1.x[chosen.size :], 0.0)
    pair_rate = np.bincount(vt.pair[chosen], weights=rate[chosen], minlength=n_pairs)
    lengths, link_idx, g = _gather(vt, chosen)
    link_use = np.bincount(
        link_idx, weights=g * np.repeat(rate[chosen], lengths), minlength=n_links
    )
    return LPResult(
        status=status,
        w_egr=w_egr,
        rate=rate,
        pair_rate=pair_rate,
        shortfall=shortfall,
        link_use=link_use,
        link_price=price,
        selected=chosen,
        wall_time_s=time.perf_counter() - started,
        instance=instance,
    )


def check_solution(d: dict[str, Any], *, rtol: float = 1e-6, atol: float = 1e-6) -> list[str]:
    """Re-check every constraint of an exported LP solution from its JSON alone.

    Checks: rates >= 0; each link's use equals ``sum g * rate`` over the versions using it and
    is at most its capacity; each pair's rate equals the sum of its versions' rates; when
    ``status`` is ``"optimal"``: ``R_min <= rate <= R_max`` and ``w_egr`` equals
    ``sum weight * swap_factor * rate``; when ``"infeasible"``: ``w_egr == 0``, some pair has a
    positive shortfall and ``rate + shortfall`` meets every ``R_min``. Returns the violations
    (empty when the solution is consistent).
    """
    problems: list[str] = []

    def close(a: float, b: float) -> bool:
        return abs(a - b) <= atol + rtol * max(abs(a), abs(b))

    if d.get("format") != SOLUTION_FORMAT:
        problems.append(f"format is {d.get('format')!r}, expected {SOLUTION_FORMAT!r}")
    links = {int(x["link"]): x for x in d["links"]}
    pairs = {int(x["pair"]): x for x in d["pairs"]}
    use = dict.fromkeys(links, 0.0)
    pair_sum = dict.fromkeys(pairs, 0.0)
    objective = 0.0
    for v in d["versions"]:
        if v["rate"] < -atol:
            problems.append(f"version {v['version']}: rate {v['rate']} < 0")
        if len(v["links"]) != len(v["g"]):
            problems.append(f"version {v['version']}: links and g differ in length")
        for link, g in zip(v["links"], v["g"], strict=False):
            if link not in use:
                problems.append(f"version {v['version']}: unknown link {link}")
                continue
            use[link] += g * v["rate"]
        if v["pair"] not in pairs:
            problems.append(f"version {v['version']}: unknown pair {v['pair']}")
        else:
            pair_sum[v["pair"]] += v["rate"]
        objective += v["weight"] * v["swap_factor"] * v["rate"]
    for link, x in links.items():
        if not close(use[link], x["use"]):
            problems.append(f"link {link}: reported use {x['use']} but versions sum to {use[link]}")
        if use[link] > x["capacity"] * (1.0 + rtol) + atol:
            problems.append(f"link {link}: use {use[link]} exceeds capacity {x['capacity']}")
    optimal = d["status"] == "optimal"
    for u, p in pairs.items():
        if not close(pair_sum[u], p["rate"]):
            problems.append(
                f"pair {u}: reported rate {p['rate']} but versions sum to {pair_sum[u]}"
            )
        r_max = math.inf if p["r_max"] is None else p["r_max"]
        if optimal and pair_sum[u] < p["r_min"] * (1.0 - rtol) - atol:
            problems.append(f"pair {u}: rate {pair_sum[u]} below r_min {p['r_min']}")
        if pair_sum[u] > r_max * (1.0 + rtol) + atol:
            problems.append(f"pair {u}: rate {pair_sum[u]} above r_max {r_max}")
        if not optimal and pair_sum[u] + p["shortfall"] < p["r_min"] * (1.0 - rtol) - atol:
            problems.append(f"pair {u}: rate + shortfall below r_min {p['r_min']}")
    if optimal and not close(objective, d["w_egr"]):
        problems.append(f"w_egr {d['w_egr']} but sum weight * swap_factor * rate = {objective}")
    if d["status"] == "infeasible":
        if d["w_egr"] != 0.0:
            problems.append(f"infeasible solution reports w_egr {d['w_egr']} (must be 0)")
        if not any(p["shortfall"] > 0.0 for p in pairs.values()):
            problems.append("infeasible solution names no pair with a shortfall")
    return problems
