"""Scenario validation: defaults equal the shipped file, errors name the field."""

from __future__ import annotations

import dataclasses

import pytest

from qnet_envs.offloading import Scenario, ScenarioError
from qnet_envs.offloading.scenario import Tier


def test_shipped_default_equals_the_dataclass_defaults():
    shipped = Scenario.load("default")
    assert shipped == Scenario(name="default", description=shipped.description)
    assert (shipped.n_mobile, shipped.n_edge, shipped.cloud.count) == (10, 5, 1)


def test_tiny_loads():
    tiny = Scenario.load("tiny")
    assert (tiny.n_mobile, tiny.n_remote, tiny.horizon) == (2, 2, 3)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"horizon": 0}, "horizon: 0 is out of range (allowed: an integer >= 1)"),
        ({"edge": {"qubits": -1}}, "edge.qubits: -1 is out of range (allowed: an integer >= 0)"),
        ({"cloud": {"count": 2}}, "cloud.count: 2 is out of range (allowed: an integer in [0, 1])"),
        (
            {"links": {"cloud": {"outage_probability": 1.5}}},
            "links.cloud.outage_probability: 1.5 is out of range (allowed: a number in [0, 1])",
        ),
        ({"links": {"moon": {}}}, "links.moon: unknown link class"),
        ({"jobs": {"k_min": 6}}, "jobs.k_min: 6 is out of range (allowed: an integer in [1, 5])"),
        ({"cost": {"latency_weight": "high"}}, "cost.latency_weight: 'high' is not a number"),
        ({"model": {"protocol": "x"}}, "model.protocol: got 'x' (allowed: ['dejmps', 'bbpssw'])"),
        ({"model": {"colour": 1}}, "model.colour: unknown key"),
        ({"speed": 1}, "speed: unknown key"),
        (
            {"jobs": {"fidelity_need_low": 0.9005}},
            "jobs.fidelity_need_low: 0.9005 is not on the fidelity grid",
        ),
        (
            {"edge": {"count": 0}, "cloud": {"count": 0}},
            "edge.count: no edge and no cloud node",
        ),
    ],
)
def test_bad_fields_are_named(data, message):
    with pytest.raises(ScenarioError) as error:
        Scenario.from_dict(data)
    assert str(error.value).startswith(message)


def test_replace_validates_too():
    with pytest.raises(ScenarioError, match=r"mobile\.power_w"):
        dataclasses.replace(Scenario(), mobile=Tier(3, 10, 1e-6, 0.99, -1.0))
    with pytest.raises(ScenarioError, match=r"cost\.energy_weight"):
        Scenario().with_qos(0.5, 2.0)


def test_file_errors_carry_the_path(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("horizon = -3\n")
    with pytest.raises(ScenarioError, match=r"bad\.toml: horizon: -3 is out of range"):
        Scenario.load(path)
