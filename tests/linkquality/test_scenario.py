"""Scenario validation: fields checked in the type; errors read ``field: problem (allowed)``."""

from __future__ import annotations

import dataclasses

import pytest

from qnet_envs import resources
from qnet_envs.linkquality import LinkQualityScenario
from qnet_envs.linkquality.scenario import DriftSpec, RequestSpec
from qnet_envs.routing.scenario import ScenarioError

BASE = {"topology": {"kind": "waxman", "n_nodes": 12}}


def _with(section: str, **fields):
    data = {key: dict(value) for key, value in BASE.items()}
    data.setdefault(section, {}).update(fields)
    return data


@pytest.mark.parametrize("name", resources.shipped_names("linkquality"))
def test_every_shipped_scenario_loads(name):
    scenario = LinkQualityScenario.load(name)
    assert scenario.name == name
    assert LinkQualityScenario.from_dict(scenario.to_dict()) == scenario


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _with("drift", reversion=1.5),
            "drift.reversion: 1.5 is out of range (allowed: a number in (0, 1])",
        ),
        (
            _with("topology", kind="ring"),
            "topology.kind: got 'ring' (allowed: ['waxman', 'clustered', 'zoo'])",
        ),
        (
            _with("measurement", probe_attempts=2.5),
            "measurement.probe_attempts: 2.5 is not an integer (allowed: an integer in [1, 10000])",
        ),
        (
            _with("bursts", p_factor="high"),
            "bursts.p_factor: 'high' is not a number (allowed: a number in [0, 1])",
        ),
        (
            _with("requests", threshold_low=0.8, threshold_high=0.6),
            "requests.threshold_high: 0.6 is below threshold_low 0.8 "
            "(allowed: a number in [threshold_low, 1])",
        ),
        (
            _with("links", fidelity_low=0.1),
            "links.fidelity_low: 0.1 is out of range (allowed: a number in [0.25, 1])",
        ),
        (
            _with("reward", invalid_action=2.0),
            "reward.invalid_action: 2 is out of range (allowed: a number <= 0)",
        ),
        (
            _with("failures", mean_downtime=float("nan")),
            "failures.mean_downtime: nan is not finite (allowed: a number >= 1)",
        ),
        (
            {"topology": {"kind": "zoo", "name": "Nowhere"}},
            "topology.name: got 'Nowhere' (allowed: ['Abilene', 'Ans', 'Cogentco', 'Kdl', "
            "'Surfnet'])",
        ),
        (
            {"links": {}},
            "topology.kind: missing required field (allowed: ['waxman', 'clustered', 'zoo'])",
        ),
        (
            {**BASE, "k_paths": 0},
            "k_paths: 0 is out of range (allowed: an integer in [1, 16])",
        ),
        (
            _with("drift", speed=1.0),
            "drift: unknown field(s) ['speed'] "
            "(allowed: ['fidelity_sigma', 'p_sigma', 'reversion'])",
        ),
    ],
)
def test_bad_fields_name_the_field_and_the_allowed_values(data, message):
    with pytest.raises(ScenarioError) as raised:
        LinkQualityScenario.from_dict(data)
    assert str(raised.value) == message


def test_unknown_top_level_field():
    with pytest.raises(ScenarioError, match=r"^scenario: unknown field\(s\) \['colour'\]"):
        LinkQualityScenario.from_dict({**BASE, "colour": "red"})


def test_replace_and_constructor_validate_too():
    scenario = LinkQualityScenario.from_dict(BASE)
    with pytest.raises(ScenarioError, match=r"^drift\.p_sigma: -1 is out of range"):
        dataclasses.replace(scenario, drift=DriftSpec(p_sigma=-1.0))
    with pytest.raises(ScenarioError, match=r"^requests\.per_episode: True is not an integer"):
        RequestSpec(per_episode=True)


def test_file_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[topology]\nkind = "waxman"\n[drift]\nreversion = 0\n')
    with pytest.raises(ScenarioError) as raised:
        LinkQualityScenario.load(path)
    assert str(raised.value) == (
        f"{path}: drift.reversion: 0 is out of range (allowed: a number in (0, 1])"
    )
    assert raised.value.field == "drift.reversion"


def test_unknown_shipped_name_lists_the_shipped_names():
    with pytest.raises(ValueError, match="waxman-50"):
        LinkQualityScenario.load("waxman-51")
