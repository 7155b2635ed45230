"""Agents of link-quality routing: predictor, routers, the clairvoyant MILP, the PPO chooser."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from qnet_envs.linkquality import LinkQualityRoutingEnv, LinkQualityScenario, core

torch = pytest.importorskip("torch")

from agents.linkquality import predictor as lq_predictor  # noqa: E402
from agents.linkquality.clairvoyant import ClairvoyantRouter  # noqa: E402
from agents.linkquality.evaluation import run_episode  # noqa: E402
from agents.linkquality.policy import CandidateRouter, feasible_first, train_ppo  # noqa: E402
from agents.linkquality.routers import (  # noqa: E402
    EstimateRouter,
    GreedyRouter,
    ShortestPathRouter,
    StaticRouter,
)


@pytest.fixture(scope="module")
def network() -> core.Network:
    return core.Network.compile(LinkQualityScenario.load("waxman-20"))


def test_predictor_beats_the_mean_on_held_out_data(network, tmp_path):
    torch.set_num_threads(1)
    features, targets = lq_predictor.collect_history(network, range(3))
    other = core.Network.compile(
        LinkQualityScenario.from_dict(
            {**LinkQualityScenario.load("waxman-20").to_dict(), "network_seed": 5}
        )
    )
    test_z, test_y = lq_predictor.collect_history(other, [100])
    budget = network.scenario.requests.max_attempts
    predictor, _ = lq_predictor.train(features, targets, budget, epochs=15)
    report = predictor.evaluate(test_z, test_y)
    assert report.mse < 0.6 * report.mse_mean, report
    assert report.mse < report.mse_ema, report
    path = tmp_path / "sub" / "predictor.pt"
    lq_predictor.save(predictor, path)
    assert [p.name for p in path.parent.iterdir()] == ["predictor.pt"]  # no temporary left
    loaded = lq_predictor.load(path)
    np.testing.assert_allclose(loaded.estimate(test_z), predictor.estimate(test_z))
    torch.save({"format": 99}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="not a link-quality predictor"):
        lq_predictor.load(tmp_path / "bad.pt")


def _is_path(network: core.Network, request: core.Request, path: list[int]) -> bool:
    node = request.source
    for link in path:
        u, v = network.edges[link]
        if node not in (u, v):
            return False
        node = int(v if node == u else u)
    return node == request.target and len(set(path)) == len(path)


def test_every_router_returns_a_path_and_greedy_uses_fewest_hops(network):
    sim = core.Simulation(network, 3)
    routers = [ShortestPathRouter(), GreedyRouter(), StaticRouter(), EstimateRouter()]
    routers.append(CandidateRouter(core.ema_estimate, feasible_first, "ema feasible-first"))
    for _ in range(30):
        request = sim.request
        for router in routers:
            assert _is_path(network, request, router(sim)), router.name
        greedy = GreedyRouter()(sim)
        assert len(greedy) == network.hops[request.source, request.target]
        sim.serve(greedy)


def test_clairvoyant_matches_brute_force(network):
    """The MILP's path has the largest true served probability over every simple path."""
    router = ClairvoyantRouter()
    sim = core.Simulation(network, 4)
    budget = network.scenario.requests.max_attempts
    for _ in range(12):
        request = sim.request
        p, f = sim.truth()
        success = core.success_within_budget(p, budget)

        def served_probability(links, f=f, success=success, request=request):
            ok = core.chain_fidelity(f[links]) >= request.threshold
            return float(np.prod(success[links])) * ok

        best = max(
            served_probability(network.path_edges(nodes))
            for nodes in nx.all_simple_paths(network.graph, request.source, request.target)
        )
        chosen = router(sim)
        assert _is_path(network, request, chosen)
        assert served_probability(chosen) == pytest.approx(best, rel=1e-6, abs=1e-12)
        sim.serve(chosen)
    assert {status for status, _ in router.log} <= {"optimal", "infeasible"}


def test_clairvoyant_bounds_the_others_in_expectation(network):
    """Over a few episodes, no router's success rate exceeds the clairvoyant's by more than
    sampling noise (it maximises every request's probability)."""
    rates = {}
    for router in (ShortestPathRouter(), StaticRouter(), ClairvoyantRouter()):
        rates[router.name] = np.mean(
            [run_episode(network, s, router)["success_rate"] for s in range(3)]
        )
    assert rates["clairvoyant"] >= max(rates.values()) - 0.03, rates


def test_ppo_chooser_trains_and_routes():
    env = LinkQualityRoutingEnv("tiny")
    chooser = train_ppo(env, 256, seed=0)
    router = CandidateRouter(core.ema_estimate, chooser, "ppo")
    metrics = run_episode(env.network, 0, router)
    assert metrics["requests"] == env.scenario.requests.per_episode
    assert 0.0 <= metrics["success_rate"] <= 1.0
    assert all(np.isfinite(v) for k, v in metrics.items() if k != "served_latency_ms")


def test_metrics_are_consistent(network):
    metrics = run_episode(network, 0, ShortestPathRouter())
    assert metrics["served"] == round(metrics["success_rate"] * metrics["requests"])
    assert 0.0 <= metrics["link_utilisation"] <= 1.0
    assert metrics["throughput_per_s"] == pytest.approx(
        1000 * metrics["served"] / (metrics["mean_latency_ms"] * metrics["requests"])
    )
    assert list(itertools.islice(metrics, 2)) == ["requests", "served"]
