"""The two-stage stochastic program of a step, in extensive form on HiGHS.

First stage (before the links are drawn): the assignment of every job (local share, at most
one remote node and its share, dropped share). Second stage, per sampled link scenario ``s``:
each job's latency ``z_is`` (the recourse variables), with the shares sent over links unusable
in ``s`` (down, or the fidelity need unreachable) dropped at the drop penalty. The objective is
the scenarios' mean cost (sample average approximation over ``n_scenarios`` independent draws
of :func:`qnet_envs.offloading.core.sample_links`). The model is the one of
:mod:`qnet_envs.offloading.milp` with one latency block per scenario; it sees the true backlogs
and every job (it is centralised) but not the draw, so it is the best non-anticipative decision
for the step, up to the sampling error of the average (reported by
:func:`evaluate_decision` on fresh draws).
"""

from __future__ import annotations

import numpy as np

from qnet_envs.offloading import core
from qnet_envs.offloading.milp import StepDecision, build_and_solve


def sample_scenarios(
    layout: core.Layout, jobs: core.Jobs, n_scenarios: int, rng: np.random.Generator
) -> list[core.JobCosts]:
    """``n_scenarios`` link draws turned into the step's job constants."""
    if isinstance(n_scenarios, bool) or not isinstance(n_scenarios, int) or n_scenarios < 1:
        raise ValueError(f"n_scenarios: got {n_scenarios!r} (allowed: an integer >= 1)")
    draws = core.sample_links(layout, rng, size=n_scenarios)
    return [
        core.job_costs(layout, jobs, draws.rate[s], draws.fidelity[s]) for s in range(n_scenarios)
    ]


def solve_stochastic(
    layout: core.Layout,
    state: core.State,
    rng: np.random.Generator,
    *,
    n_scenarios: int = 16,
    share_levels: int | None = None,
    time_limit: float | None = 60.0,
) -> StepDecision:
    """The extensive form over ``n_scenarios`` draws from ``rng`` (never the step's own
    realisation, which ``state.links`` holds and this function does not read)."""
    scenarios = sample_scenarios(layout, state.jobs, n_scenarios, rng)
    return build_and_solve(
        layout,
        state.backlog_s,
        state.jobs,
        scenarios,
        share_levels=share_levels,
        time_limit=time_limit,
    )


def evaluate_decision(
    layout: core.Layout,
    state: core.State,
    decision: StepDecision,
    rng: np.random.Generator,
    n_draws: int = 256,
) -> tuple[float, float]:
    """Mean and standard error of the step cost of ``decision`` over ``n_draws`` fresh link
    draws (the out-of-sample value of a first-stage decision)."""
    draws = core.sample_links(layout, rng, size=n_draws)
    values = np.empty(n_draws)
    for s in range(n_draws):
        costs = core.job_costs(layout, state.jobs, draws.rate[s], draws.fidelity[s])
        placement = core.place(layout, state.jobs, costs, decision.target, decision.share)
        values[s] = core.step_cost(layout, state.backlog_s, costs, placement).cost
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(n_draws))
