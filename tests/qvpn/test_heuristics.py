"""The widest-version heuristic: its choice rule checked version by version, its argument
errors, and the fact the docs cite (it reaches the exact optimum on the paper's workload)."""

from __future__ import annotations

import numpy as np
import pytest

from qnet_envs.qvpn import Instance
from qnet_envs.qvpn.heuristics import shortest_path_selection, widest_selection
from qnet_envs.qvpn.lp import solve_lp
from qnet_envs.qvpn.milp import dominance_representatives, solve_optimum

from .conftest import requires_surfnet


@pytest.mark.parametrize("n_paths", [1, 2, None])
def test_widest_takes_the_largest_bottlenecks_among_undominated_versions(
    tiny: Instance, n_paths: int | None
) -> None:
    vt = tiny.versions
    kept = dominance_representatives(tiny) == np.arange(vt.n_total)
    n = tiny.max_paths if n_paths is None else n_paths
    selection = widest_selection(tiny, n_paths)
    assert selection.shape == (tiny.n_pairs, tiny.max_paths)
    for u in range(tiny.n_pairs):
        s, e = int(vt.pair_offsets[u]), int(vt.pair_offsets[u + 1])
        chosen = selection[u][selection[u] >= 0]
        candidates = np.flatnonzero(kept[s:e])
        assert chosen.size == min(n, candidates.size)
        assert np.all(kept[s + chosen])  # never a dominated version
        width = vt.bottleneck_capacity[s:e]
        assert np.all(np.diff(width[chosen]) <= 0)  # widest first
        others = np.setdiff1d(candidates, chosen)
        if chosen.size and others.size:
            assert width[others].max() <= width[chosen].min()


def test_widest_rejects_bad_path_counts(tiny: Instance) -> None:
    for bad in (0, tiny.max_paths + 1, 1.5, True):
        with pytest.raises(ValueError, match=r"^n_paths: got .* \(allowed: an integer in \[1, "):
            widest_selection(tiny, bad)


@requires_surfnet
def test_widest_reaches_the_optimum_on_the_papers_workload(per_km: Instance) -> None:
    optimum = solve_optimum(per_km, 120.0).objective
    widest = solve_lp(per_km, widest_selection(per_km))
    assert widest.status == "optimal"
    assert widest.w_egr == pytest.approx(optimum, rel=1e-6)
    one = solve_lp(per_km, widest_selection(per_km, 1)).w_egr
    assert one < 0.99 * optimum  # one version per pair is not enough
    best_baseline = max(solve_lp(per_km, shortest_path_selection(per_km, w)).w_egr
                        for w in ("hop", "egr", "egr2"))  # fmt: skip
    assert widest.w_egr > 1.8 * best_baseline
