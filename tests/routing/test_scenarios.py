"""The shipped swap-routing scenarios, their generators, and scenario validation.

Invariants checked here:

* every file in ``scenarios/routing/`` loads and is exactly what its generator produces;
* each family's defining property holds under the exact oracle (optimal route length, the
  damage every route must cross and the link that cancels it, Dijkstra's failure where damage
  cancels, the evolving stages breaking each other's best routes);
* malformed scenario dicts, files and evolving stages raise ``ScenarioError`` naming the field.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

from agents.baselines.dijkstra import dijkstra_route
from agents.baselines.oracle import best_route, routes_at_least
from qnet_envs.physics import amplitude_damped, reverse, werner
from qnet_envs.routing import core, generators
from qnet_envs.routing.evolving import EvolvingScenario
from qnet_envs.routing.scenario import SCENARIO_DIR, Scenario, ScenarioError

SHIPPED = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
FAMILY_FILES = [
    f"{prefix}-{k:02d}" for prefix in generators.FAMILIES for k in generators.INTERMEDIARIES
]
OPTIMUM_TIE = 1e-9


def _raw(name: str) -> dict[str, Any]:
    with (SCENARIO_DIR / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


def _walked(spec: dict[str, Any], scenario: Scenario, route) -> list[tuple[dict, bool]]:
    """``(parametric state, walked from its stored u)`` per link of a route."""
    node, steps = scenario.alice, []
    for edge in route:
        u, v = (int(x) for x in scenario.edges[edge])
        steps.append((spec["edges"][edge]["state"], node == u))
        node = v if node == u else u
    return steps


class Solved(NamedTuple):
    """A shipped scenario with its exact optimum and Dijkstra's route, computed once."""

    spec: dict[str, Any]
    scenario: Scenario
    fidelity: float  # the oracle's optimum
    optimal: list[tuple[int, ...]]  # every route within OPTIMUM_TIE of it
    dijkstra_fidelity: float


@functools.cache
def _solved(name: str) -> Solved:
    scenario = Scenario.load(name)
    _, fidelity = best_route(scenario)
    optimal = [o.route for o in routes_at_least(scenario, fidelity - OPTIMUM_TIE)]
    _, dijkstra_fidelity = dijkstra_route(scenario)
    return Solved(_raw(name), scenario, fidelity, optimal, dijkstra_fidelity)


# ------------------------------------------------------------------------ public names
def test_contract_names_are_importable_from_the_package():
    import qnet_envs.routing as routing

    scenario = routing.Scenario.from_dict(
        {
            "nodes": 2,
            "edges": [{"u": 0, "v": 1, "state": {"kind": "werner", "fidelity": 0.9}}],
            "alice": 0,
            "bob": 1,
        }
    )
    assert scenario.max_actions == 15 and scenario.swap_mode == "postselected"
    assert routing.Scenario.load("tiny").name == "tiny"
    assert routing.EvolvingScenario.load("evolving").num_stages == 10
    assert issubclass(routing.ScenarioError, ValueError)
    with pytest.raises(routing.ScenarioError, match="alice"):
        routing.Scenario.from_dict({"nodes": 2, "edges": [], "bob": 1})


# ------------------------------------------------------------------------ shipped files
def test_the_shipped_set_is_complete():
    expected = {*FAMILY_FILES, "evolving", "default", "tiny"}
    assert set(SHIPPED) == expected
    # The names the package registry refers to.
    assert {"white-noise-06", "amplitude-damping-06", "phase-noise-06", "evolving"} <= expected


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_file_loads(name):
    raw = _raw(name)
    if "stages" in raw:
        loaded = EvolvingScenario.load(name)
        assert loaded.name == name and loaded.num_stages == len(raw["stages"])
    else:
        loaded = Scenario.load(name)
        assert loaded.name == name
        assert loaded.positions is not None and loaded.positions.shape == (loaded.num_nodes, 2)
        assert loaded.description


def test_shipped_files_are_what_the_generators_make():
    specs = generators.shipped_specs()
    assert sorted(specs) == SHIPPED
    for name, spec in specs.items():
        assert _raw(name) == spec, name


def test_generators_are_deterministic_and_seeded():
    first = generators.phase_noise(seed=0).design(8)
    again = generators.phase_noise(seed=0).design(8)
    other = generators.phase_noise(seed=1).design(8)
    assert first.spec == again.spec and first.route == again.route
    assert len(other.route) == len(first.route)
    assert other.spec != first.spec


@pytest.mark.parametrize("name", [*FAMILY_FILES, "default", "tiny"])
def test_optimal_route_has_the_intended_length_and_fits_the_budget(name):
    solved = _solved(name)
    intended = {"default": 6, "tiny": 4}.get(name) or int(name.rsplit("-", 1)[1])
    assert solved.optimal
    for route in solved.optimal:
        assert len(route) - 1 == intended
        assert solved.scenario.max_actions >= len(route) + generators.ACTION_SLACK


def test_default_is_white_noise_06():
    default, reference = _raw("default"), _raw("white-noise-06")
    for key in ("name", "description"):
        default.pop(key), reference.pop(key)
    assert default == reference


def test_tiny_is_tiny():
    solved = _solved("tiny")
    assert 6 <= solved.scenario.num_nodes <= 8
    assert [len(route) for route in solved.optimal] == [5] * len(solved.optimal)
    assert solved.fidelity > 0.95


# -------------------------------------------------------------------------- the families
def test_white_noise_starts_undamaged_and_damage_accumulates():
    healthy = generators.healthy_state()
    damaged_sets = []
    for k in generators.INTERMEDIARIES:
        edges = _raw(f"white-noise-{k:02d}")["edges"]
        assert {e["state"]["kind"] for e in edges} == {"werner"}
        damaged_sets.append({i for i, e in enumerate(edges) if e["state"] != healthy})
    assert damaged_sets[0] == set()
    assert all(a < b for a, b in itertools.pairwise(damaged_sets))


@pytest.mark.parametrize("k", generators.INTERMEDIARIES)
def test_white_noise_dijkstra_is_optimal(k):
    solved = _solved(f"white-noise-{k:02d}")
    assert solved.dijkstra_fidelity == pytest.approx(solved.fidelity, abs=1e-12)


@pytest.mark.parametrize("k", generators.INTERMEDIARIES)
def test_amplitude_damping_must_be_crossed_and_cancelled(k):
    spec, scenario, fidelity, optimal, dijkstra_fidelity = _solved(f"amplitude-damping-{k:02d}")
    at_bob = [e for e in spec["edges"] if scenario.bob in (e["u"], e["v"])]
    assert {e["state"]["kind"] for e in at_bob} == {"amplitude_damped"}  # no way around
    assert optimal
    for route in optimal:
        thetas = [
            state["theta"] if forward else math.pi / 2 - state["theta"]
            for state, forward in _walked(spec, scenario, route)
            if state["kind"] == "amplitude_damped"
        ]
        assert len(thetas) == 2  # one crossed into Bob, one opposite that cancels it
        assert math.tan(thetas[0]) * math.tan(thetas[1]) == pytest.approx(1.0)
    assert dijkstra_fidelity < fidelity - 0.1


@pytest.mark.parametrize("k", generators.INTERMEDIARIES)
def test_phase_noise_first_hops_shifted_and_reversed(k):
    spec, scenario, fidelity, optimal, dijkstra_fidelity = _solved(f"phase-noise-{k:02d}")
    at_alice = [e for e in spec["edges"] if scenario.alice in (e["u"], e["v"])]
    assert {e["state"]["kind"] for e in at_alice} == {"phase_shifted"}
    assert all(e["u"] == scenario.alice for e in at_alice)  # +phi walking out of Alice
    assert optimal
    for route in optimal:
        phases = [
            state["phi"] if forward else -state["phi"]
            for state, forward in _walked(spec, scenario, route)
            if state["kind"] == "phase_shifted"
        ]
        assert phases[0] > 0 and any(p < 0 for p in phases)
        assert sum(phases) == pytest.approx(0.0, abs=1e-12)
    assert dijkstra_fidelity < fidelity - 0.1


def test_evolving_stages_break_the_previous_best_route():
    evolving = EvolvingScenario.load("evolving")
    assert evolving.num_stages == len(generators.EVOLVING_SCHEDULE) == 10
    previous = None
    for stage in evolving.stages:
        route, fidelity = best_route(stage)
        assert fidelity > generators.WORKING_FIDELITY
        if previous is not None:
            before, _ = core.route_fidelity(core.Network.compile(stage), previous)
            assert before < generators.WORKING_FIDELITY
        previous = route


def test_evolving_events_damage_with_every_noise_type_and_heal():
    events = [e for stage in _raw("evolving")["stages"] for e in stage["events"]]
    healthy = generators.healthy_state()
    assert {e["state"]["kind"] for e in events if e["state"] != healthy} == {
        "werner",
        "amplitude_damped",
        "phase_shifted",
    }
    assert any(e["state"] == healthy for e in events)


# --------------------------------------------------------------------- generator arguments
def test_family_generators_reject_impossible_lengths():
    with pytest.raises(ValueError, match="intermediaries"):
        generators.amplitude_damping().design(3)
    with pytest.raises(ValueError, match="intermediaries"):
        generators.white_noise().design(7)  # cumulative series: 6, 8, 10, ...
    with pytest.raises(ValueError, match="distance"):
        generators.NetworkLayout.clustered(distance=40)


def test_designed_route_is_the_oracle_optimum_on_a_fresh_seed():
    generator = generators.amplitude_damping(seed=7)
    designed = generator.design(8)
    scenario = designed.scenario()
    route, fidelity = best_route(scenario)
    designed_fidelity, _ = core.route_fidelity(core.Network.compile(scenario), designed.route)
    assert len(route) == len(designed.route) == 9
    assert designed_fidelity == pytest.approx(fidelity, abs=1e-12)


def test_ladder_layout():
    layout = generators.ladder_layout(3)
    assert (layout.alice, layout.bob) == (0, 2)
    assert len(layout.edges) == 7
    with pytest.raises(ValueError, match="length"):
        generators.ladder_layout(1)


# ------------------------------------------------------------------- scenario validation
def _diamond() -> dict[str, Any]:
    """A valid 4-node scenario to break one field at a time."""
    return {
        "nodes": 4,
        "edges": [
            {"u": 0, "v": 1, "state": {"kind": "werner", "fidelity": 0.9}},
            {"u": 1, "v": 2, "state": {"kind": "amplitude_damped", "theta": 0.3}},
            {"u": 3, "v": 2, "state": {"kind": "amplitude_damped", "theta": 0.3}},
            {"u": 1, "v": 3, "state": {"kind": "phase_shifted", "phi": 0.5}},
        ],
        "alice": 0,
        "bob": 3,
    }


def _with(path: tuple, value: Any, remove: bool = False) -> dict[str, Any]:
    data = copy.deepcopy(_diamond())
    target = data
    for key in path[:-1]:
        target = target[key]
    if remove:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


NOT_PSD = {
    "kind": "density_matrix",
    "real": np.diag([1.25, -0.25, 0, 0]).tolist(),
    "imag": [[0] * 4] * 4,
}
BAD_SCENARIOS = [
    pytest.param(
        _with(("edges", 0, "state", "kind"), "noisy"), r"edges\[0\]\.state\.kind", id="bad-kind"
    ),
    pytest.param(
        _with(("bob",), None, remove=True), "missing required field 'bob'", id="missing-bob"
    ),
    pytest.param(
        _with(("edges", 1, "state", "theta"), None, remove=True),
        r"edges\[1\]\.state .*missing \['theta'\]",
        id="missing-theta",
    ),
    pytest.param(
        _with(("edges", 0, "state", "fidelity"), 1.5),
        r"edges\[0\]\.state.*fidelity",
        id="fidelity-range",
    ),
    pytest.param(
        _with(("edges", 1, "state", "theta"), "wide"),
        r"edges\[1\]\.state\.theta must be a number",
        id="theta-type",
    ),
    pytest.param(
        _with(("swap_mode",), "teleport"), "'swap_mode' must be one of", id="bad-swap-mode"
    ),
    pytest.param(
        _with(("figure_of_merit",), "concurrence"),
        "'figure_of_merit' must be one of",
        id="bad-merit",
    ),
    pytest.param(
        _with(("alice",), 9), r"'alice' must be a node index in \[0, 3\]", id="alice-range"
    ),
    pytest.param(
        _with(("alice",), "Carol"),
        "'alice' must be a node index or one of the node names",
        id="alice-name",
    ),
    pytest.param(_with(("alice",), 3), "'alice' and 'bob' must differ", id="alice-is-bob"),
    pytest.param(
        _with(("edges", 2, "u"), 7), r"'edges\[2\]\.u' must be a node index", id="edge-endpoint"
    ),
    pytest.param(_with(("edges", 0, "v"), 0), "self-loops", id="self-loop"),
    pytest.param(
        _with(("edges", 3, "state"), NOT_PSD),
        r"edges\[3\]\.state.*positive semidefinite",
        id="not-psd",
    ),
    pytest.param(
        _with(("max_actions",), 0),
        r"'max_actions' must be an integer in \[1, 1000\]",
        id="max-actions",
    ),
    pytest.param(
        _with(("positions",), [[0.0, 0.0]]), "'positions' must be 4 pairs", id="positions"
    ),
    pytest.param(_with(("nodes",), ["a", "b", "a", "c"]), "repeated", id="duplicate-names"),
    pytest.param(
        _with(("colour",), "red"), r"unknown scenario field\(s\) \['colour'\]", id="unknown-field"
    ),
    pytest.param(_with(("edges",), []), "'edges' must be a non-empty list", id="no-edges"),
]


@pytest.mark.parametrize(("data", "message"), BAD_SCENARIOS)
def test_malformed_scenario_dicts_name_the_field(data, message):
    with pytest.raises(ScenarioError, match=message):
        Scenario.from_dict(data)


def test_degree_above_four_is_rejected():
    data = _diamond()
    data["nodes"] = 7
    data["edges"] += [
        {"u": 1, "v": k, "state": {"kind": "werner", "fidelity": 0.9}} for k in (4, 5)
    ]
    with pytest.raises(ScenarioError, match=r"nodes \['1'\] have more than 4 links"):
        Scenario.from_dict(data)


def test_malformed_files_name_the_file_and_the_field(tmp_path: Path):
    broken = tmp_path / "broken.toml"
    broken.write_text(
        'nodes = 2\nalice = 0\nbob = 1\nswap_mode = "sideways"\n'
        'edges = [{ u = 0, v = 1, state = { kind = "werner", fidelity = 0.9 } }]\n'
    )
    with pytest.raises(ScenarioError, match=r"broken\.toml: 'swap_mode' must be one of"):
        Scenario.load(broken)
    garbled = tmp_path / "garbled.toml"
    garbled.write_text("nodes = [\n")
    with pytest.raises(ScenarioError, match=r"garbled\.toml: not valid TOML"):
        Scenario.load(garbled)
    with pytest.raises(FileNotFoundError, match="shipped names"):
        Scenario.load("no-such-scenario")


# ------------------------------------------------------------------------- evolving files
def _evolving(stages: list[Any]) -> dict[str, Any]:
    return {**_diamond(), "name": "dia", "stages": stages}


def test_evolving_stages_apply_events_cumulatively():
    damp = {"kind": "werner", "fidelity": 0.6}
    evolving = EvolvingScenario.from_dict(
        _evolving(
            [
                {"events": []},
                {"description": "cut", "events": [{"u": 0, "v": 1, "state": damp}]},
                {"events": [{"u": 2, "v": 3, "state": {"kind": "amplitude_damped", "theta": 0.1}}]},
            ]
        )
    )
    base = Scenario.from_dict(_diamond())
    first, second, third = evolving.stages
    np.testing.assert_allclose(first.states, base.states)
    np.testing.assert_allclose(second.states[0], werner(0.6))
    np.testing.assert_allclose(second.states[1:], base.states[1:])
    np.testing.assert_allclose(third.states[0], werner(0.6))  # kept from stage 1
    # Edge 2 is stored as (3, 2): the event written from 2 is stored reversed.
    np.testing.assert_allclose(third.states[2], reverse(amplitude_damped(0.1)))
    assert [s.name for s in evolving.stages] == ["dia/stage-0", "dia/stage-1", "dia/stage-2"]
    assert second.description == "cut"


BAD_STAGES = [
    pytest.param([], "'stages' must be a non-empty list", id="no-stages"),
    pytest.param(
        [{"events": []}, {}], r"stages\[1\]: missing required field 'events'", id="no-events"
    ),
    pytest.param(
        [{"events": [], "when": 3}], r"stages\[0\]: unknown field\(s\) \['when'\]", id="unknown-key"
    ),
    pytest.param(
        [
            {"events": []},
            {"events": [{"u": 0, "v": 2, "state": {"kind": "werner", "fidelity": 0.6}}]},
        ],
        r"stages\[1\]\.events\[0\]: \(0, 2\) is not a link",
        id="not-a-link",
    ),
    pytest.param(
        [
            {
                "events": [
                    {"u": 0, "v": 1, "state": {"kind": "werner", "fidelity": 0.6}},
                    {"u": 0, "v": 9, "state": {"kind": "werner", "fidelity": 0.6}},
                ]
            }
        ],
        r"stages\[0\]\.events\[1\]\.v' must be a node index",
        id="bad-node",
    ),
    pytest.param(
        [{"events": [{"u": 0, "v": 1, "state": {"kind": "gaussian"}}]}],
        r"stages\[0\]\.events\[0\]\.state\.kind must be one of",
        id="bad-kind",
    ),
    pytest.param(
        [{"events": [{"u": 0, "v": 1}]}],
        r"stages\[0\]\.events\[0\] must have exactly the keys",
        id="missing-state",
    ),
    pytest.param(
        [{"events": {"u": 0}}], r"stages\[0\]\.events must be a list", id="events-not-list"
    ),
]


@pytest.mark.parametrize(("stages", "message"), BAD_STAGES)
def test_malformed_evolving_stages_name_the_field(stages, message):
    with pytest.raises(ScenarioError, match=message):
        EvolvingScenario.from_dict(_evolving(stages))


def test_evolving_base_is_validated_like_a_scenario(tmp_path: Path):
    with pytest.raises(ScenarioError, match="missing required field 'stages'"):
        EvolvingScenario.from_dict(_diamond())
    bad = _evolving([{"events": []}])
    bad["swap_mode"] = "sideways"
    with pytest.raises(ScenarioError, match="'swap_mode' must be one of"):
        EvolvingScenario.from_dict(bad)
    path = tmp_path / "evo.toml"
    path.write_text(
        "nodes = 2\nalice = 0\nbob = 1\n"
        'edges = [{ u = 0, v = 1, state = { kind = "werner", fidelity = 0.9 } }]\n'
        '[[stages]]\nevents = [{ u = 1, v = 0, state = { kind = "phase_shifted", phi = 1.0 } }]\n'
        '[[stages]]\nevents = [{ u = 1, v = 1, state = { kind = "werner", fidelity = 0.5 } }]\n'
    )
    with pytest.raises(
        ScenarioError, match=r"evo\.toml: stages\[1\]\.events\[0\]: \(1, 1\) is not"
    ):
        EvolvingScenario.load(path)
