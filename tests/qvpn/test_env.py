"""The qVPN PettingZoo env: action decoding, rewards, observations, errors, determinism.

The registry-wide PettingZoo API and seed tests run on it from ``tests/test_registry.py``.
"""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest

from qnet_envs.qvpn import core
from qnet_envs.qvpn.env import QVPNParallelEnv, parallel_env
from qnet_envs.qvpn.lp import solve_lp


@pytest.fixture(scope="module")
def env() -> QVPNParallelEnv:
    return parallel_env(instance="tiny")


def _action(env: QVPNParallelEnv, org: int, picks: dict[tuple[int, int], int]) -> np.ndarray:
    """An action of ``org`` with ``picks[(pair row, slot)] = value`` and every other slot 0."""
    action = np.zeros(env.layout.slots, dtype=np.int64)
    for (row, slot), value in picks.items():
        action[row * env.instance.max_paths + slot] = value
    return action


def _all_selections(instance):
    """Every selection of the instance (each pair: any subset of at most max_paths versions)."""
    counts = np.diff(instance.versions.pair_offsets)
    per_pair = []
    for n in counts:
        rows = []
        for size in range(instance.max_paths + 1):
            for combo in itertools.combinations(range(int(n)), size):
                rows.append(list(combo) + [-1] * (instance.max_paths - size))
        per_pair.append(rows)
    for rows in itertools.product(*per_pair):
        yield np.array(rows, dtype=np.int64)


def test_decode_maps_values_to_local_versions_and_counts_invalid_slots(env):
    layout = env.layout
    counts = (layout.version_index >= 0).sum(axis=1)
    pairs0 = layout.org_pairs[0]
    too_big = int(counts[pairs0[0]]) + 1  # one past the last offered version
    actions = [
        _action(env, 0, {(0, 0): 1, (0, 1): too_big, (1, 0): 2}),
        _action(env, 1, {(0, 1): 1, (1, 0): 1}),  # row 1 of org 1 is padding
    ]
    selection, invalid = core.decode(layout, actions)
    offsets = env.instance.versions.pair_offsets

    def local(pair: int, offered: int) -> int:
        return int(layout.version_index[pair, offered] - offsets[pair])

    assert selection[pairs0[0]].tolist() == [local(pairs0[0], 0), -1]
    assert selection[pairs0[1]].tolist() == [local(pairs0[1], 1), -1]
    assert selection[layout.org_pairs[1][0]].tolist() == [-1, local(layout.org_pairs[1][0], 0)]
    assert invalid.tolist() == [1, 1]


def test_feasible_round_rewards_are_each_org_weighted_rate_over_the_bound(env):
    layout = env.layout
    full = [layout.action_mask(k).sum(axis=1) - 1 for k in range(layout.n_orgs)]
    # every slot picks its last valid version: a selection that serves every pair
    actions = [np.where(n > 0, n, 0) for n in full]
    played = core.play_round(layout, actions)
    assert played.lp.feasible
    reward, weighted, penalty = core.rewards(
        layout, played, cooperative=False, infeasible_penalty=1.0
    )
    assert np.allclose(penalty, 0.0)
    assert reward.sum() == pytest.approx(played.lp.w_egr / layout.reward_scale)
    vt = env.instance.versions
    for k, pairs in enumerate(layout.org_pairs):
        mine = np.isin(vt.pair, pairs)
        expected = float((vt.coefficient * played.lp.rate)[mine].sum())
        assert weighted[k] == pytest.approx(expected / layout.reward_scale)
    shared, *_ = core.rewards(layout, played, cooperative=True, infeasible_penalty=1.0)
    assert np.allclose(shared, reward.sum())


def test_infeasible_round_penalises_each_org_by_its_share_of_shortfall(env):
    layout = env.layout
    nothing = [np.zeros(layout.slots, dtype=np.int64) for _ in range(layout.n_orgs)]
    played = core.play_round(layout, nothing)
    assert played.lp.status == "infeasible" and played.lp.w_egr == 0.0
    reward, weighted, penalty = core.rewards(
        layout, played, cooperative=False, infeasible_penalty=2.5
    )
    # nothing selected: every pair is short by its whole R_min, so each org's share is 1
    assert np.allclose(weighted, 0.0)
    assert np.allclose(penalty, -2.5)
    assert np.allclose(reward, -2.5)


def test_reward_scale_bounds_every_selection_of_the_tiny_instance(env):
    instance = env.instance
    best = max(solve_lp(instance, s).w_egr for s in _all_selections(instance))
    assert best > 0
    assert best <= env.layout.reward_scale * (1 + 1e-9)


def test_reduced_value_is_coefficient_minus_priced_link_costs(env):
    layout = env.layout
    actions = [np.where(layout.action_mask(k)[:, 1], 1, 0) for k in range(layout.n_orgs)]
    played = core.play_round(layout, actions)
    obs = core.observe(layout, 0, 1, played)
    n_glob, n_pair = len(core.GLOBAL_FEATURES), len(core.PAIR_FEATURES)
    n_ver = len(core.VERSION_FEATURES)
    start = n_glob + layout.max_pairs * n_pair
    rows = obs[start : start + layout.max_pairs * layout.max_versions * n_ver]
    rows = rows.reshape(layout.max_pairs, layout.max_versions, n_ver)
    vt = env.instance.versions
    for i, u in enumerate(layout.org_pairs[0]):
        for j in np.flatnonzero(layout.version_index[u] >= 0):
            v = int(layout.version_index[u, j])
            links, g = vt.links_of(v)
            priced = sum(played.lp.link_price[link] * gl for link, gl in zip(links, g, strict=True))
            assert rows[i, j, 10] == pytest.approx(vt.coefficient[v] - priced)
            assert rows[i, j, 8] == float(v in set(played.lp.selected.tolist()))
            assert rows[i, j, 9] == pytest.approx(played.lp.rate[v] / layout.rate_scale)
    assert np.all(rows[len(layout.org_pairs[0]) :] == 0.0)  # padding rows stay zero


def test_episode_runs_its_rounds_then_every_agent_terminates(env):
    obs, infos = env.reset(seed=3)
    assert set(obs) == set(env.possible_agents)
    for agent in env.possible_agents:
        assert env.observation_space(agent).contains(obs[agent])
        assert infos[agent]["action_mask"].shape == (env.layout.slots, env.layout.max_versions + 1)
        assert obs[agent][1] == 0.0  # no round played yet
    for played in range(1, env.layout.rounds + 1):
        actions = {a: env.action_space(a).sample() for a in env.agents}
        obs, rewards, terms, truncs, infos = env.step(actions)
        assert all(np.isfinite(r) for r in rewards.values())
        assert not any(truncs.values())
        assert all(terms.values()) == (played == env.layout.rounds)
        for agent, info in infos.items():
            assert info["rewards"]["weighted_rate"] + info["rewards"][
                "shortfall_penalty"
            ] == pytest.approx(rewards[agent])
    assert env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})


def test_state_has_the_documented_size_and_is_finite(env):
    env.reset(seed=0)
    assert env.state().shape == env.state_space.shape
    env.step({a: env.action_space(a).sample() for a in env.agents})
    assert np.all(np.isfinite(env.state()))


@pytest.mark.parametrize(
    ("make_action", "match"),
    [
        (lambda n: np.zeros(n + 1, dtype=np.int64), "shape"),
        (lambda n: np.full(n, 0.5), "integer"),
        (lambda n: np.full(n, -1, dtype=np.int64), r"values in \[-1, -1\] are out of range"),
        (
            lambda n: np.full(n, 10_000, dtype=np.int64),
            r"values in \[10000, 10000\] are out of range",
        ),
    ],
)
def test_malformed_actions_raise_naming_the_agent(env, make_action, match):
    env.reset(seed=0)
    actions = {a: env.action_space(a).sample() for a in env.agents}
    actions["org_0"] = make_action(env.layout.slots)
    with pytest.raises(ValueError, match=match) as error:
        env.step(actions)
    assert "org_0" in str(error.value)


def test_missing_agent_action_raises(env):
    env.reset(seed=0)
    with pytest.raises(ValueError, match="missing"):
        env.step({"org_0": env.action_space("org_0").sample()})


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rounds": 0}, "rounds"),
        ({"rounds": True}, "rounds"),
        ({"infeasible_penalty": -1.0}, "infeasible_penalty"),
        ({"infeasible_penalty": float("nan")}, "infeasible_penalty"),
        ({"cooperative": 1}, "cooperative"),
        ({"render_mode": "human"}, "render_mode"),
    ],
)
def test_bad_arguments_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        parallel_env(instance="tiny", **kwargs)


def test_spaces_are_cached_per_agent(env):
    for agent in env.possible_agents:
        assert env.action_space(agent) is env.action_space(agent)
        assert env.observation_space(agent) is env.observation_space(agent)


def test_pickle_round_trip_mid_episode():
    env = parallel_env(instance="tiny")
    env.reset(seed=1)
    env.step({a: env.action_space(a).sample() for a in env.agents})
    clone = pickle.loads(pickle.dumps(env))
    actions = {a: env.action_space(a).sample() for a in env.agents}
    first, second = env.step(actions), clone.step(actions)
    for a in env.possible_agents:
        np.testing.assert_array_equal(first[0][a], second[0][a])
        assert first[1][a] == second[1][a]


def test_rgb_array_render_is_an_image():
    env = parallel_env(instance="tiny", render_mode="rgb_array")
    env.reset(seed=0)
    env.step({a: env.action_space(a).sample() for a in env.agents})
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert frame.std() > 0  # something was drawn


def test_pruning_keeps_only_undominated_versions_and_the_best_selection():
    from qnet_envs.qvpn.milp import dominance_representatives

    pruned = parallel_env(instance="tiny").layout
    full = parallel_env(instance="tiny", prune_dominated=False).layout
    instance = pruned.instance
    rep = dominance_representatives(instance)
    offered = pruned.version_index[pruned.version_index >= 0]
    assert sorted(offered.tolist()) == np.flatnonzero(rep == np.arange(rep.size)).tolist()
    assert (full.version_index >= 0).sum() == instance.versions.n_total
    # the best selection over offered versions equals the best over all versions
    offsets = instance.versions.pair_offsets
    best_all = max(solve_lp(instance, s).w_egr for s in _all_selections(instance))
    best_offered = 0.0
    for s in _all_selections(instance):
        glob = np.where(s >= 0, s + offsets[:-1, None], -1)
        if np.all(np.isin(glob[glob >= 0], offered)):
            best_offered = max(best_offered, solve_lp(instance, s).w_egr)
    assert best_offered == pytest.approx(best_all)
