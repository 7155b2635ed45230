"""Recurrence distillation: closed forms against density matrices and an independent QuTiP model."""

from __future__ import annotations

import numpy as np
import pytest
import qutip
from hypothesis import given, settings
from hypothesis import strategies as st
from qutip.core import gates

from qnet_envs.physics import bell_diagonal, singlet_fidelity, werner
from qnet_envs.physics.distillation import (
    DEJMPS_BELL_BASIS,
    PROTOCOLS,
    bbpssw,
    bbpssw_state,
    dejmps,
    dejmps_coefficients,
    dejmps_state,
    distillation_schedule,
    recurrence_round,
    werner_twirl,
)
from qnet_envs.physics.states import PAULIS, projector
from qnet_envs.physics.validation import validate_density_matrix

ATOL = 1e-10
FAST = settings(max_examples=25, deadline=None)

fidelities = st.floats(0.0, 1.0)
weights = st.tuples(*[st.floats(0.0, 1.0)] * 4).filter(lambda w: sum(w) > 1e-3)
seeds = st.integers(0, 2**32 - 1)


def _normalised(w: tuple[float, ...]) -> np.ndarray:
    array = np.asarray(w, dtype=np.float64)
    return array / array.sum()


def _dejmps_state(w: np.ndarray) -> np.ndarray:
    """Bell-diagonal state in the DEJMPS labelling, built independently of ``bell_diagonal``."""
    return sum(wk * projector(v) for wk, v in zip(w, DEJMPS_BELL_BASIS, strict=True))


def _random_density_matrix(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    g = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho = g @ g.conj().T
    return rho / np.trace(rho)


# --- independent QuTiP model of one round, qubit order (a1, b1, a2, b2) -------------------------

_DIMS = [2, 2, 2, 2]


def _on(op: qutip.Qobj, *targets: int) -> qutip.Qobj:
    return qutip.expand_operator(op, dims=_DIMS, targets=list(targets))


def _qutip_round(rho1: np.ndarray, rho2: np.ndarray, protocol: str) -> tuple[np.ndarray, float]:
    pair_dims = [[2, 2], [2, 2]]
    q1, q2 = qutip.Qobj(rho1, dims=pair_dims), qutip.Qobj(rho2, dims=pair_dims)
    if protocol == "bbpssw":
        q1, q2 = _qutip_twirl(q1), _qutip_twirl(q2)
    state = qutip.tensor(q1, q2)
    ops = [_on(qutip.sigmay(), 1), _on(qutip.sigmay(), 3)]  # |psi-> -> |phi+> frame
    if protocol == "dejmps":
        half = np.pi / 2
        ops += [_on(gates.rx(half), 0), _on(gates.rx(half), 2)]
        ops += [_on(gates.rx(-half), 1), _on(gates.rx(-half), 3)]
    ops += [_on(gates.cnot(), 0, 2), _on(gates.cnot(), 1, 3)]
    for op in ops:
        state = op * state * op.dag()
    kept = 0 * state
    for m in (0, 1):
        bit = qutip.basis(2, m).proj()
        proj = qutip.tensor(qutip.qeye(2), qutip.qeye(2), bit, bit)
        kept = kept + proj * state * proj
    probability = kept.tr().real
    out = kept.ptrace([0, 1]) / probability
    frame = qutip.tensor(qutip.qeye(2), qutip.sigmay())
    out = frame * out * frame.dag()
    if protocol == "bbpssw":
        out = _qutip_twirl(out)
    return out.full(), probability


def _qutip_twirl(rho: qutip.Qobj) -> qutip.Qobj:
    """Average over ``U x U`` for the 24-element single-qubit Clifford group."""
    group = list(gates.qubit_clifford_group())
    total = 0 * rho
    for u in group:
        uu = qutip.tensor(u, u)
        total = total + uu * rho * uu.dag()
    return total / len(group)


# --- closed forms against the density-matrix implementation ------------------------------------


@FAST
@given(fidelities)
def test_bbpssw_closed_form_matches_state_level(f: float) -> None:
    f_out, p = bbpssw(f)
    rho, p_state = bbpssw_state(werner(f), werner(f))
    np.testing.assert_allclose(rho, werner(f_out), atol=ATOL)
    np.testing.assert_allclose(p_state, p, atol=ATOL)


@FAST
@given(weights)
def test_dejmps_closed_form_matches_state_level(w: tuple[float, ...]) -> None:
    w = _normalised(w)
    w_out, p = dejmps(w)
    rho = _dejmps_state(w)
    rho_out, p_state = dejmps_state(rho, rho)
    np.testing.assert_allclose(rho_out, _dejmps_state(w_out), atol=ATOL)
    np.testing.assert_allclose(p_state, p, atol=ATOL)
    np.testing.assert_allclose(dejmps_coefficients(rho_out), w_out, atol=ATOL)


# --- against QuTiP -----------------------------------------------------------------------------


@FAST
@given(fidelities)
def test_bbpssw_closed_form_matches_qutip(f: float) -> None:
    f_out, p = bbpssw(f)
    rho, p_ref = _qutip_round(werner(f), werner(f), "bbpssw")
    np.testing.assert_allclose(rho, werner(f_out), atol=ATOL)
    np.testing.assert_allclose(p, p_ref, atol=ATOL)


@FAST
@given(weights)
def test_dejmps_closed_form_matches_qutip(w: tuple[float, ...]) -> None:
    w = _normalised(w)
    w_out, p = dejmps(w)
    rho, p_ref = _qutip_round(_dejmps_state(w), _dejmps_state(w), "dejmps")
    np.testing.assert_allclose(rho, _dejmps_state(w_out), atol=ATOL)
    np.testing.assert_allclose(p, p_ref, atol=ATOL)


@settings(max_examples=15, deadline=None)
@given(seeds, seeds, st.sampled_from(PROTOCOLS))
def test_state_level_matches_qutip_on_general_states(s1: int, s2: int, protocol: str) -> None:
    rho1, rho2 = _random_density_matrix(s1), _random_density_matrix(s2)
    out, p = recurrence_round(rho1, rho2, protocol)
    out_ref, p_ref = _qutip_round(rho1, rho2, protocol)
    np.testing.assert_allclose(out, out_ref, atol=ATOL)
    np.testing.assert_allclose(p, p_ref, atol=ATOL)


# --- invariants --------------------------------------------------------------------------------


@FAST
@given(seeds, seeds, st.sampled_from(PROTOCOLS))
def test_state_level_output_is_a_density_matrix(s1: int, s2: int, protocol: str) -> None:
    out, p = recurrence_round(_random_density_matrix(s1), _random_density_matrix(s2), protocol)
    validate_density_matrix(out, atol=1e-10)
    assert 0.0 <= float(p) <= 1.0


@FAST
@given(weights)
def test_dejmps_output_is_a_distribution(w: tuple[float, ...]) -> None:
    w_out, p = dejmps(_normalised(w))
    assert np.all(w_out >= 0.0)
    assert abs(w_out.sum() - 1.0) < 1e-12
    assert 0.5 - 1e-12 <= float(p) <= 1.0 + 1e-12


@FAST
@given(fidelities)
def test_bbpssw_output_ranges(f: float) -> None:
    f_out, p = bbpssw(f)
    assert 0.0 <= float(f_out) <= 1.0
    assert 0.0 < float(p) <= 1.0 + 1e-15


def test_zero_probability_round_returns_mixed_state() -> None:
    # Undo the documented DEJMPS local operations so the target lands on |01>: never coincident.
    rx_plus = (PAULIS[0] - 1j * PAULIS[1]) / np.sqrt(2.0)
    rx_minus = (PAULIS[0] + 1j * PAULIS[1]) / np.sqrt(2.0)
    pre = np.kron(rx_plus, rx_minus) @ np.kron(PAULIS[0], PAULIS[2])
    source = pre.conj().T @ np.diag([1.0, 0, 0, 0]) @ pre
    target = pre.conj().T @ np.diag([0, 1.0, 0, 0]) @ pre
    out, p = dejmps_state(source, target)
    assert float(p) == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(out, np.eye(4) / 4.0)


def test_werner_twirl_gives_werner_of_equal_fidelity() -> None:
    rho = np.stack([_random_density_matrix(seed) for seed in range(5)])
    np.testing.assert_allclose(werner_twirl(rho), werner(singlet_fidelity(rho)), atol=ATOL)


# --- known values ------------------------------------------------------------------------------


@FAST
@given(st.floats(0.25, 1.0).filter(lambda f: min(abs(f - 0.25), abs(f - 0.5), 1.0 - f) > 1e-6))
def test_bbpssw_improves_iff_fidelity_above_half(f: float) -> None:
    f_out, _ = bbpssw(f)
    assert (float(f_out) > f) == (f > 0.5)


@FAST
@given(st.floats(0.0, 0.25 - 1e-6))
def test_bbpssw_rises_towards_quarter_below_it(f: float) -> None:
    f_out, _ = bbpssw(f)
    assert f < float(f_out) < 0.25


def test_bbpssw_fixed_points_and_values() -> None:
    f_out, p = bbpssw([0.25, 0.5, 1.0, 0.0])
    np.testing.assert_allclose(f_out, [0.25, 0.5, 1.0, 0.2], atol=1e-15)
    np.testing.assert_allclose(p, [0.5, 5.0 / 9.0, 1.0, 5.0 / 9.0], atol=1e-15)


def test_dejmps_fixed_point_at_a_equal_one() -> None:
    w_out, p = dejmps([1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(w_out, [1.0, 0.0, 0.0, 0.0])
    assert float(p) == 1.0


def test_dejmps_on_werner_matches_bbpssw_first_round() -> None:
    f = np.linspace(0.3, 1.0, 8)
    q = (1.0 - f) / 3.0
    w_out, p = dejmps(np.stack([f, q, q, q], axis=-1))
    f_bb, p_bb = bbpssw(f)
    np.testing.assert_allclose(w_out[:, 0], f_bb, atol=1e-14)
    np.testing.assert_allclose(p, p_bb, atol=1e-14)


def test_dejmps_beats_bbpssw_after_two_rounds() -> None:
    schedule_d = distillation_schedule(0.7, 0.999, "dejmps", max_rounds=64)
    schedule_b = distillation_schedule(0.7, 0.999, "bbpssw", max_rounds=64)
    assert schedule_d.fidelities[1] > schedule_b.fidelities[1]
    assert schedule_d.rounds < schedule_b.rounds


def test_bell_diagonal_uses_the_dejmps_labelling() -> None:
    w = np.array([0.4, 0.3, 0.2, 0.1])
    np.testing.assert_allclose(bell_diagonal(w), _dejmps_state(w), atol=1e-15)


# --- batching ----------------------------------------------------------------------------------


def test_batched_inputs_match_one_by_one() -> None:
    rng = np.random.default_rng(7)
    w = rng.dirichlet(np.ones(4), size=(3, 2))
    w_out, p = dejmps(w)
    assert w_out.shape == (3, 2, 4) and p.shape == (3, 2)
    rho = np.stack([_random_density_matrix(s) for s in range(6)]).reshape(3, 2, 4, 4)
    for protocol in PROTOCOLS:
        out, p_state = recurrence_round(rho, rho[::-1], protocol)
        assert out.shape == (3, 2, 4, 4) and p_state.shape == (3, 2)
        for i, j in np.ndindex(3, 2):
            np.testing.assert_allclose(dejmps(w[i, j])[0], w_out[i, j], atol=1e-15)
            one, p_one = recurrence_round(rho[i, j], rho[2 - i, j], protocol)
            np.testing.assert_allclose(out[i, j], one, atol=1e-14)
            np.testing.assert_allclose(p_state[i, j], p_one, atol=1e-14)


# --- schedule ----------------------------------------------------------------------------------


@FAST
@given(
    st.floats(0.55, 1.0),
    st.floats(0.0, 0.999),
    st.sampled_from(PROTOCOLS),
)
def test_schedule_against_direct_recursion(f: float, target: float, protocol: str) -> None:
    schedule = distillation_schedule(f, target, protocol, max_rounds=64)
    fid, expected = f, 1.0
    w = np.array([f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3])
    for k in range(schedule.rounds):
        assert fid < target  # every round taken was needed
        if protocol == "bbpssw":
            fid, p = (float(x) for x in bbpssw(fid))
        else:
            w, p = dejmps(w)
            fid, p = float(w[0]), float(p)
        expected = 2.0 * expected / p
        assert schedule.fidelities[k] == pytest.approx(fid, abs=1e-12)
        assert schedule.success_probabilities[k] == pytest.approx(p, abs=1e-12)
        assert schedule.expected_pairs[k] == pytest.approx(expected, rel=1e-12)
    assert schedule.final_fidelity >= target
    assert schedule.raw_pairs_per_output == pytest.approx(expected, rel=1e-12)
    assert schedule.raw_pairs_per_output >= 2.0**schedule.rounds


def test_schedule_known_counts() -> None:
    schedule = distillation_schedule(0.8, 0.8381, "bbpssw")
    assert schedule.rounds == 1
    assert schedule.raw_pairs_per_output == pytest.approx(2.0 / (0.64 + 0.32 / 3 + 5 / 225))
    done = distillation_schedule(0.9, 0.85)
    assert (done.rounds, done.fidelities, done.raw_pairs_per_output) == (0, (), 1.0)
    assert done.final_fidelity == 0.9


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"fidelity": 0.5, "target_fidelity": 0.6}, r"fidelity must lie in \(0\.5, 1\]"),
        ({"fidelity": 0.9, "target_fidelity": 1.0}, r"target_fidelity must lie in \[0, 1\)"),
        ({"fidelity": 1.2, "target_fidelity": 0.9}, r"fidelity must lie in \[0\.0, 1\.0\]"),
        ({"fidelity": 0.9, "target_fidelity": -0.1}, r"target_fidelity must lie in"),
        ({"fidelity": float("nan"), "target_fidelity": 0.9}, r"fidelity must be finite"),
        ({"fidelity": 0.6, "target_fidelity": 0.99, "max_rounds": 2}, r"max_rounds=2"),
        ({"fidelity": 0.6, "target_fidelity": 0.9, "max_rounds": -1}, r"max_rounds must be"),
        ({"fidelity": 0.6, "target_fidelity": 0.9, "max_rounds": 2.5}, r"max_rounds must be"),
        ({"fidelity": 0.6, "target_fidelity": 0.9, "protocol": "x"}, r"protocol must be one of"),
        ({"fidelity": [0.6, 0.7], "target_fidelity": 0.9}, r"fidelity must be a scalar"),
    ],
)
def test_schedule_errors(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        distillation_schedule(**kwargs)


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: bbpssw(1.1), r"fidelity must lie in \[0\.0, 1\.0\]"),
        (lambda: bbpssw([0.9, -0.1]), r"fidelity must lie in"),
        (lambda: bbpssw(float("inf")), r"fidelity must be finite"),
        (lambda: dejmps([0.5, 0.5, 0.5, -0.5]), r"coefficients must lie in \[0\.0, 1\.0\]"),
        (lambda: dejmps([0.5, 0.2, 0.2, 0.2]), r"coefficients must sum to 1"),
        (lambda: dejmps([0.5, 0.5, 0.0]), r"last axis of length 4"),
        (lambda: dejmps([np.nan, 0.5, 0.5, 0.0]), r"coefficients must be finite"),
        (lambda: recurrence_round(np.eye(2), np.eye(4) / 4), r"rho1 must have shape"),
        (lambda: recurrence_round(np.eye(4) / 4, np.full((4, 4), np.nan)), r"rho2 must have"),
        (lambda: recurrence_round(np.eye(4) / 4, np.eye(4) / 4, "x"), r"protocol must be one"),
    ],
)
def test_validation_errors(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
