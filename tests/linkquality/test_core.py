"""The model: success statistics against the configured probabilities, physics, drift, seeds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from qnet_envs.linkquality import LinkQualityScenario, core
from qnet_envs.linkquality.scenario import BurstSpec, DriftSpec, FailureSpec, RequestSpec
from qnet_envs.physics import nested_swap_fidelity
from qnet_envs.topology import k_shortest_paths


def _frozen_network(max_attempts: int = 4) -> core.Network:
    """A 30-node network whose links do not drift, burst or fail."""
    scenario = LinkQualityScenario.from_dict(
        {
            "topology": {"kind": "waxman", "n_nodes": 30, "alpha": 0.3},
            "drift": {"p_sigma": 0.0, "fidelity_sigma": 0.0},
            "bursts": {"rate": 0.0},
            "failures": {"rate": 0.0},
            "requests": {"max_attempts": max_attempts, "threshold_low": 0.5, "threshold_high": 0.5},
        }
    )
    return core.Network.compile(scenario)


def test_served_rate_matches_configured_probabilities():
    """On a fixed network the empirical rate of served requests on a path equals
    prod_l (1 - (1 - p_l)^B) (the thresholds are met), within 4 binomial sigmas; and the mean
    number of attempts of a link equals E[min(T, B)] = (1 - (1 - p)^B) / p."""
    network = _frozen_network(max_attempts=4)
    world = core.initial_world(network, np.random.default_rng(0))
    p, f = core.true_values(network, world)
    np.testing.assert_allclose(p, network.p_nominal)
    path = network.path_edges(k_shortest_paths(network.graph, 0, 17, 1, weight=None)[0])
    assert len(path) >= 2
    request = core.Request(0, 17, threshold=0.3)
    expected = float(np.prod(core.success_within_budget(p[path], 4)))
    rng = np.random.default_rng(1)
    trials = 20_000
    outcomes = [core.serve(network, world, path, request, rng) for _ in range(trials)]
    rate = np.mean([o.served for o in outcomes])
    sigma = np.sqrt(expected * (1 - expected) / trials)
    assert abs(rate - expected) < 4 * sigma, (rate, expected)
    attempts = np.array([o.measurements.attempts for o in outcomes])
    mean_attempts = core.success_within_budget(p[path], 4) / p[path]
    spread = np.sqrt(attempts.var(axis=0) / trials)
    assert np.all(np.abs(attempts.mean(axis=0) - mean_attempts) < 4 * spread + 1e-12)
    # the fidelity threshold: above the chain's fidelity nothing is served
    fidelity = core.chain_fidelity(f[path])
    strict = core.Request(0, 17, threshold=min(fidelity + 1e-9, 1.0))
    assert not any(core.serve(network, world, path, strict, rng).served for _ in range(200))


def test_a_wrong_probability_would_be_caught():
    """The statistics test can fail: the same samples differ from a 10% lower probability."""
    network = _frozen_network(max_attempts=2)
    world = core.initial_world(network, np.random.default_rng(0))
    p, _ = core.true_values(network, world)
    link = int(np.argmax(p < 0.6))
    rng = np.random.default_rng(2)
    request = core.Request(*network.edges[link].tolist(), threshold=0.3)
    rate = np.mean([core.serve(network, world, [link], request, rng).served for _ in range(20_000)])
    right = float(core.success_within_budget(p[[link]], 2)[0])
    wrong = float(core.success_within_budget(0.9 * p[[link]], 2)[0])
    sigma = np.sqrt(right * (1 - right) / 20_000)
    assert abs(rate - right) < 4 * sigma
    assert abs(rate - wrong) > 4 * sigma


def test_latency_of_a_single_link():
    network = _frozen_network(max_attempts=50)
    world = core.initial_world(network, np.random.default_rng(0))
    rng = np.random.default_rng(3)
    link = int(np.argmax(network.p_nominal))
    request = core.Request(*network.edges[link].tolist(), threshold=0.3)
    outcome = core.serve(network, world, [link], request, rng)
    assert outcome.links_ok
    speed = network.scenario.timing.fiber_speed_km_per_ms
    expected = outcome.attempts * network.attempt_ms[link] + 2 * network.length_km[link] / speed
    assert outcome.latency_ms == pytest.approx(expected)
    assert network.attempt_ms[link] == pytest.approx(
        2 * network.length_km[link] / speed + network.scenario.timing.attempt_overhead_ms
    )


def test_chain_fidelity_against_closed_forms():
    rng = np.random.default_rng(4)
    for n in range(1, 8):
        f = float(rng.uniform(0.3, 1.0))
        assert core.chain_fidelity([f] * n) == pytest.approx(
            float(nested_swap_fidelity(f, n)), abs=1e-12
        )
        mixed = rng.uniform(0.25, 1.0, size=n)
        closed = mixed[0]
        for g in mixed[1:]:
            closed = closed * g + (1 - closed) * (1 - g) / 3  # Werner swap, DESIGN.md
        assert core.chain_fidelity(mixed) == pytest.approx(closed, abs=1e-12)


def test_drift_is_stationary_with_the_configured_spread():
    scenario = LinkQualityScenario.from_dict(
        {
            "topology": {"kind": "waxman", "n_nodes": 60, "alpha": 0.3},
            "drift": {"reversion": 0.2, "p_sigma": 0.5, "fidelity_sigma": 0.02},
            "bursts": {"rate": 0.05, "mean_length": 4.0},
            "failures": {"rate": 0.01, "mean_downtime": 5.0},
        }
    )
    network = core.Network.compile(scenario)
    rng = np.random.default_rng(5)
    world = core.initial_world(network, rng)
    x_p, x_f, burst, down = [], [], [], []
    for _ in range(2000):
        world = core.advance_world(network, world, rng)
        x_p.append(world.x_p)
        x_f.append(world.x_fidelity)
        burst.append(world.burst_left > 0)
        down.append(world.down_left > 0)
    assert np.std(x_p) == pytest.approx(0.5, rel=0.05)
    assert np.std(x_f) == pytest.approx(0.02, rel=0.05)
    lag = np.corrcoef(np.ravel(x_p[:-1]), np.ravel(x_p[1:]))[0, 1]
    assert lag == pytest.approx(0.8, abs=0.02)
    # renewal: a burst (mean 4 slots) starts with probability 0.05 per slot outside one
    assert np.mean(burst) == pytest.approx(0.05 * 4 / (1 + 0.05 * 4), rel=0.1)
    assert np.mean(down) == pytest.approx(0.01 * 5 / (1 + 0.01 * 5), rel=0.1)


def test_same_seed_same_episode_and_routers_share_the_world():
    network = core.Network.compile(LinkQualityScenario.load("waxman-20"))

    def play(seed: int, pick: int):
        sim = core.Simulation(network, seed)
        trace = []
        while not sim.done:
            estimate = core.ema_estimate(sim.features())
            paths = core.candidate_paths(network, sim.request, estimate, 3)
            truth = sim.truth()
            request = sim.request
            outcome = sim.serve(network.path_edges(paths[min(pick, len(paths) - 1)]))
            trace.append(
                (
                    request,
                    truth[0].tobytes(),
                    truth[1].tobytes(),
                    outcome.served,
                    outcome.latency_ms,
                )
            )
        return trace

    first, again, other = play(11, 0), play(11, 0), play(11, 2)
    assert first == again
    assert [t[:3] for t in first] == [t[:3] for t in other]  # same requests and link states
    assert [t[3:] for t in first] != [t[3:] for t in other]  # different choices, outcomes
    assert play(12, 0) != first


def test_measurements_are_unbiased_and_noisy():
    network = _frozen_network()
    rng = np.random.default_rng(6)
    world = core.initial_world(network, rng)
    p, f = core.true_values(network, world)
    readings = [core.probe(network, world, rng, everyone=True) for _ in range(3000)]
    measured_p = np.mean([m.successes / m.attempts for m in readings], axis=0)
    np.testing.assert_allclose(measured_p, p, atol=0.03)
    single = readings[0].successes / readings[0].attempts
    assert np.mean(np.abs(single - p)) > 0.05  # one probe alone is noisy


def test_candidates_follow_the_estimate():
    network = core.Network.compile(LinkQualityScenario.load("waxman-20"))
    sim = core.Simulation(network, 0)
    estimate = core.ema_estimate(sim.features())
    paths = core.candidate_paths(network, sim.request, estimate, 4)
    budget = network.scenario.requests.max_attempts
    success = [
        np.prod(
            core.success_within_budget(np.clip(estimate[network.path_edges(p), 0], 0, 1), budget)
        )
        for p in paths
    ]
    werner = [np.prod((4 * estimate[network.path_edges(p), 1] - 1) / 3) for p in paths]
    quality = np.array(success) * np.array(werner)
    assert np.all(np.diff(quality) <= 1e-12)
    table = core.candidate_features(network, paths, estimate, sim.request, 6)
    assert table.shape == (6, len(core.CANDIDATE_FEATURES))
    np.testing.assert_allclose(table[: len(paths), 1], success, rtol=1e-5)
    assert np.all(table[len(paths) :] == 0)


def test_replace_changes_the_world_not_the_seeded_parts():
    scenario = LinkQualityScenario.load("tiny")
    quiet = dataclasses.replace(
        scenario,
        drift=DriftSpec(p_sigma=0.0, fidelity_sigma=0.0),
        bursts=BurstSpec(rate=0.0),
        failures=FailureSpec(rate=0.0),
        requests=RequestSpec(per_episode=5),
    )
    a, b = core.Network.compile(scenario), core.Network.compile(quiet)
    np.testing.assert_array_equal(a.edges, b.edges)
    np.testing.assert_array_equal(a.p_nominal, b.p_nominal)
