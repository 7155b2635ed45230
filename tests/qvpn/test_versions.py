"""Path versions: g, the swap formula and distillation against independent closed forms."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from qnet_envs.physics import nested_swap_fidelity
from qnet_envs.qvpn import Instance

from .conftest import first_pairs, requires_surfnet


def werner_swap_chain(f: float, n: int) -> float:
    """n Werner links swapped one by one: F = F1 F2 + (1 - F1)(1 - F2)/3 (perfect operations)."""
    out = f
    for _ in range(n - 1):
        out = out * f + (1 - out) * (1 - f) / 3
    return out


def swap_written_out(f: float, n: int, p2: float, eta: float) -> float:
    """Eq. (6) of the paper, term by term."""
    return 0.25 + 0.75 * (p2 * (4 * eta**2 - 1) / 3) ** (n - 1) * ((4 * f - 1) / 3) ** n


def bbpssw_closed(f: float) -> tuple[float, float]:
    """BBPSSW on two Werner pairs (Bennett et al. 1996)."""
    p = f**2 + 2 * f * (1 - f) / 3 + 5 * ((1 - f) / 3) ** 2
    return (f**2 + ((1 - f) / 3) ** 2) / p, p


def dejmps_closed(abcd: tuple[float, float, float, float]) -> tuple[tuple, float]:
    """DEJMPS on Bell-diagonal (A, B, C, D) (Deutsch et al. 1996), A the target weight."""
    a, b, c, d = abcd
    n = (a + b) ** 2 + (c + d) ** 2
    return ((a * a + b * b) / n, 2 * c * d / n, (c * c + d * d) / n, 2 * a * b / n), n


def pairs_to_reach(f: float, target: float, protocol: str) -> tuple[float, float, int]:
    """(raw pairs per output, output fidelity, rounds), iterating the closed forms."""
    if f >= target - 1e-12:  # 1 - alpha is computed, not exact
        return 1.0, f, 0
    expected, rounds = 1.0, 0
    state = (f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3)
    while f < target:
        if protocol == "bbpssw":
            f, p = bbpssw_closed(f)
        else:
            state, p = dejmps_closed(state)
            f = state[0]
        expected = 2 * expected / p
        rounds += 1
    return expected, f, rounds


@pytest.mark.parametrize("seed", range(5))
def test_swap_formula_closed_forms(seed: int) -> None:
    rng = np.random.default_rng(seed)
    f, n = float(rng.uniform(0.5, 1.0)), int(rng.integers(1, 12))
    p2, eta = float(rng.uniform(0.9, 1.0)), float(rng.uniform(0.9, 1.0))
    assert nested_swap_fidelity(f, n) == pytest.approx(werner_swap_chain(f, n), abs=1e-12)
    assert nested_swap_fidelity(f, n, p2, eta) == pytest.approx(
        swap_written_out(f, n, p2, eta), abs=1e-12
    )


def _check_table(instance: Instance) -> int:
    """Recompute every version's g, fidelities and swap factor independently."""
    vt, net = instance.versions, instance.network
    checked = 0
    org_w = np.asarray(instance.org_weights)[np.asarray(instance.pair_org)]
    for v in range(vt.n_total):
        u, p = int(vt.pair[v]), int(vt.path[v])
        links = np.asarray(instance.paths.links[u][p])
        got_links, got_g = vt.links_of(v)
        np.testing.assert_array_equal(got_links, links)
        n = links.size
        f_l = 1 - instance.alpha  # single-photon scheme
        np.testing.assert_allclose(net.fidelity[links], f_l, atol=1e-12)
        a, f_link, _ = pairs_to_reach(f_l, float(vt.threshold[v]), instance.protocol)
        s = swap_written_out(f_link, n, instance.gate_fidelity, instance.measurement_fidelity)
        b, f_out, _ = pairs_to_reach(s, instance.pair_fidelity[u], instance.protocol)
        np.testing.assert_allclose(got_g, a * b, rtol=1e-9)
        assert vt.fidelity_link[v] == pytest.approx(s, abs=1e-12)
        assert vt.fidelity_delivered[v] == pytest.approx(f_out, abs=1e-12)
        assert vt.fidelity_delivered[v] >= instance.pair_fidelity[u] - 1e-12
        assert vt.fidelity_raw[v] == pytest.approx(
            swap_written_out(f_l, n, instance.gate_fidelity, instance.measurement_fidelity)
        )
        assert vt.hops[v] == n
        assert vt.swap_factor[v] == pytest.approx(instance.swap_success ** (n - 1))
        assert vt.coefficient[v] == pytest.approx(
            org_w[u] * instance.pair_weight[u] * vt.swap_factor[v]
        )
        assert vt.g_max[v] == pytest.approx(got_g.max())
        assert vt.bottleneck_capacity[v] == pytest.approx(np.min(net.capacity[links] / got_g))
        checked += 1
    return checked


@pytest.mark.parametrize("protocol", ["dejmps", "bbpssw"])
def test_tiny_versions_against_closed_forms(tiny: Instance, protocol: str) -> None:
    instance = replace(tiny, protocol=protocol, swap_success=0.9, measurement_fidelity=0.98)
    assert _check_table(instance) == instance.versions.n_total > 0


@requires_surfnet
def test_shipped_versions_against_closed_forms(per_km: Instance) -> None:
    sub = first_pairs(per_km, 12)
    assert _check_table(sub) > 100


def test_version_table_layout(tiny: Instance) -> None:
    vt = tiny.versions
    assert vt.pair_offsets[0] == 0 and vt.pair_offsets[-1] == vt.n_total
    for u in range(vt.n_pairs):
        rows = slice(vt.pair_offsets[u], vt.pair_offsets[u + 1])
        assert np.all(vt.pair[rows] == u)
    assert vt.link_indptr[-1] == vt.link_index.size == vt.link_g.size
    assert [vt.n_versions(u) for u in range(vt.n_pairs)] == vt.counts.tolist()
    assert np.all(vt.link_g >= 1.0)


def test_unusable_paths_are_reported(tiny: Instance) -> None:
    # No rounds allowed and a target above every raw fidelity: nothing is usable.
    strict = replace(tiny, max_rounds=0, pair_fidelity=(0.95, 0.95, 0.95))
    vt = strict.versions
    assert vt.n_total == 0
    assert vt.unusable_pairs() == [0, 1, 2]
    assert len(vt.unusable) == sum(strict.paths.n_paths(u) for u in range(3))
    assert all("F_u = 0.9500" in reason for *_, reason in vt.unusable)


def test_threshold_below_raw_fidelity_means_no_link_distillation(tiny: Instance) -> None:
    vt = replace(tiny, thresholds=(0.5,)).versions
    assert np.all(vt.link_rounds == 0)
    assert np.all(vt.fidelity_link == vt.fidelity_raw)


def test_more_links_cost_more(tiny: Instance) -> None:
    # Same pair (0 -> 3): the 3-link path never needs fewer pairs than the 2-link one.
    vt = tiny.versions
    rows = np.flatnonzero(vt.pair == 2)
    by_hops = {int(vt.hops[r]): float(vt.g_max[r]) for r in rows if vt.threshold[r] == 0.8}
    assert math.isfinite(by_hops[2]) and by_hops[3] >= by_hops[2]
