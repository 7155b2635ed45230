"""The batched interface: the example game's rules, PettingZoo compliance, and the stacking
adapter against the PettingZoo env it wraps, step for step."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from agents.marl.batched import BatchedParallelEnv, StackedParallelEnv, as_batched
from agents.marl.examples import DispersionGame, batched_env, parallel_env

from .toy_envs import MixedSpacesEnv, StaggeredEnv

GAMES = [
    {},
    {"action_masks": False, "rounds": 2},
    {"n_agents": 4, "n_slots": 2, "n_items": 2, "rounds": 3, "cooperative": False},
    {"n_agents": 2, "n_slots": 5, "n_items": 4, "rounds": 2, "forbidden_fraction": 0.5},
]


def test_rewards_by_hand() -> None:
    game = DispersionGame(n_agents=3, n_slots=2, n_items=2, forbidden_fraction=0.0)
    v = game.values[0]
    # slot 0: agents 0 and 1 collide on item 1, agent 2 alone on item 2; slot 1: only agent 0
    actions = np.array([[1, 2], [1, 0], [2, 0]])
    own = game.own_rewards(0, actions)
    np.testing.assert_allclose(own, [-0.5 + v[1, 1], -0.5, v[0, 1]], rtol=1e-6)
    np.testing.assert_allclose(game.rewards(0, actions), np.full(3, own.sum()), rtol=1e-6)


def test_forbidden_choice_costs_and_takes_nothing() -> None:
    game = DispersionGame(n_agents=2, n_slots=1, n_items=2, forbidden_fraction=0.6, layout_seed=3)
    forbidden = np.argwhere(game.forbidden[:, 0, :])
    assert len(forbidden)
    agent, item = forbidden[0]
    actions = np.zeros((2, 1), dtype=int)
    actions[agent, 0] = item + 1
    actions[1 - agent, 0] = item + 1
    own = game.own_rewards(0, actions)
    assert own[agent] == pytest.approx(-game.invalid_cost)
    other_ok = not game.forbidden[1 - agent, 0, item]
    assert own[1 - agent] == pytest.approx(game.values[0, 0, item] if other_ok else -1.0)
    mask = game.action_mask().reshape(2, 1, 3)
    assert mask[:, :, 0].all()
    np.testing.assert_array_equal(mask[:, :, 1:], ~game.forbidden)


def test_optimum_matches_full_enumeration() -> None:
    game = DispersionGame(n_agents=2, n_slots=2, n_items=2, rounds=2, forbidden_fraction=0.3)
    best = 0.0
    for round_ in range(game.rounds):
        values = []
        for flat in itertools.product(range(3), repeat=4):  # every joint action of a round
            actions = np.array(flat).reshape(2, 2)
            values.append(game.own_rewards(round_, actions).sum())
        best += max(values)
    assert game.optimum() == pytest.approx(best, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_agents": 0}, "n_agents"),
        ({"rounds": 1.5}, "rounds"),
        ({"collision_cost": -1.0}, "collision_cost"),
        ({"forbidden_fraction": 1.0}, "forbidden_fraction"),
    ],
)
def test_game_rejects_bad_fields(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        DispersionGame(**kwargs)


@pytest.mark.parametrize("kwargs", GAMES)
def test_example_env_passes_pettingzoo_tests(kwargs) -> None:
    parallel_api_test(parallel_env(**kwargs), num_cycles=20)
    parallel_seed_test(lambda: parallel_env(**kwargs))


def test_toy_env_passes_pettingzoo_tests() -> None:
    parallel_api_test(StaggeredEnv(4), num_cycles=20)
    parallel_seed_test(lambda: StaggeredEnv(4))


@pytest.mark.parametrize("kwargs", GAMES)
def test_stacked_equals_native_batched_env(kwargs) -> None:
    stacked, native = StackedParallelEnv(parallel_env(**kwargs)), batched_env(**kwargs)
    assert isinstance(native, BatchedParallelEnv)
    assert stacked.agent_ids == native.agent_ids
    assert stacked.action_space == native.action_space
    assert stacked.has_action_mask == native.has_action_mask == kwargs.get("action_masks", True)
    rng = np.random.default_rng(0)
    for episode in range(3):
        outs = [stacked.reset(seed=episode), native.reset(seed=episode)]
        for a, b in zip(*outs, strict=True):
            _assert_same(a, b)
        for _ in range(kwargs.get("rounds", 1)):
            actions = rng.integers(
                0,
                native.action_space.nvec,
                size=(len(native.agent_ids), len(native.action_space.nvec)),
            )
            for a, b in zip(stacked.step(actions), native.step(actions), strict=True):
                _assert_same(a, b)
        assert not stacked.env.agents


def _assert_same(a, b) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    else:
        np.testing.assert_array_equal(a, b)
        assert np.asarray(a).dtype == np.asarray(b).dtype


def test_stacked_matches_pettingzoo_step_for_step_with_departures() -> None:
    n = 4
    reference, stacked = StaggeredEnv(n), StackedParallelEnv(StaggeredEnv(n))
    assert stacked.nvec == (3,) and not stacked.has_action_mask
    obs_ref, _ = reference.reset(seed=7)
    obs, info = stacked.reset(seed=7)
    assert obs.shape == (n, 3) and obs.dtype == np.float32
    np.testing.assert_array_equal(obs, np.stack([obs_ref[a] for a in reference.possible_agents]))
    assert info["active"].all()
    rng = np.random.default_rng(1)
    gone: set[str] = set()
    for _ in range(n):
        actions = rng.integers(0, 3, size=n)
        live = list(reference.agents)
        o_ref, r_ref, term_ref, trunc_ref, _ = reference.step(
            {a: int(actions[i]) for i, a in enumerate(reference.possible_agents) if a in live}
        )
        o, r, term, trunc, info = stacked.step(actions)
        for i, agent in enumerate(reference.possible_agents):
            if agent in live:
                assert r[i] == r_ref[agent]
                assert term[i] == term_ref[agent] and trunc[i] == trunc_ref[agent]
            else:
                assert r[i] == 0.0 and term[i]  # a finished agent stays finished
            if agent in live:  # includes the final observation of an agent leaving now
                np.testing.assert_array_equal(o[i], o_ref[agent])
            else:
                np.testing.assert_array_equal(o[i], 0.0)
            assert info["active"][i] == (agent in reference.agents)
        gone |= set(live) - set(reference.agents)
        assert (term | trunc).sum() == len(gone)
    assert (term | trunc).all() and not reference.agents


def test_adapter_rejects_heterogeneous_or_unsupported_spaces() -> None:
    with pytest.raises(ValueError, match="different action spaces"):
        StackedParallelEnv(MixedSpacesEnv())
    with pytest.raises(ValueError, match="PettingZoo ParallelEnv or a BatchedParallelEnv"):
        as_batched(object())
    stacked = StackedParallelEnv(StaggeredEnv())
    stacked.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions must have shape \(3,\)"):
        stacked.step(np.zeros((3, 2), dtype=int))


def test_adapter_rejects_a_mask_of_the_wrong_size() -> None:
    class ShortMask(StaggeredEnv):
        def reset(self, seed=None, options=None):
            obs, infos = super().reset(seed, options)
            return obs, {a: {"action_mask": np.ones(2, bool)} for a in infos}

    with pytest.raises(ValueError, match=r"has 2 entries, expected sum\(nvec\) = 3"):
        StackedParallelEnv(ShortMask()).reset(seed=0)
