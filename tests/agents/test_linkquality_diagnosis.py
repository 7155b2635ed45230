"""agents.linkquality.diagnosis and scripts/diagnose_linkquality.py on the tiny scenario."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from qnet_envs.linkquality import LinkQualityScenario, core

pytest.importorskip("torch")

from agents.linkquality import diagnosis
from agents.linkquality.clairvoyant import ClairvoyantRouter
from agents.linkquality.policy import CandidateRouter, feasible_first

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def network() -> core.Network:
    return core.Network.compile(LinkQualityScenario.load("waxman-20"))


def test_served_probability_matches_the_served_fraction_of_many_attempts(network):
    sim = core.Simulation(network, 4)
    for _ in range(5):
        sim.serve(None)
    p, f = sim.truth()
    rng = np.random.default_rng(0)
    for _ in range(2):
        request = sim.request
        path = ClairvoyantRouter()(sim)
        expected = diagnosis.served_probability(network, p, f, path, request.threshold)
        n = 1500
        served = sum(core.serve(network, sim.world, path, request, rng).served for _ in range(n))
        sd = max(np.sqrt(expected * (1 - expected) / n), 1e-3)
        assert abs(served / n - expected) < 4.5 * sd, (served / n, expected)
        sim.serve(path)
        p, f = sim.truth()


def test_clairvoyant_is_best_per_request_and_references_bound_their_rules(network):
    sim = core.Simulation(network, 7)
    clairvoyant = ClairvoyantRouter()
    truth_rule = diagnosis.TruthEstimateRouter()
    stale = diagnosis.StaleTruthRouter()
    best_of = diagnosis.CandidateOracleRouter(core.ema_estimate)
    learned = CandidateRouter(core.ema_estimate, feasible_first, "ema")
    for step in range(40):
        p, f = sim.truth()
        thr = sim.request.threshold

        def score(path, p=p, f=f, thr=thr):
            return diagnosis.served_probability(network, p, f, path or [], thr)

        bound = score(clairvoyant(sim))
        assert score(truth_rule(sim)) <= bound + 1e-12
        assert score(best_of(sim)) <= bound + 1e-12
        assert score(learned(sim)) <= score(best_of(sim)) + 1e-12  # same candidates
        estimate = stale.estimate(sim)
        fresh = sim.observed.age == 0
        np.testing.assert_array_equal(estimate[fresh, 0], p[fresh])
        if step == 0:
            np.testing.assert_array_equal(estimate, np.stack([p, f], axis=1))
        sim.serve(learned(sim))


def test_forecast_at_zero_steps_is_the_truth_and_far_ahead_the_stationary_mean(network):
    sim = core.Simulation(network, 3)
    rng = np.random.default_rng(1)
    e = network.num_edges
    budget = network.scenario.requests.max_attempts
    mean_s, mean_f = diagnosis.forecast_links(network, sim.world, np.zeros(e, int), rng, 8)
    p, f = sim.truth()
    np.testing.assert_allclose(mean_s, core.success_within_budget(p, budget))
    np.testing.assert_allclose(mean_f, f)
    # 400 slots (20 reversion times) on: the start is forgotten; compare with fresh worlds.
    far_s, _ = diagnosis.forecast_links(network, sim.world, np.full(e, 400), rng, 400)
    fresh = []
    for seed in range(300):
        world = core.initial_world(network, np.random.default_rng(seed))
        for _ in range(40):  # let bursts and failures reach their stationary fractions
            world = core.advance_world(network, world, np.random.default_rng([seed, _]))
        fresh.append(core.success_within_budget(core.true_values(network, world)[0], budget))
    assert np.max(np.abs(far_s - np.mean(fresh, axis=0))) < 0.08


def test_paired_statistics_on_known_numbers():
    d = diagnosis.paired_difference([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert d["mean"] == pytest.approx(2.0)
    assert d["half"] == pytest.approx(4.303 * 1.0 / np.sqrt(3))
    assert diagnosis.t_quantile_95(30) == pytest.approx(2.042, abs=1e-3)
    g = diagnosis.gap_closed([0.5] * 4, [0.2, 0.3, 0.2, 0.3], [0.6, 0.7, 0.6, 0.7])
    assert g["mean"] == pytest.approx(0.625)
    assert g["low"] <= g["mean"] <= g["high"]


def test_diagnosis_script_on_tiny(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "diagnose_linkquality", ROOT / "scripts" / "diagnose_linkquality.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "diag"
    argv = ["--sizes", "10", "--scenario", "tiny", "--seeds", "2", "--requests", "8"]
    argv += ["--train-episodes", "1", "--epochs", "2", "--forecast-samples", "8"]
    assert module.main([*argv, "--out", str(out)]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    (result,) = report["results"]
    assert tuple(result["runs"]) == module.METHODS
    assert all(len(runs) == 2 for runs in result["runs"].values())
    assert all(len(r["probability"]) == 8 for r in result["runs"][module.BOUND])
    rows = result["summary"]["probability"]["methods"]
    bound = result["runs"][module.BOUND]
    for method, runs in result["runs"].items():  # the bound is best request by request
        for run, top in zip(runs, bound, strict=True):
            assert np.all(np.asarray(run["probability"]) <= np.asarray(top["probability"]) + 1e-9)
        assert rows[method]["minus_bound"]["mean"] <= 1e-9
    assert rows[module.LEARNED]["minus_learned"]["mean"] == 0.0
    closed = rows[module.BOUND]["gap_closed"]["mean"]  # NaN when no baseline trails the bound
    assert closed == pytest.approx(1.0) or np.isnan(closed)
    text = out.with_suffix(".md").read_text()
    assert text == module.markdown(report)
    assert "Decomposition of the learned method's loss" in text
