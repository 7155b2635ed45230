"""The gnn-transformer actor: GCN against a dense hand computation, shapes, size agnosticism,
permutation equivariance over a demand's slots, and the env's graph layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.marl.gnn import GCN, GNNTransformerActor, normalised_adjacency
from qnet_envs.planning import batched_env

pytestmark = pytest.mark.usefixtures("one_thread")


def random_line_graph(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    upper = np.triu(rng.random((n, n)) < p, 1)
    a = upper | upper.T
    return np.stack(np.nonzero(a)).astype(np.int64)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("layers", [1, 2, 4])
def test_gcn_equals_a_dense_hand_computation(seed: int, layers: int) -> None:
    rng = np.random.default_rng(seed)
    n, f, h, batch = int(rng.integers(3, 12)), 5, 6, 3
    pairs = random_line_graph(rng, n, 0.4)
    torch.manual_seed(seed)
    gcn = GCN(f, h, layers).double()
    x = rng.normal(size=(batch, n, f))
    # by hand: A + I, D = its row sums, A_hat = D^-1/2 (A + I) D^-1/2, H' = relu(A_hat H W + b)
    a = np.eye(n)
    a[pairs[0], pairs[1]] = 1.0
    d = a.sum(axis=1)
    a_hat = a / np.sqrt(np.outer(d, d))
    expected = x
    for linear in gcn.linears:
        w, b = linear.weight.detach().numpy(), linear.bias.detach().numpy()
        expected = np.maximum(a_hat @ expected @ w.T + b, 0.0)
    adjacency = normalised_adjacency(pairs, n, torch.float64)
    np.testing.assert_allclose(adjacency.to_dense().numpy(), a_hat, rtol=1e-6, atol=1e-7)
    got = gcn(torch.as_tensor(x), adjacency).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def rollout_inputs(env, rounds: int = 1, seed: int = 0):
    """Observation and state after ``rounds`` random rounds (loads are non-zero)."""
    rng = np.random.default_rng(seed)
    obs, _ = env.reset()
    for _ in range(rounds):
        levels = rng.integers(0, env.layout.levels + 1, (env.n_agents, env.layout.k))
        levels[~env.layout.slot_usable] = 0
        obs, *_ = env.step(levels)
    return torch.as_tensor(obs), torch.as_tensor(env.state())


def test_graph_layout_names_each_slots_path_edges() -> None:
    env = batched_env(instance="abilene")
    graph = env.graph_layout()
    paths, layout = env.instance.paths, env.layout
    slot, edge = graph["slot_edges"]
    for d in range(0, layout.n_agents, 7):
        for j in range(layout.k):
            p = layout.slot_path[d, j]
            want = [] if p < 0 else paths.edge_index[paths.edge_indptr[p] : paths.edge_indptr[p + 1]]
            assert sorted(edge[slot == d * layout.k + j].tolist()) == sorted(list(want))
    sizes = {name: int(np.prod(shape)) for name, shape in graph["observation"].items()}
    assert sum(sizes.values()) == env.observation_space.shape[0]
    state_size = sum(int(np.prod(shape)) for shape in graph["state"].values())
    assert state_size == env.state_space.shape[0]
    np.testing.assert_array_equal(graph["line_graph"], layout.line_graph)


def test_shapes_and_the_same_weights_on_two_topologies() -> None:
    small, large = batched_env(instance="tiny"), batched_env(instance="abilene")
    torch.manual_seed(0)
    net = GNNTransformerActor.for_layout(small.graph_layout(), hidden=16, gcn_layers=2, heads=2)
    other = GNNTransformerActor.for_layout(large.graph_layout(), hidden=16, gcn_layers=2, heads=2)
    other.load_state_dict(net.state_dict())  # strict: no weight depends on the topology
    for env, model in ((small, net), (large, other)):
        obs, state = rollout_inputs(env)
        n, k, choices = env.n_agents, env.layout.k, env.layout.levels + 1
        out = model(obs, state)
        assert out.shape == (n, k * choices)
        batch = model(obs.expand(3, *obs.shape), state.expand(3, *state.shape))
        assert batch.shape == (3, n, k * choices)
        torch.testing.assert_close(batch[1], out, rtol=1e-5, atol=1e-5)
        assert torch.isfinite(out).all()
    # one network re-pointed at the other topology gives what the copy built for it gives
    obs, state = rollout_inputs(large)
    net.set_graph(large.graph_layout())
    torch.testing.assert_close(net(obs, state), other(obs, state))
    # the edge features matter: the same observation with other loads gives other logits
    obs2, state2 = rollout_inputs(large, seed=1)
    assert not torch.allclose(net(obs, state), net(obs, state2))


def test_equivariant_to_reordering_a_demands_slots() -> None:
    env = batched_env(instance="abilene")
    graph = env.graph_layout()
    n, k, choices = env.n_agents, env.layout.k, env.layout.levels + 1
    obs, state = rollout_inputs(env)
    torch.manual_seed(1)
    net = GNNTransformerActor.for_layout(graph, hidden=16, gcn_layers=2, heads=2).eval()
    base = net(obs, state).reshape(n, k, choices)
    pi = np.array([2, 0, 1])  # old slot j moves to position pi[j]
    slot_block = slice(8, 8 + k * 8)
    slots = obs[:, slot_block].reshape(n, k, 8)
    moved = torch.empty_like(slots)
    moved[:, pi] = slots
    permuted_obs = obs.clone()
    permuted_obs[:, slot_block] = moved.reshape(n, -1)
    slot, edge = graph["slot_edges"]
    new_slot = (slot // k) * k + pi[slot % k]
    net.set_graph({**graph, "slot_edges": np.stack([new_slot, edge])})
    permuted = net(permuted_obs, state).reshape(n, k, choices)
    torch.testing.assert_close(permuted[:, pi], base, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(permuted, base)  # slots do differ


def test_a_layout_of_other_features_is_refused() -> None:
    graph = batched_env(instance="tiny").graph_layout()
    net = GNNTransformerActor.for_layout(graph, hidden=8, heads=2)
    wrong = {**graph, "levels": graph["levels"] + 1}
    with pytest.raises(ValueError, match="levels"):
        net.set_graph(wrong)
    with pytest.raises(ValueError, match="gcn_layers"):
        GCN(3, 4, 0)
