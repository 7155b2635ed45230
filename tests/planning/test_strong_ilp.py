"""The strengthened planning ILP: same optimum, valid and tighter LP bound, QPLAN passthrough."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from qnet_envs.planning import Instance, evaluate, solve_ilp, solve_lp_bound
from qnet_envs.planning.qplan import first_stage_plan, qplan_bounds, solve_qplan
from qnet_envs.validation import FieldError

LINKS = [[0, 1, 40.0], [1, 2, 60.0], [2, 3, 50.0], [3, 0, 70.0], [0, 2, 90.0], [1, 3, 80.0]]
PAIRS = [[0, 2], [1, 3], [0, 1], [2, 3]]


def random_instance(seed: int) -> Instance:
    """A 4-node instance with random rates and fibre capacity (built with from_dict)."""
    rng = np.random.default_rng(seed)
    rates = rng.uniform(1.0, 20.0, size=(2, len(PAIRS))).round(2).tolist()
    return Instance.from_dict(
        {
            "name": f"r{seed}",
            "network": {"links": LINKS},
            "link": {"max_segment_km": 50.0},
            "cost": {
                "capacity_cost": float(rng.uniform(0.1, 1.0)),
                "fiber_capacity": float(rng.uniform(10.0, 60.0)),
            },
            "traffic": {"fidelity": 0.97, "train_fraction": 0.5, "pairs": PAIRS, "rates": rates},
        }
    )


@pytest.fixture(scope="module")
def instances(tiny):
    return [tiny, *(random_instance(seed) for seed in range(4))]


@pytest.mark.parametrize("cuts", ["demand", "path"])
def test_strengthened_ilp_keeps_the_optimum_and_tightens_the_lp(instances, cuts):
    stronger = 0
    for instance in instances:
        plain = solve_ilp(instance, time_limit=20, mip_rel_gap=1e-9)
        strong = solve_ilp(instance, time_limit=20, mip_rel_gap=1e-9, strengthen=True, cuts=cuts)
        assert plain.status == strong.status == "optimal"
        assert strong.objective == pytest.approx(plain.objective, rel=1e-6)
        assert strong.evaluation.feasible, strong.evaluation.violations[:3]
        lp_plain = solve_lp_bound(instance).objective
        lp_strong = solve_lp_bound(instance, strengthen=True, cuts=cuts).objective
        assert lp_plain <= lp_strong * (1 + 1e-9) + 1e-9
        assert lp_strong <= plain.objective * (1 + 1e-7) + 1e-9
        stronger += lp_strong > lp_plain * (1 + 1e-6)
    assert stronger >= 1


def test_bad_cuts_value_names_the_field(tiny):
    with pytest.raises(FieldError, match="cuts"):
        solve_ilp(tiny, time_limit=5, strengthen=True, cuts="edge")
    with pytest.raises(FieldError, match="cuts"):
        solve_lp_bound(tiny, strengthen=True, cuts="")


def test_strengthened_qplan_is_feasible_and_respects_the_caps(tiny):
    for instance, seed, alpha in itertools.product(
        [tiny, random_instance(7)], range(3), (1.0, 1.5)
    ):
        rng = np.random.default_rng(seed)
        levels = rng.integers(0, 5, size=(instance.n_demands, instance.k_paths))
        first = first_stage_plan(instance, levels, 4)
        caps, _ = qplan_bounds(instance, first, alpha)
        result = solve_qplan(instance, first, alpha, time_limit=10, strengthen=True)
        assert result.has_plan, result.status
        assert evaluate(instance, result.plan).feasible
        assert np.all(result.plan.x <= caps * (1 + 1e-6) + 1e-9)
        plain = solve_qplan(instance, first, alpha, time_limit=10)
        assert result.objective == pytest.approx(plain.objective, rel=1e-4)
