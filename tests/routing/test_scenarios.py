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
import dataclasses
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
from qnet_envs.routing.scenario import SCENARIO_DIR, STATE_KINDS, Scenario, ScenarioError

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
    expected = {*FAMILY_FILES, "evolving", "evolving-maze", "default", "tiny"}
    assert set(SHIPPED) == expected
    # The names the package registry refers to.
    assert {
        "white-noise-06",
        "amplitude-damping-06",
        "phase-noise-06",
        "evolving",
        "evolving-maze",
    } <= expected


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


NODE = "(allowed: a node index in [0, 3] or one of the node names)"
DENSITY_MATRIX = "a two-qubit density matrix: finite, Hermitian, trace 1, positive semidefinite"
NOT_PSD = {
    "kind": "density_matrix",
    "real": np.diag([1.25, -0.25, 0, 0]).tolist(),
    "imag": [[0] * 4] * 4,
}
BAD_SCENARIOS = [
    pytest.param(
        _with(("edges", 0, "state", "kind"), "noisy"),
        f"edges[0].state.kind: unknown kind 'noisy' (allowed: {list(STATE_KINDS)})",
        id="bad-kind",
    ),
    pytest.param(
        _with(("bob",), None, remove=True), "bob: missing required field", id="missing-bob"
    ),
    pytest.param(
        _with(("edges", 1, "state", "theta"), None, remove=True),
        "edges[1].state: kind 'amplitude_damped': missing ['theta'] "
        "(allowed: exactly ['theta'] besides 'kind')",
        id="missing-theta",
    ),
    pytest.param(
        _with(("edges", 0, "state", "fidelity"), 1.5),
        "edges[0].state.fidelity: 1.5 is out of range (allowed: a number in [0, 1])",
        id="fidelity-range",
    ),
    pytest.param(
        _with(("edges", 0, "state", "fidelity"), np.float64(-0.2)),
        "edges[0].state.fidelity: -0.2 is out of range (allowed: a number in [0, 1])",
        id="numpy-fidelity-range",
    ),
    pytest.param(
        _with(("edges", 1, "state", "theta"), "wide"),
        "edges[1].state.theta: 'wide' is not a number (allowed: radians, a number in [0, pi/2])",
        id="theta-type",
    ),
    pytest.param(
        _with(("edges", 1, "state", "theta"), float("nan")),
        "edges[1].state.theta: nan is not finite (allowed: radians, a number in [0, pi/2])",
        id="theta-nan",
    ),
    pytest.param(
        _with(("edges", 3, "state", "phi"), 10**400),
        "edges[3].state.phi: inf is not finite (allowed: radians, a finite number)",
        id="phi-huge",
    ),
    pytest.param(
        _with(("swap_mode",), "teleport"),
        "swap_mode: got 'teleport' (allowed: ['postselected', 'deterministic'])",
        id="bad-swap-mode",
    ),
    pytest.param(
        _with(("figure_of_merit",), "concurrence"),
        "figure_of_merit: got 'concurrence' "
        "(allowed: ['singlet_fidelity', 'fully_entangled_fraction'])",
        id="bad-merit",
    ),
    pytest.param(_with(("alice",), 9), f"alice: 9 is not a node {NODE}", id="alice-range"),
    pytest.param(
        _with(("alice",), "Carol"), f"alice: 'Carol' is not a node {NODE}", id="alice-name"
    ),
    pytest.param(
        _with(("alice",), 3),
        "bob: equals alice (3) (allowed: a node other than alice)",
        id="alice-is-bob",
    ),
    pytest.param(_with(("edges", 2, "u"), 7), f"edges[2].u: 7 is not a node {NODE}", id="endpoint"),
    pytest.param(
        _with(("edges", 0, "v"), 0),
        "edges[0]: a self-loop at node 0 (allowed: u and v differ)",
        id="self-loop",
    ),
    pytest.param(
        _with(("edges", 3, "state"), NOT_PSD),
        "edges[3].state: not positive semidefinite, smallest eigenvalue -0.25 < -atol 1e-08 "
        f"(allowed: {DENSITY_MATRIX})",
        id="not-psd",
    ),
    pytest.param(
        _with(("edges", 3, "state"), {**NOT_PSD, "real": [[1, 2], [3, 4]]}),
        "edges[3].state.real: shape (2, 2) (allowed: a 4x4 array of real numbers)",
        id="matrix-shape",
    ),
    pytest.param(
        _with(("max_actions",), 0),
        "max_actions: 0 is out of range (allowed: an integer in [1, 1000])",
        id="max-actions",
    ),
    pytest.param(
        _with(("max_actions",), "15"),
        "max_actions: '15' is not an integer (allowed: an integer in [1, 1000])",
        id="max-actions-type",
    ),
    pytest.param(
        _with(("positions",), [[0.0, 0.0]]),
        "positions: shape (1, 2) (allowed: 4 pairs of finite numbers [x, y])",
        id="positions",
    ),
    pytest.param(
        _with(("nodes",), ["a", "b", "a", "c"]),
        "nodes: repeated names ['a'] (allowed: unique names)",
        id="duplicate-names",
    ),
    pytest.param(
        _with(("colour",), "red"),
        "scenario: unknown field(s) ['colour'] (allowed: ['alice', 'bob', 'description', "
        "'edges', 'figure_of_merit', 'max_actions', 'name', 'nodes', 'positions', 'swap_mode'])",
        id="unknown-field",
    ),
    pytest.param(
        _with(("edges",), []),
        "edges: got [] (allowed: a non-empty list of {u, v, state} tables)",
        id="no-edges",
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD_SCENARIOS)
def test_malformed_scenario_dicts_name_the_field(data, message):
    """The whole message: ``field: problem (allowed: ...)``, plain Python values, one prefix."""
    with pytest.raises(ScenarioError) as error:
        Scenario.from_dict(data)
    assert str(error.value) == message
    assert "array(" not in message and "np." not in message


# ----------------------------------------------- one validation, whatever the way in
def _bad_states(kind: str) -> np.ndarray:
    states = Scenario.load("tiny").states.copy()
    if kind == "nan":
        states[0, 0, 0] = np.nan
    elif kind == "non-hermitian":
        states[0, 0, 3] += 0.1
    elif kind == "trace-3":
        states[0] *= 3
    else:  # not PSD, but Hermitian with trace one
        states[0] = np.diag([1.25, -0.25, 0.0, 0.0])
    return states


BAD_STATE_PROBLEMS = {
    "nan": "1 entries are not finite (NaN or inf)",
    "non-hermitian": "not Hermitian, max |rho - rho^H| = 0.1 > atol 1e-08",
    "trace-3": "trace must be 1, got 3 (off by 2 > atol 1e-08)",
    "not-psd": "not positive semidefinite, smallest eigenvalue -0.25 < -atol 1e-08",
}
WAYS_IN = {
    "constructor": lambda base, states: Scenario(
        name="mine",
        node_names=base.node_names,
        edges=base.edges,
        states=states,
        alice=base.alice,
        bob=base.bob,
    ),
    "replace": lambda base, states: dataclasses.replace(base, states=states),
    "with_states": lambda base, states: base.with_states(states),
}


@pytest.mark.parametrize("way", sorted(WAYS_IN))
@pytest.mark.parametrize("kind", sorted(BAD_STATE_PROBLEMS))
def test_bad_link_states_are_rejected_however_the_scenario_is_made(kind, way):
    base = Scenario.load("tiny")
    with pytest.raises(ScenarioError) as error:
        WAYS_IN[way](base, _bad_states(kind))
    assert (
        str(error.value)
        == f"edges[0].state: {BAD_STATE_PROBLEMS[kind]} (allowed: {DENSITY_MATRIX})"
    )
    assert error.value.field == "edges[0].state"


def test_a_bad_density_matrix_in_a_file_names_the_file_and_the_edge(tmp_path: Path):
    data = _diamond()
    data["edges"][3]["state"] = NOT_PSD
    path = tmp_path / "psd.toml"
    path.write_text(_toml(data))
    with pytest.raises(ScenarioError) as error:
        Scenario.load(path)
    assert str(error.value) == (
        f"{path}: edges[3].state: not positive semidefinite, smallest eigenvalue -0.25 < -atol "
        f"1e-08 (allowed: {DENSITY_MATRIX})"
    )


def _toml(data: dict[str, Any]) -> str:
    """The few TOML shapes the diamond uses: scalars, and edges as inline tables."""

    def value(v: Any) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return f'"{v}"' if isinstance(v, str) else repr(v)

    return "".join(f"{key} = {value(v)}\n" for key, v in data.items())


def test_each_link_state_is_validated_once_on_load(monkeypatch, tmp_path: Path):
    import qnet_envs.routing.scenario as scenario_module

    calls = []
    real = scenario_module.validate_density_matrix

    def counting(rho, **kwargs):
        calls.append(kwargs["name"])
        return real(rho, **kwargs)

    monkeypatch.setattr(scenario_module, "validate_density_matrix", counting)
    data = _diamond()
    data["edges"][0]["state"] = {
        "kind": "density_matrix",
        "real": (np.eye(4) / 4).tolist(),
        "imag": [[0.0] * 4] * 4,
    }
    path = tmp_path / "once.toml"
    path.write_text(_toml(data))
    Scenario.load(path)
    assert calls == [f"edges[{i}].state" for i in range(4)]


def test_a_validated_scenario_is_a_read_only_copy_with_plain_values():
    base = Scenario.load("tiny")
    states = base.states.copy()
    scenario = dataclasses.replace(
        base, states=states, alice=np.int64(base.alice), max_actions=np.int32(9)
    )
    states[0] = np.nan  # the caller's array changes; the scenario does not
    assert np.all(np.isfinite(scenario.states))
    for array in (scenario.states, scenario.edges):
        assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        scenario.states[0, 0, 0] = 0.0
    assert type(scenario.alice) is int and type(scenario.max_actions) is int
    listed = dataclasses.replace(base, edges=base.edges.tolist(), states=base.states.tolist())
    np.testing.assert_array_equal(listed.edges, base.edges)
    assert listed.edges.dtype == np.int64 and listed.states.dtype == np.complex128


BAD_FIELDS = [
    ({"edges": np.array([[0.0, 1.0]])}, "edges: entries of dtype float64"),
    ({"node_names": ("a", "a", "b")}, "node_names: repeated names ['a'] (allowed: unique names)"),
    ({"alice": True}, "alice: True is not an integer"),
    ({"bob": np.int64(99)}, "bob: 99 is out of range (allowed: a node index in [0, 7])"),
    ({"name": None}, "name: got None (allowed: a string)"),
    ({"states": np.zeros((2, 4, 4))}, "states: shape (2, 4, 4) (allowed: shape (10, 4, 4))"),
]


@pytest.mark.parametrize(("change", "message"), BAD_FIELDS)
def test_constructor_fields_are_checked_like_the_dict_layout(change, message):
    with pytest.raises(ScenarioError) as error:
        dataclasses.replace(Scenario.load("tiny"), **change)
    assert str(error.value).startswith(message)


def test_an_evolving_scenario_built_in_code_is_validated():
    tiny = Scenario.load("tiny")
    with pytest.raises(ScenarioError, match=r"^stages: no stage \(allowed: at least one stage\)$"):
        EvolvingScenario(name="e", stages=())
    with pytest.raises(ScenarioError, match=r"^stages\[1\]: a str, not a Scenario"):
        EvolvingScenario(name="e", stages=(tiny, "tiny"))
    other = Scenario.load("default")
    with pytest.raises(ScenarioError, match=r"^stages\[1\]: other nodes, links, alice or bob"):
        EvolvingScenario(name="e", stages=(tiny, other))
    assert EvolvingScenario(name="e", stages=[tiny, tiny]).stages == (tiny, tiny)


def test_degree_above_four_is_rejected():
    data = _diamond()
    data["nodes"] = 7
    data["edges"] += [
        {"u": 1, "v": k, "state": {"kind": "werner", "fidelity": 0.9}} for k in (4, 5)
    ]
    with pytest.raises(ScenarioError, match=r"^edges: nodes \['1'\] have more than 4 links"):
        Scenario.from_dict(data)


def test_malformed_files_name_the_file_and_the_field(tmp_path: Path):
    broken = tmp_path / "broken.toml"
    broken.write_text(
        'nodes = 2\nalice = 0\nbob = 1\nswap_mode = "sideways"\n'
        'edges = [{ u = 0, v = 1, state = { kind = "werner", fidelity = 0.9 } }]\n'
    )
    with pytest.raises(ScenarioError, match=r"broken\.toml: swap_mode: got 'sideways' \(allowed"):
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
    pytest.param(
        [],
        "stages: got [] (allowed: a non-empty list of {events, description} tables)",
        id="no-stages",
    ),
    pytest.param(
        [{"events": []}, {}],
        "stages[1].events: missing required field (allowed: a list, possibly empty)",
        id="no-events",
    ),
    pytest.param(
        [{"events": [], "when": 3}],
        "stages[0]: unknown field(s) ['when'] (allowed: ['description', 'events'])",
        id="unknown-key",
    ),
    pytest.param(
        [
            {"events": []},
            {"events": [{"u": 0, "v": 2, "state": {"kind": "werner", "fidelity": 0.6}}]},
        ],
        "stages[1].events[0]: (0, 2) is not a link of the scenario "
        "(allowed: the two end nodes of exactly one existing link)",
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
        "stages[0].events[1].v: 9 is not a node "
        "(allowed: a node index in [0, 3] or one of the node names)",
        id="bad-node",
    ),
    pytest.param(
        [{"events": [{"u": 0, "v": 1, "state": {"kind": "gaussian"}}]}],
        f"stages[0].events[0].state.kind: unknown kind 'gaussian' (allowed: {list(STATE_KINDS)})",
        id="bad-kind",
    ),
    pytest.param(
        [{"events": [{"u": 0, "v": 1, "state": {"kind": "werner", "fidelity": -0.5}}]}],
        "stages[0].events[0].state.fidelity: -0.5 is out of range (allowed: a number in [0, 1])",
        id="fidelity-range",
    ),
    pytest.param(
        [{"events": []}, {"events": [{"u": 3, "v": 1, "state": NOT_PSD}]}],
        "stages[1].events[0].state: not positive semidefinite, smallest eigenvalue -0.25 < "
        f"-atol 1e-08 (allowed: {DENSITY_MATRIX})",
        id="event-not-psd",
    ),
    pytest.param(
        [{"events": [{"u": 0, "v": 1}]}],
        "stages[0].events[0]: got keys ['u', 'v'] (allowed: a table with exactly the keys u, v, "
        "state)",
        id="missing-state",
    ),
    pytest.param(
        [{"events": {"u": 0}}],
        "stages[0].events: got {'u': 0} (allowed: a list of {u, v, state} tables)",
        id="events-not-list",
    ),
]


@pytest.mark.parametrize(("stages", "message"), BAD_STAGES)
def test_malformed_evolving_stages_name_the_field(stages, message):
    with pytest.raises(ScenarioError) as error:
        EvolvingScenario.from_dict(_evolving(stages))
    assert str(error.value) == message


def test_evolving_base_is_validated_like_a_scenario(tmp_path: Path):
    with pytest.raises(ScenarioError, match=r"^stages: missing required field$"):
        EvolvingScenario.from_dict(_diamond())
    bad = _evolving([{"events": []}])
    bad["swap_mode"] = "sideways"
    with pytest.raises(ScenarioError, match=r"^swap_mode: got 'sideways'"):
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
