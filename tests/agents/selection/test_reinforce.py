"""REINFORCE selection (Alg. 1): learnability, the baseline and loss against hand computations,
determinism, decoding and input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.selection.problem import SelectionProblem
from agents.selection.reinforce import (
    AverageRewardBaseline,
    VersionPolicy,
    _greedy,
    policy_loss,
    reinforce_search,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize(
    ("policy", "learning_rate"),
    [("mlp", 1e-3), ("table", 1e-2)],
)
def test_reinforce_reaches_98_percent_of_a_tiny_optimum(tiny_lp, policy, learning_rate):
    problem, optimum = tiny_lp
    result = reinforce_search(
        problem, epochs=250, batch_size=16, policy=policy, learning_rate=learning_rate, seed=0
    )
    assert result.best_fitness >= 0.98 * optimum
    assert result.greedy_fitness >= 0.98 * optimum
    assert result.reward_mean[-20:].mean() > result.reward_mean[:20].mean()
    assert problem.fitness(result.greedy_selection) == pytest.approx(result.greedy_fitness)
    assert problem.fitness(result.best_selection) == pytest.approx(result.best_fitness)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reinforce_finds_the_penalised_optimum_that_random_search_misses(penalised, seed):
    """About 100,000 selections and a trap (a third version costs more than it brings): the
    policy samples the exact optimum within 2,400 samples; uniform sampling does not."""
    problem, optimum = penalised
    result = reinforce_search(problem, epochs=150, batch_size=16, learning_rate=3e-2, seed=seed)
    assert result.best_fitness == pytest.approx(optimum)
    rng = np.random.default_rng(seed)
    n = problem.n_versions
    draws = (rng.random((result.rewards.size, 5, 3)) * n[:, None]).astype(np.int64)
    uniform = [problem.fitness(np.where(n[:, None] > 0, d, -1)) for d in draws]
    assert max(uniform) < optimum - 1e-6


def test_stop_at_a_target_fitness(penalised):
    problem, optimum = penalised
    target = optimum - 1e-9
    result = reinforce_search(
        problem, epochs=2000, learning_rate=3e-2, target_fitness=target, seed=1
    )
    assert result.stop_reason == "target"
    assert 1 < result.epochs_run < 2000
    # The last epoch is the one that hit it, by a sample or by the greedy decode.
    assert max(result.reward_max[-1], result.greedy_history[-1]) >= target
    assert max(result.reward_max[:-1].max(), np.nanmax(result.greedy_history[:-1])) < target
    assert 0.0 <= result.time_to_target_s <= result.wall_time_s
    assert (
        reinforce_search(problem, epochs=1, seed=1, target_fitness=target).time_to_target_s is None
    )


def test_average_reward_baseline_by_hand():
    b = AverageRewardBaseline()
    for r in (1.0, 3.0):
        b.record("s", r)
    assert b("s") == 2.0
    b.record("t", 10.0)
    for r in (5.0, 7.0):
        b.record("s", r)
    assert b("s") == 4.0 and b("t") == 10.0
    assert (b.n, b.v) == ({"s": 4, "t": 1}, {"s": 16.0, "t": 10.0})
    with pytest.raises(KeyError, match="u"):
        b("u")


def _algorithm1_baselines(rewards_per_epoch: list[np.ndarray], state="s") -> list[float]:
    """Alg. 1 lines 2-15 as printed: ``n[s]++``; if ``s`` in ``v``: ``v[s] += r``,
    ``b = v[s]/n[s]``; else ``v[s] = r, n[s] = 1``. The update uses ``b(s)`` after the batch."""
    n: dict[str, int] = {}
    v: dict[str, float] = {}
    out = []
    for rewards in rewards_per_epoch:
        b = None
        for r in rewards:
            n[state] = n.get(state, 0) + 1
            if state in v:
                v[state] += r
                b = v[state] / n[state]
            else:
                v[state], n[state] = r, 1
                b = v[state] / n[state]
        out.append(b)
    return out


def test_training_uses_the_algorithm_1_baseline():
    """The b(s) of every epoch is Alg. 1's bookkeeping replayed on the run's own rewards."""
    problem = SelectionProblem(
        np.array([4, 3, 5]), 2, lambda s: float(((s + 2) * np.arange(1, 4)[:, None]).sum() % 7)
    )
    result = reinforce_search(problem, epochs=6, batch_size=4, seed=3)
    assert result.rewards.shape == (6, 4)
    assert len(set(result.rewards.ravel().tolist())) > 1
    assert result.baseline == pytest.approx(_algorithm1_baselines(list(result.rewards)))
    assert result.reward_mean == pytest.approx(result.rewards.mean(axis=1))
    assert result.reward_max == pytest.approx(result.rewards.max(axis=1))


def test_a_shared_baseline_carries_its_counters_across_runs():
    problem = SelectionProblem(np.array([3, 3]), 1, lambda s: float(s.sum()))
    shared = AverageRewardBaseline()
    first = reinforce_search(problem, epochs=3, batch_size=2, state="w", baseline=shared, seed=0)
    second = reinforce_search(problem, epochs=2, batch_size=2, state="w", baseline=shared, seed=1)
    both = np.concatenate([first.rewards, second.rewards])
    assert shared.n == {"w": 10}
    assert shared("w") == pytest.approx(both.mean())
    assert second.baseline == pytest.approx(_algorithm1_baselines(list(both))[3:])


def test_policy_loss_gradient_by_hand():
    """One pair of three versions, R = 2, batch of 2, a table policy at logits ``z``:
    ``d/dz log pi(a) = e_a - p`` and ``dH_u/dz = -p (log p + H_u)``."""
    z = torch.tensor([0.3, -0.2, 0.5], requires_grad=True)
    logp = torch.log_softmax(z, 0)[None, :]
    valid = torch.ones(1, 3, dtype=torch.bool)
    draws = torch.tensor([[[0, 2], [1, 1]]])  # (n_active=1, batch=2, R=2)
    advantage = np.array([1.5, -0.5])
    beta = 0.1
    loss, entropy = policy_loss(logp, valid, draws, advantage, beta)
    loss.backward()

    p = torch.softmax(z.detach(), 0).numpy()
    h = -(p * np.log(p)).sum()
    assert entropy.item() == pytest.approx(2 * h)
    grad_log = [np.eye(3)[0] + np.eye(3)[2] - 2 * p, 2 * np.eye(3)[1] - 2 * p]
    grad_h = 2 * (-p * (np.log(p) + h))
    expected = -(advantage[0] * grad_log[0] + advantage[1] * grad_log[1]) / 2 - beta * grad_h
    assert z.grad.numpy() == pytest.approx(expected, rel=1e-5, abs=1e-7)


def test_policy_masks_padding_and_pairs_without_versions():
    n = np.array([3, 0, 1, 5])
    features = np.random.default_rng(0).normal(size=(9, 4))
    problem = SelectionProblem(n, 2, lambda s: 0.0, version_features=features)
    for kind in ("mlp", "table"):
        logp = VersionPolicy(problem, kind, (8,))().detach()
        p = logp.exp().numpy()
        assert p.shape == (4, 5)
        assert p.sum(axis=1) == pytest.approx(np.ones(4))
        assert (p[0, 3:] == 0).all() and (p[2, 1:] == 0).all()
        assert p[2, 0] == pytest.approx(1.0)
        assert np.isfinite(logp.numpy()).all()


def test_greedy_takes_the_most_probable_versions():
    p = np.array([[0.1, 0.6, 0.3, 0.0], [1.0, 0.0, 0.0, 0.0], [0.2, 0.2, 0.5, 0.1]])
    logp = np.log(np.maximum(p, 1e-300))
    sel = _greedy(logp, np.array([3, 1, 4]), 2)
    assert sel.tolist() == [[1, 2], [0, -1], [2, 0]]


def test_a_seed_is_deterministic_and_seeds_differ(tiny_lp):
    problem, _ = tiny_lp
    runs = [reinforce_search(problem, epochs=15, batch_size=8, seed=s) for s in (4, 4, 5)]
    a, b, c = runs
    assert np.array_equal(a.reward_mean, b.reward_mean)
    assert np.array_equal(a.entropy, b.entropy)
    assert (a.best_selection == b.best_selection).all()
    assert (a.greedy_selection == b.greedy_selection).all()
    for pa, pb in zip(a.policy.parameters(), b.policy.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not np.array_equal(a.reward_mean, c.reward_mean)


def test_torch_threads_are_restored():
    torch.set_num_threads(2)
    problem = SelectionProblem(np.array([2, 2]), 1, lambda s: float(s.sum()))
    reinforce_search(problem, epochs=2, batch_size=2)
    assert torch.get_num_threads() == 2


def test_pairs_without_versions_get_empty_rows():
    problem = SelectionProblem(np.array([3, 0, 2]), 2, lambda s: float(s.max(initial=0)))
    result = reinforce_search(problem, epochs=5, batch_size=4, seed=0)
    assert (result.best_selection[1] == -1).all() and (result.greedy_selection[1] == -1).all()


def test_the_memo_counts_evaluations(counting):
    fit = counting(lambda s: float(s.sum()))
    problem = SelectionProblem(np.array([2, 2]), 1, fit)
    result = reinforce_search(problem, epochs=10, batch_size=8, greedy_every=None, seed=0)
    assert fit.calls == result.evaluations <= 4  # 4 distinct selections exist
    assert result.evaluations + result.cache_hits == 10 * 8 + 1  # + the final greedy decode
    assert np.isnan(result.greedy_history).all()


def test_the_greedy_decode_is_scored_every_greedy_every_epochs():
    problem = SelectionProblem(np.array([3, 4]), 2, lambda s: float((s + 1).sum()))
    result = reinforce_search(problem, epochs=9, batch_size=4, greedy_every=3, seed=0)
    scored = ~np.isnan(result.greedy_history)
    assert scored.tolist() == [False, False, True] * 3
    assert result.evaluations + result.cache_hits == 9 * 4 + 3 + 1
    assert result.best_fitness >= np.nanmax(result.greedy_history)
    assert result.greedy_history[-1] == result.greedy_fitness  # no update after the last one


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"epochs": -1}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"entropy_coef": -0.1}, "entropy_coef"),
        ({"policy": "cnn"}, "policy"),
        ({"policy": "mlp"}, "version_features"),
        ({"target_fitness": float("inf")}, "target_fitness"),
        ({"greedy_every": 0}, "greedy_every"),
    ],
)
def test_invalid_arguments_are_rejected(kwargs, field):
    problem = SelectionProblem(np.array([2, 2]), 1, lambda s: 0.0)
    with pytest.raises(ValueError, match=field):
        reinforce_search(problem, **kwargs)


def test_empty_hidden_layers_are_rejected():
    problem = SelectionProblem(np.array([2]), 1, lambda s: 0.0, version_features=np.ones((2, 1)))
    with pytest.raises(ValueError, match="hidden"):
        reinforce_search(problem, hidden=())
