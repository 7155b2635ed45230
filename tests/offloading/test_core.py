"""The offloading rules against closed forms and hand-computed cases."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from qnet_envs.offloading import Scenario, core
from qnet_envs.physics import distillation_schedule


@pytest.fixture
def tiny() -> core.Layout:
    return core.Layout.compile(Scenario.load("tiny"))


def _jobs(n, k, shots, need, present=None) -> core.Jobs:
    n = np.asarray(n)
    return core.Jobs(
        present=np.ones(n.size, bool) if present is None else np.asarray(present),
        n=n,
        k=np.asarray(k),
        shots=np.asarray(shots),
        need=np.asarray(need, dtype=float),
    )


def test_qubit_count_is_2n_minus_k_plus_1():
    for n in range(6, 10):
        for k in range(3, 6):
            assert core.qubits_needed(n, k) == n + (n - k) + 1
    layout = core.Layout.compile(Scenario())
    rng = np.random.default_rng(3)
    for _ in range(20):
        jobs = core.sample_jobs(layout, rng)
        assert np.all((jobs.n >= 6) & (jobs.n <= 9) & (jobs.k >= 3) & (jobs.k <= 5))
        assert np.all(jobs.k < jobs.n)
        np.testing.assert_array_equal(jobs.qubits, 2 * jobs.n - jobs.k + 1)


def test_teleportation_pairs_one_per_input_qubit_per_run():
    """Above the need every run costs exactly ``n`` pairs: pairs = shots / g^depth * n."""
    layout = core.Layout.compile(Scenario())
    rng = np.random.default_rng(0)
    jobs = core.sample_jobs(layout, rng)
    fidelity = np.full(layout.mean_rate.shape, 0.999)
    costs = core.job_costs(layout, jobs, layout.mean_rate, fidelity)
    m = layout.n_mobile
    depth = 4 * (2 * jobs.n - jobs.k + 1)
    for i in range(m):
        for j in range(layout.n_remote):
            g = layout.gate_fidelity[m + j]
            runs = jobs.shots[i] / g ** depth[i]
            assert costs.raw_per_pair[i, j] == 1.0
            assert costs.pairs_full[i, j] == pytest.approx(runs * jobs.n[i], rel=1e-12)
            assert costs.tx_full_s[i, j] == pytest.approx(
                runs * jobs.n[i] / layout.mean_rate[i, j], rel=1e-12
            )


def test_one_bbpssw_round_costs_two_over_p_raw_pairs():
    scenario = dataclasses.replace(Scenario.load("tiny"), protocol="bbpssw")
    f = 0.9
    p = f**2 + 2 * f * (1 - f) / 3 + 5 * ((1 - f) / 3) ** 2  # BBPSSW success probability
    f_out = (f**2 + ((1 - f) / 3) ** 2) / p
    assert f_out > 0.91
    raw = core.raw_pairs_per_pair(np.array([0.9]), np.array([0.91]), scenario)
    assert raw[0] == pytest.approx(2 / p, rel=1e-12)


def test_random_fidelities_match_the_physics_schedule():
    scenario = Scenario()
    rng = np.random.default_rng(7)
    for _ in range(25):
        f = round(rng.uniform(0.6, 0.99), 3)
        need = round(rng.uniform(0.8, 0.98), 3)
        got = core.raw_pairs_per_pair(np.array(f), np.array(need), scenario)
        if f >= need:
            assert got == 1.0
            continue
        try:
            want = distillation_schedule(f, need, "dejmps", max_rounds=8).raw_pairs_per_output
        except ValueError:
            want = math.inf
        assert got == pytest.approx(want, rel=1e-12)


def _hand_cost(layout, backlog, jobs, rate, fidelity, target, share):
    costs = core.job_costs(layout, jobs, np.asarray(rate, float), np.asarray(fidelity, float))
    placement = core.place(layout, jobs, costs, np.asarray(target), np.asarray(share, float))
    return core.step_cost(layout, np.asarray(backlog, float), costs, placement), placement


def test_cost_against_a_hand_computed_case(tiny):
    """Job 0 (n=6, k=3: 10 qubits) sends half to the edge; job 1 (n=9, k=3: 16 qubits, too
    many for a 14-qubit mobile node) goes whole to the cloud, whose link needs DEJMPS."""
    jobs = _jobs([6, 9], [3, 3], [100, 200], [0.9, 0.95])
    backlog = [0.2, 0.0, 0.3, 0.1]
    rate = [[1e5, 5e4], [2e5, 1e5]]
    fidelity = [[0.95, 0.9], [0.96, 0.9]]
    outcome, placement = _hand_cost(tiny, backlog, jobs, rate, fidelity, [1, 2], [0.5, 1.0])
    # job 0: local 5 us / layer at 0.999, edge 1 us at 0.9995; depth 40
    runs0_local = 100 / 0.999**40
    exec0_local = runs0_local * 40 * 5e-6
    runs0_edge = 100 / 0.9995**40
    exec0_edge = runs0_edge * 40 * 1e-6
    pairs0 = runs0_edge * 6 * 1.0  # 0.95 >= 0.9: no distillation
    lat0 = max(0.2 + 0.5 * exec0_local, 0.5 * pairs0 / 1e5 + 0.3 + 0.5 * exec0_edge)
    # job 1: cloud 0.2 us at 0.9999, depth 64; pairs 0.9 -> 0.95 by DEJMPS
    raw1 = distillation_schedule(0.9, 0.95, "dejmps").raw_pairs_per_output
    runs1 = 200 / 0.9999**64
    exec1 = runs1 * 64 * 2e-7
    pairs1 = runs1 * 9 * raw1
    lat1 = max(0.0, pairs1 / 1e5 + 0.1 + exec1)
    energy = (
        5.0 * 0.5 * exec0_local
        + 40.0 * 0.5 * exec0_edge
        + 0.5 * pairs0 * 2e-5
        + 400.0 * exec1
        + pairs1 * 5e-5
    )
    cost = 0.5 * (lat0 + lat1) / 0.1 + 0.5 * energy / 1.0
    assert outcome.latency_s == pytest.approx(lat0 + lat1, rel=1e-12)
    assert outcome.energy_j == pytest.approx(energy, rel=1e-12)
    assert outcome.dropped == 0.0
    assert outcome.cost == pytest.approx(cost, rel=1e-12)
    assert [core.REASONS[r] for r in placement.reason] == ["ok", "ok"]
    np.testing.assert_allclose(
        outcome.backlog_s,
        np.maximum(
            0, np.array(backlog) + np.array([0.5 * exec0_local, 0, 0.5 * exec0_edge, exec1]) - 1.0
        ),
    )
    # half of job 1 kept on its too-small node is dropped: +20 * 0.5
    half, placement = _hand_cost(tiny, backlog, jobs, rate, fidelity, [1, 2], [0.5, 0.5])
    assert half.dropped == 0.5
    assert core.REASONS[placement.reason[1]] == "no_fit"
    lat1_half = max(0.0, 0.5 * pairs1 / 1e5 + 0.1 + 0.5 * exec1)
    energy_half = energy - 400.0 * 0.5 * exec1 - 0.5 * pairs1 * 5e-5
    assert half.cost == pytest.approx(
        0.5 * (lat0 + lat1_half) / 0.1 + 0.5 * energy_half + 20.0 * 0.5, rel=1e-12
    )


def test_a_link_that_is_down_sends_the_share_home(tiny):
    jobs = _jobs([6, 6], [3, 3], [100, 100], [0.9, 0.9])
    outcome, placement = _hand_cost(
        tiny,
        [0, 0, 0, 0],
        jobs,
        [[0.0, 1e5], [1e5, 1e5]],
        [[0.95, 0.95], [0.95, 0.95]],
        [1, 0],
        [1.0, 0.0],
    )
    assert core.REASONS[placement.reason[0]] == "link_down"
    assert placement.local[0] == 1.0 and placement.dropped[0] == 0.0
    exec_local = 100 / 0.999**40 * 40 * 5e-6
    assert outcome.job_latency_s[0] == pytest.approx(exec_local, rel=1e-12)
    assert np.isfinite(outcome.cost)


def test_an_unreachable_fidelity_sends_the_share_home(tiny):
    jobs = _jobs([6, 9], [3, 3], [100, 100], [0.95, 0.95])
    outcome, placement = _hand_cost(
        tiny,
        [0, 0, 0, 0],
        jobs,
        [[1e5, 1e5], [1e5, 1e5]],
        [[0.5, 0.5], [0.5, 0.5]],
        [1, 2],
        [0.75, 1.0],
    )
    reasons = [core.REASONS[r] for r in placement.reason]
    assert reasons == ["fidelity_unreachable", "fidelity_unreachable"]
    assert placement.local[0] == 1.0
    assert placement.dropped[1] == 1.0  # job 1 does not fit at home: dropped
    assert outcome.dropped == 1.0 and np.isfinite(outcome.cost)


def test_a_job_that_fits_nowhere_is_dropped_whatever_the_action(tiny):
    jobs = _jobs([40, 6], [3, 3], [100, 100], [0.9, 0.9])  # 78 qubits > 64 in the cloud
    for target in range(3):
        outcome, placement = _hand_cost(
            tiny,
            [0, 0, 0, 0],
            jobs,
            np.full((2, 2), 1e5),
            np.full((2, 2), 0.99),
            [target, 0],
            [1.0, 0.0],
        )
        assert core.REASONS[placement.reason[0]] == "unservable"
        assert placement.dropped[0] == 1.0
        assert np.isfinite(outcome.cost) and outcome.cost >= 20.0


def test_no_job_costs_nothing(tiny):
    jobs = _jobs([0, 0], [0, 0], [0, 0], [0.0, 0.0], present=[False, False])
    outcome, placement = _hand_cost(
        tiny,
        [0.5, 0, 0, 0],
        jobs,
        np.full((2, 2), 1e5),
        np.full((2, 2), 0.99),
        [1, 2],
        [1.0, 1.0],
    )
    assert outcome.cost == 0.0
    assert [core.REASONS[r] for r in placement.reason] == ["no_job", "no_job"]


def test_link_draws_follow_their_distributions():
    layout = core.Layout.compile(Scenario())
    rng = np.random.default_rng(11)
    draws = core.sample_links(layout, rng, size=4000)
    down = (draws.rate == 0).mean(axis=0)
    np.testing.assert_allclose(down, layout.outage, atol=0.02)
    up_mean = np.where(draws.rate > 0, draws.rate, np.nan)
    np.testing.assert_allclose(np.nanmean(up_mean, axis=0) / layout.mean_rate, 1.0, atol=0.05)
    cloud = draws.fidelity[:, 0, -1]
    assert cloud.min() >= 0.85 - 1e-12 and cloud.max() <= 0.97 + 1e-12
    far = draws.fidelity[:, 0, 1]  # edge 1 is a far edge of mobile 0 (two swapped links)
    assert far.max() <= 0.25 + 0.75 * ((4 * 0.995 - 1) / 3) ** 2 + 1e-12
