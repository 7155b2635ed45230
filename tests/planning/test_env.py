"""The planning env: PettingZoo and batched interfaces agree, rules, state, errors."""

from __future__ import annotations

import dataclasses
import pickle

import networkx as nx
import numpy as np
import pytest

from agents.baselines.planning import cheapest_paths, greedy_plan
from agents.marl.batched import BatchedParallelEnv, StackedParallelEnv
from qnet_envs.planning import batched_env, evaluate, parallel_env
from qnet_envs.planning.core import EDGE_FEATURES, GLOBAL_FEATURES


def _random_levels(env, rng, invalid: bool) -> np.ndarray:
    levels = rng.integers(0, env.layout.levels + 1, size=(env.n_agents, env.layout.k))
    return levels if invalid else levels * env.layout.slot_usable


def _parallel_trace(env, actions_per_step, seed):
    obs, infos = env.reset(seed=seed)
    trace = [
        (
            "reset",
            {a: o.tobytes() for a, o in obs.items()},
            {a: i["action_mask"].tobytes() for a, i in infos.items()},
        )
    ]
    for levels in actions_per_step:
        if not env.agents:
            obs, infos = env.reset()
            trace.append(("reset", {a: o.tobytes() for a, o in obs.items()}, None))
        actions = {a: levels[i] for i, a in enumerate(env.possible_agents) if a in env.agents}
        obs, rew, term, trunc, infos = env.step(actions)
        trace.append(
            (
                {a: o.tobytes() for a, o in obs.items()},
                rew,
                term,
                trunc,
                {
                    a: (i["satisfied"], i["invalid_slots"], i["action_mask"].tobytes())
                    for a, i in infos.items()
                },
            )
        )
    return trace


def _batched_trace(env, actions_per_step, seed):
    ids = env.agent_ids
    obs, info = env.reset(seed=seed)
    trace = [
        (
            "reset",
            {a: obs[i].tobytes() for i, a in enumerate(ids)},
            {a: info["action_mask"][i].tobytes() for i, a in enumerate(ids)},
        )
    ]
    done = False
    for levels in actions_per_step:
        if done:
            obs, info = env.reset()
            trace.append(("reset", {a: obs[i].tobytes() for i, a in enumerate(ids)}, None))
        obs, rew, term, trunc, info = env.step(levels)
        done = bool(np.all(term | trunc))
        trace.append(
            (
                {a: obs[i].tobytes() for i, a in enumerate(ids)},
                {a: float(rew[i]) for i, a in enumerate(ids)},
                {a: bool(term[i]) for i, a in enumerate(ids)},
                {a: bool(trunc[i]) for i, a in enumerate(ids)},
                {
                    a: (
                        float(info["satisfied"][i]),
                        int(info["invalid_slots"][i]),
                        info["action_mask"][i].tobytes(),
                    )
                    for i, a in enumerate(ids)
                },
            )
        )
    return trace


@pytest.mark.parametrize("name", ["tiny", "abilene"])
def test_pettingzoo_and_batched_give_identical_trajectories(name):
    reference = batched_env(instance=name, rounds=3)
    rng = np.random.default_rng(5)
    actions = [_random_levels(reference, rng, invalid=True) for _ in range(7)]  # 2+ episodes
    parallel = _parallel_trace(parallel_env(instance=name, rounds=3), actions, seed=11)
    batched = _batched_trace(batched_env(instance=name, rounds=3), actions, seed=11)
    assert parallel == batched


def test_batched_env_meets_the_trainer_protocol_and_matches_the_stacked_adapter():
    env = batched_env(instance="abilene")
    assert isinstance(env, BatchedParallelEnv)
    stacked = StackedParallelEnv(parallel_env(instance="abilene"))
    assert stacked.has_action_mask and env.has_action_mask
    assert stacked.action_space == env.action_space
    o1, i1 = env.reset(seed=0)
    o2, i2 = stacked.reset(seed=0)
    np.testing.assert_array_equal(o1, o2)
    np.testing.assert_array_equal(i1["action_mask"], i2["action_mask"])
    rng = np.random.default_rng(0)
    for _ in range(env.layout.rounds):
        levels = _random_levels(env, rng, invalid=False)
        a, b = env.step(levels), stacked.step(levels)
        for x, y in zip(a[:4], b[:4], strict=True):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(a[4]["active"], b[4]["active"])
        np.testing.assert_array_equal(env.state(), stacked.state())
    assert not a[4]["active"].any()


def test_greedy_split_scores_the_greedy_plan(abilene):
    env = batched_env(instance=abilene)
    env.reset()
    chosen = cheapest_paths(abilene)
    levels = np.zeros((env.n_agents, env.layout.k), dtype=np.int64)
    levels[np.arange(env.n_agents), abilene.paths.slot[chosen]] = env.layout.levels
    _, reward, *_, info = env.step(levels)
    greedy = evaluate(abilene, greedy_plan(abilene)[0])
    assert float(info["total_cost"]) == pytest.approx(greedy.total_cost, rel=1e-12)
    assert float(info["unmet"]) == 0.0
    assert float(info["imbalance"]) == pytest.approx(1.0)  # all on one path of >= 2
    expected = -(greedy.total_cost / env.layout.cost_scale + 0.1 * 1.0)
    np.testing.assert_allclose(reward, expected, rtol=1e-6)
    played = env.last_round
    np.testing.assert_array_equal(played.fibres, greedy_plan(abilene)[0].y)


def test_even_split_has_no_imbalance_and_half_split_leaves_half_unmet(tiny):
    env = batched_env(instance=tiny, levels=3)
    env.reset()
    usable = env.layout.slot_usable
    _, reward, *_, info = env.step(usable.astype(np.int64))  # 1/3 on each of 3 usable paths
    assert float(info["imbalance"]) == pytest.approx(0.0)
    assert float(info["unmet"]) == pytest.approx(0.0)
    half = batched_env(instance=tiny, levels=2)
    half.reset()
    levels = np.zeros((3, 3), dtype=np.int64)
    levels[:, 0] = 1  # half of every demand on its first path
    *_, info = half.step(levels)
    assert float(info["unmet"]) == pytest.approx(0.5)
    np.testing.assert_allclose(info["satisfied"], 0.5)


def test_invalid_slots_play_as_zero_and_are_counted(tiny):
    strict = dataclasses.replace(tiny, max_rounds=0)  # some paths become unusable
    env = batched_env(instance=strict)
    env.reset()
    usable = env.layout.slot_usable
    assert not usable.all()
    full = np.full((env.n_agents, env.layout.k), 2, dtype=np.int64)
    *_, info = env.step(full)
    np.testing.assert_array_equal(info["invalid_slots"], (~usable).sum(axis=1))
    np.testing.assert_array_equal(env.last_round.levels, np.where(usable, 2, 0))
    mask = info["action_mask"].reshape(env.n_agents, env.layout.k, -1)
    assert np.all(mask[usable]) and np.all(mask[~usable][:, 0]) and not mask[~usable][:, 1:].any()


def test_episode_ends_after_the_rounds_and_state_has_its_documented_size(tiny):
    env = parallel_env(instance=tiny, rounds=2, state_adjacency=True)
    obs, _ = env.reset(seed=0)
    n_edges = tiny.n_edges
    assert env.state().shape == (len(GLOBAL_FEATURES) + n_edges * len(EDGE_FEATURES) + n_edges**2,)
    assert env.state_space.contains(env.state())
    for _ in range(2):
        assert env.agents
        out = env.step({a: env.action_space(a).sample() for a in env.agents})
    assert env.agents == [] and all(out[2].values())
    with pytest.raises(RuntimeError, match="call reset"):
        env.step({})
    adjacency = env.state()[-(n_edges**2) :].reshape(n_edges, n_edges)
    np.testing.assert_array_equal(adjacency, env.batched.adjacency())


def test_line_graph_is_networkx_line_graph(abilene):
    env = batched_env(instance=abilene)
    ours = {tuple(p) for p in env.layout.line_graph.T.tolist()}
    edges = env.instance.edges
    index = {
        tuple(sorted((int(u), int(v)))): e
        for e, (u, v) in enumerate(zip(edges.u, edges.v, strict=True))
    }
    line = nx.line_graph(abilene.graph)
    expected = set()
    for a, b in line.edges():
        ea, eb = index[tuple(sorted(a))], index[tuple(sorted(b))]
        expected |= {(ea, eb), (eb, ea)}
    assert ours == expected
    graph = env.state_graph()
    assert graph["edge_features"].shape == (abilene.n_edges, len(EDGE_FEATURES))


def test_observations_are_finite_and_in_the_space(abilene):
    env = parallel_env(instance=abilene)
    obs, _ = env.reset(seed=1)
    rng = np.random.default_rng(1)
    while env.agents:
        for agent, o in obs.items():
            assert env.observation_space(agent).contains(o) and np.all(np.isfinite(o))
        levels = _random_levels(env.batched, rng, invalid=False)
        obs, rewards, *_ = env.step({a: levels[i] for i, a in enumerate(env.possible_agents)})
        assert all(np.isfinite(list(rewards.values())))


def test_pickle_mid_episode(tiny):
    env = parallel_env(instance=tiny, rounds=4)
    env.reset(seed=0)
    env.step({a: env.action_space(a).sample() for a in env.agents})
    clone = pickle.loads(pickle.dumps(env))
    actions = {a: env.action_space(a).sample() for a in env.agents}
    a, b = env.step(actions), clone.step(actions)
    assert a[1] == b[1]
    for agent in a[0]:
        np.testing.assert_array_equal(a[0][agent], b[0][agent])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"rounds": 0}, "rounds: 0 is out of range (allowed: an integer >= 1)"),
        ({"levels": 1.5}, "levels: 1.5 is not an integer (allowed: an integer >= 1)"),
        ({"unmet_penalty": -1.0}, "unmet_penalty: -1 is out of range (allowed: a number >= 0)"),
        (
            {"imbalance_penalty": float("nan")},
            "imbalance_penalty: nan is not a number (allowed: a number >= 0)",
        ),
        ({"instance": 3}, "instance: got int"),
        ({"render_mode": "human"}, "render_mode: got 'human' (allowed: None)"),
        ({"state_adjacency": 1}, "state_adjacency: got 1"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, message, tiny):
    kwargs = {"instance": tiny, **kwargs}
    with pytest.raises(ValueError) as info:
        parallel_env(**kwargs)
    assert message in str(info.value)


def test_bad_actions_name_the_agent(tiny):
    env = parallel_env(instance=tiny)
    env.reset()
    good = {a: np.zeros(3, dtype=np.int64) for a in env.agents}
    with pytest.raises(ValueError, match=r"actions\['demand_0'\]: got shape \(2,\)"):
        env.step({**good, "demand_0": np.zeros(2, dtype=np.int64)})
    with pytest.raises(ValueError, match=r"levels in \[0, 9\] \(allowed: \[0, 4\]\)"):
        env.step({**good, "demand_0": np.array([0, 9, 0])})
    with pytest.raises(ValueError, match="missing an action"):
        env.step({})
