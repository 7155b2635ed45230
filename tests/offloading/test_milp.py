"""The step MILP and the stochastic program against brute force on the tiny scenario."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from qnet_envs.offloading import Scenario, core
from qnet_envs.offloading.milp import build_and_solve, solve_clairvoyant
from qnet_envs.offloading.stochastic import sample_scenarios

TIGHT = 1e-9


@pytest.fixture(scope="module")
def layout() -> core.Layout:
    return core.Layout.compile(Scenario.load("tiny"))


def _random_state(layout: core.Layout, rng: np.random.Generator) -> core.State:
    backlog = rng.uniform(0.0, 0.4, layout.scenario.n_nodes) * (rng.random() < 0.7)
    jobs = core.sample_jobs(layout, rng)
    links = core.sample_links(layout, rng)
    return core.State(backlog, np.zeros(layout.n_remote), jobs, links, 0)


def _all_actions(layout: core.Layout):
    options = [(0, 0.0)] + [(t, s) for t in range(1, layout.n_targets) for s in layout.share_grid]
    for combo in itertools.product(options, repeat=layout.n_mobile):
        yield np.array([c[0] for c in combo]), np.array([c[1] for c in combo])


def _mean_cost(layout, state, scenarios, target, share) -> float:
    values = []
    for costs in scenarios:
        placement = core.place(layout, state.jobs, costs, target, share)
        values.append(core.step_cost(layout, state.backlog_s, costs, placement).cost)
    return float(np.mean(values))


@pytest.mark.parametrize("seed", range(6))
def test_clairvoyant_milp_equals_brute_force(layout, seed):
    rng = np.random.default_rng(seed)
    state = _random_state(layout, rng)
    if seed == 0:  # one link down, one need unreachable
        rate = state.links.rate.copy()
        rate[0, 0] = 0.0
        fidelity = state.links.fidelity.copy()
        fidelity[1, 1] = 0.5
        state = core.State(
            state.backlog_s, state.advertised_s, state.jobs, core.Links(rate, fidelity), 0
        )
    costs = state.costs(layout)
    best = min(_mean_cost(layout, state, [costs], t, s) for t, s in _all_actions(layout))
    decision = solve_clairvoyant(layout, state, share_levels=4, mip_rel_gap=TIGHT)
    assert decision.status == "optimal"
    assert decision.objective == pytest.approx(best, rel=1e-7, abs=1e-9)
    # the decision, played, costs what the model says
    played = _mean_cost(layout, state, [costs], decision.target, decision.share)
    assert played == pytest.approx(decision.objective, rel=1e-7, abs=1e-9)
    # continuous shares can only do better
    continuous = solve_clairvoyant(layout, state, mip_rel_gap=TIGHT)
    assert continuous.objective <= decision.objective + 1e-9
    played = _mean_cost(layout, state, [costs], continuous.target, continuous.share)
    assert played == pytest.approx(continuous.objective, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_stochastic_program_equals_brute_force_over_its_scenarios(layout, seed):
    rng = np.random.default_rng(100 + seed)
    state = _random_state(layout, rng)
    scenarios = sample_scenarios(layout, state.jobs, 3, np.random.default_rng(seed))
    best = min(_mean_cost(layout, state, scenarios, t, s) for t, s in _all_actions(layout))
    decision = build_and_solve(
        layout, state.backlog_s, state.jobs, scenarios, share_levels=4, mip_rel_gap=TIGHT
    )
    assert decision.objective == pytest.approx(best, rel=1e-7, abs=1e-9)
    played = _mean_cost(layout, state, scenarios, decision.target, decision.share)
    assert played == pytest.approx(decision.objective, rel=1e-7, abs=1e-9)


def test_stochastic_program_on_the_realisation_is_the_clairvoyant(layout):
    rng = np.random.default_rng(5)
    for _ in range(3):
        state = _random_state(layout, rng)
        clair = solve_clairvoyant(layout, state, mip_rel_gap=TIGHT)
        one = build_and_solve(
            layout, state.backlog_s, state.jobs, [state.costs(layout)], mip_rel_gap=TIGHT
        )
        assert one.objective == pytest.approx(clair.objective, rel=1e-7, abs=1e-9)


def test_the_default_step_is_solved_to_a_proven_gap():
    layout = core.Layout.compile(Scenario())
    state = core.initial_state(layout, np.random.default_rng(0))
    decision = solve_clairvoyant(layout, state)
    assert decision.status == "optimal" and decision.gap <= 1e-4
    assert decision.bound <= decision.objective + 1e-9
