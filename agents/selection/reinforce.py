"""REINFORCE path-version selection, the qVPN paper's gradient-based scheme (Sec. III-B, Alg. 1).

Generic over :class:`agents.selection.problem.SelectionProblem`. A state is the list of user
pairs (one state for a fixed workload); an action is a selection; the reward is its fitness
(the W-EGR of the LP), memoised by canonical selection. Williams (1992) REINFORCE with the
paper's average-reward baseline per state and entropy bonus.

## Policy
Every version gets a logit; a softmax over each pair's own versions gives ``pi_u``. With
``version_features`` the logit is a shared MLP of the version's features (concatenated with its
pair's ``pair_features`` if given; every column standardised to zero mean and unit variance
over the versions), hidden layers ``hidden`` with LeakyReLU as in the paper; without features
(or ``policy="table"``) it is a free logit table, initialised at zero (uniform policy). The paper
scores all candidate paths with one network whose input is the list of pairs (a convolution of
128 filters, then 128 units); a per-version scorer is what lets one network serve any number
of pairs and versions.

## Action, Alg. 1 lines 7-10
Each pair draws ``R = max_slots`` versions independently from ``pi_u`` (with replacement;
repeats count once), so ``log pi(a^R|s) = sum_u sum_{i<=R} log pi_u(a_u^i)``, the paper's
product policy. Pairs without versions get an empty row and no term.

## Baseline, Alg. 1 lines 2-3 and 8-15
``n[s]`` counts the samples drawn from state ``s`` and ``v[s]`` sums their rewards, over the
whole run. After the batch's rewards are recorded, ``b(s) = v[s] / n[s]``: the average of every
reward seen from ``s`` so far, this batch included (the paper updates after the batch loop with
"the average reward of the state (computed at line 13)"). :class:`AverageRewardBaseline` is
that bookkeeping.

## Update, Alg. 1 lines 16-18
``loss = -mean_b[(r_b - b(s_b)) log pi(a_b|s_b)] - beta * H(pi(.|s))`` with
``H = R sum_u H(pi_u)`` the entropy of the product policy and ``beta = 0.1`` (the paper);
the paper sums over the batch instead of averaging, a constant factor. Adam, learning rate
``learning_rate`` (the paper: 1e-4 with a decay that its text contradicts; we default to 1e-3
with no decay, see ``docs/selection.md``).

## Decode and stopping
At the end the greedy selection takes each pair's ``min(R, n_u)`` most probable versions (the
paper: "the paths with the largest probabilities"). The run keeps the best selection it ever
sampled, and by default scores the greedy decode after every update too (``greedy_every=1``;
the paper's Fig. 7 curve is the W-EGR of "the paths with the largest probabilities"). Samples
drawn with replacement from a peaked policy often repeat a version and so use fewer than
``R``; the greedy decode does not, and is often the better selection. It stops after
``epochs`` epochs, or as soon as the best fitness reaches ``target_fitness`` (its wall time is
``time_to_target_s``).

Usage::

    from agents.selection.reinforce import reinforce_search

    result = reinforce_search(problem, epochs=2000, batch_size=16, seed=0)
    result.best_selection, result.best_fitness, result.greedy_fitness
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from agents.selection.cache import CachedFitness
from agents.selection.problem import SelectionProblem, canonical, offsets, validate_problem

POLICIES = ("auto", "mlp", "table")
_MASKED_LOGIT = -1e9  # padding: probability exactly 0 after the softmax, finite gradients


class AverageRewardBaseline:
    """Alg. 1's per-state counters: ``n[s]`` samples and ``v[s]`` reward sum; ``b(s) = v/n``."""

    def __init__(self) -> None:
        self.n: dict[Hashable, int] = {}
        self.v: dict[Hashable, float] = {}

    def record(self, state: Hashable, reward: float) -> None:
        """Count one sample from ``state`` with ``reward`` (lines 9 and 12-15)."""
        if state in self.v:
            self.n[state] += 1
            self.v[state] += reward
        else:
            self.n[state] = 1
            self.v[state] = reward

    def __call__(self, state: Hashable) -> float:
        """``b(s)``, the average reward from ``state`` so far (line 13)."""
        if state not in self.v:
            raise KeyError(f"no reward recorded for state {state!r}")
        return self.v[state] / self.n[state]


class VersionPolicy(nn.Module):
    """Log-probabilities ``(n_pairs, max_versions)`` of each pair's versions (padding: about
    -1e9, probability 0)."""

    def __init__(
        self,
        problem: SelectionProblem,
        policy: str,
        hidden: Sequence[int],
    ) -> None:
        super().__init__()
        n = np.asarray(problem.n_versions, dtype=np.int64)
        start = offsets(problem)
        width = max(1, int(n.max()))
        cols = np.arange(width)
        valid = cols[None, :] < n[:, None]
        # Pairs without versions get one dummy column so their softmax stays finite.
        valid_or_dummy = valid | ((n == 0)[:, None] & (cols[None, :] == 0))
        self.register_buffer("index", torch.as_tensor(np.where(valid, start[:-1, None] + cols, 0)))
        self.register_buffer("valid", torch.as_tensor(valid))
        self.register_buffer("open", torch.as_tensor(valid_or_dummy))
        self.kind = policy
        if policy == "table":
            self.table = nn.Parameter(torch.zeros(int(n.sum())))
            return
        parts = [np.asarray(problem.version_features, dtype=np.float64)]
        if problem.pair_features is not None:
            pair_of = np.repeat(np.arange(n.size), n)
            parts.append(np.asarray(problem.pair_features, dtype=np.float64)[pair_of])
        x = np.concatenate(parts, axis=1)
        std = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
        self.register_buffer("features", torch.as_tensor(x, dtype=torch.float32))
        layers: list[nn.Module] = []
        width_in = x.shape[1]
        for h in hidden:
            layers += [nn.Linear(width_in, h), nn.LeakyReLU()]
            width_in = h
        layers.append(nn.Linear(width_in, 1))
        self.mlp = nn.Sequential(*layers)

    def logits(self) -> torch.Tensor:
        """``(sum(n_versions),)`` one logit per version."""
        if self.kind == "table":
            return self.table
        return self.mlp(self.features).squeeze(-1)

    def forward(self) -> torch.Tensor:
        flat = self.logits()
        padded = flat[self.index] if flat.numel() else torch.zeros(self.index.shape)
        padded = torch.where(self.open, padded, torch.full_like(padded, _MASKED_LOGIT))
        return torch.log_softmax(padded, dim=1)


@dataclass(frozen=True)
class ReinforceResult:
    """What a REINFORCE run found, what it cost, and its learning curve."""

    best_selection: np.ndarray  # (n_pairs, max_slots) canonical, the best ever sampled
    best_fitness: float
    greedy_selection: np.ndarray  # (n_pairs, max_slots) canonical, most probable versions
    greedy_fitness: float
    rewards: np.ndarray  # (epochs_run, batch_size) every sampled selection's reward
    reward_mean: np.ndarray  # (epochs_run,) mean batch reward per epoch
    reward_max: np.ndarray  # (epochs_run,) best batch reward per epoch
    baseline: np.ndarray  # (epochs_run,) b(s) used in each epoch's update
    entropy: np.ndarray  # (epochs_run,) H(pi(.|s)) in nats before each update
    greedy_history: np.ndarray  # (epochs_run,) greedy W-EGR after each update; NaN if unscored
    wall_s: np.ndarray  # (epochs_run,) seconds since start at the end of each epoch
    epochs_run: int
    evaluations: int  # fitness (LP) calls
    cache_hits: int  # fitness requests answered from the memo
    wall_time_s: float
    stop_reason: str  # "epochs" or "target" (reached during training)
    time_to_target_s: float | None  # seconds until best >= target_fitness; None if not reached
    policy: VersionPolicy


def reinforce_search(
    problem: SelectionProblem,
    *,
    epochs: int = 2000,
    batch_size: int = 16,
    learning_rate: float = 1e-3,
    entropy_coef: float = 0.1,
    hidden: Sequence[int] = (128, 128),
    policy: str = "auto",
    target_fitness: float | None = None,
    greedy_every: int | None = 1,
    state: Hashable | None = None,
    baseline: AverageRewardBaseline | None = None,
    seed: int | None = 0,
) -> ReinforceResult:
    """Train the selection policy on ``problem`` with Alg. 1 (see the module docstring).

    ``policy``: ``"mlp"`` (needs ``version_features``), ``"table"``, or ``"auto"`` (mlp when
    there are version features). ``state`` keys the baseline (default: the tuple of pair
    indices); pass a shared ``baseline`` to carry its counters across workloads.
    ``greedy_every``: score the greedy decode after every that many updates (one memoised LP;
    it counts for the best selection and the target; ``None``: only at the end). Runs on one
    torch thread and are deterministic for a ``seed``.
    """
    validate_problem(problem)
    for name, value, low in (("epochs", epochs, 0), ("batch_size", batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if not (math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be finite and > 0, got {learning_rate}")
    if not (math.isfinite(entropy_coef) and entropy_coef >= 0):
        raise ValueError(f"entropy_coef must be finite and >= 0, got {entropy_coef}")
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    if policy == "auto":
        policy = "table" if problem.version_features is None else "mlp"
    if policy == "mlp" and problem.version_features is None:
        raise ValueError('policy="mlp" needs problem.version_features; use policy="table"')
    if policy == "mlp" and (not hidden or any(int(h) < 1 for h in hidden)):
        raise ValueError(f"hidden must be a non-empty sequence of ints >= 1, got {hidden!r}")
    if target_fitness is not None and not math.isfinite(target_fitness):
        raise ValueError(f"target_fitness must be finite or None, got {target_fitness}")
    if greedy_every is not None and (
        isinstance(greedy_every, bool) or not isinstance(greedy_every, int) or greedy_every < 1
    ):
        raise ValueError(f"greedy_every must be an int >= 1 or None, got {greedy_every!r}")

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(
            problem,
            epochs,
            batch_size,
            learning_rate,
            entropy_coef,
            hidden,
            policy,
            target_fitness,
            greedy_every,
            state,
            baseline,
            seed,
        )
    finally:
        torch.set_num_threads(threads)


def _train(
    problem: SelectionProblem,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    entropy_coef: float,
    hidden: Sequence[int],
    policy_kind: str,
    target_fitness: float | None,
    greedy_every: int | None,
    state: Hashable | None,
    baseline: AverageRewardBaseline | None,
    seed: int | None,
) -> ReinforceResult:
    start = time.perf_counter()
    n = np.asarray(problem.n_versions, dtype=np.int64)
    slots = problem.max_slots
    active = np.flatnonzero(n > 0)
    active_t = torch.as_tensor(active)
    state = tuple(range(n.size)) if state is None else state
    tracker = AverageRewardBaseline() if baseline is None else baseline
    fitness = CachedFitness(problem)

    gen = torch.Generator()
    seed_value = int(np.random.SeedSequence(seed).generate_state(1)[0])
    gen.manual_seed(seed_value)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed_value)
        net = VersionPolicy(problem, policy_kind, hidden)
    optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate)
    open_active = net.valid[active_t]

    best_sel: np.ndarray | None = None
    best_fit = -math.inf
    curves: dict[str, list[float]] = {k: [] for k in ("mean", "max", "b", "h", "wall", "greedy")}
    all_rewards: list[np.ndarray] = []
    time_to_target: float | None = None
    stop_reason, epoch = "epochs", 0
    while epoch < epochs and time_to_target is None:
        epoch += 1
        logp = net()[active_t]  # (n_active, width)
        draws = torch.multinomial(
            logp.detach().exp(), batch_size * slots, replacement=True, generator=gen
        ).view(active.size, batch_size, slots)
        selections = np.full((batch_size, n.size, slots), -1, dtype=np.int64)
        selections[:, active, :] = draws.permute(1, 0, 2).numpy()
        rewards = np.array([fitness(s) for s in selections])
        for r in rewards:
            tracker.record(state, float(r))
        b = tracker(state)

        loss, entropy = policy_loss(logp, open_active, draws, rewards - b, entropy_coef)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        all_rewards.append(rewards)
        i = int(np.argmax(rewards))
        if rewards[i] > best_fit:
            best_sel, best_fit = selections[i].copy(), float(rewards[i])
        greedy_fit = math.nan
        if greedy_every is not None and epoch % greedy_every == 0:
            with torch.no_grad():
                greedy = _greedy(net().numpy(), n, slots)
            greedy_fit = fitness(greedy)
            if greedy_fit > best_fit:
                best_sel, best_fit = greedy, greedy_fit
        now = time.perf_counter() - start
        for key, value in zip(
            ("mean", "max", "b", "h", "wall", "greedy"),
            (rewards.mean(), rewards.max(), b, entropy.item(), now, greedy_fit),
            strict=True,
        ):
            curves[key].append(float(value))
        if target_fitness is not None and best_fit >= target_fitness:
            time_to_target, stop_reason = now, "target"

    with torch.no_grad():
        logp = net()
    greedy = _greedy(logp.numpy(), n, slots)
    greedy_fit = fitness(greedy)
    if best_sel is None or greedy_fit > best_fit:
        best_sel, best_fit = greedy, greedy_fit
    if time_to_target is None and target_fitness is not None and best_fit >= target_fitness:
        time_to_target = time.perf_counter() - start
    return ReinforceResult(
        best_selection=canonical(best_sel),
        best_fitness=best_fit,
        greedy_selection=canonical(greedy),
        greedy_fitness=greedy_fit,
        rewards=np.array(all_rewards).reshape(epoch, batch_size),
        reward_mean=np.array(curves["mean"]),
        reward_max=np.array(curves["max"]),
        baseline=np.array(curves["b"]),
        entropy=np.array(curves["h"]),
        greedy_history=np.array(curves["greedy"]),
        wall_s=np.array(curves["wall"]),
        epochs_run=epoch,
        evaluations=fitness.evaluations,
        cache_hits=fitness.hits,
        wall_time_s=time.perf_counter() - start,
        stop_reason=stop_reason,
        time_to_target_s=time_to_target,
        policy=net,
    )


def policy_loss(
    logp: torch.Tensor,
    valid: torch.Tensor,
    draws: torch.Tensor,
    advantage: np.ndarray,
    entropy_coef: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Alg. 1's update as a loss to minimise, and the policy entropy.

    ``logp`` ``(n_active, width)`` log-probabilities of the pairs that have versions, ``valid``
    the same shape (real versions, not padding), ``draws`` ``(n_active, batch, R)`` the sampled
    versions, ``advantage`` ``(batch,)`` the ``r_b - b(s)``. Returns
    ``-mean_b[advantage_b * log pi(a_b|s)] - entropy_coef * H`` with
    ``log pi(a_b|s) = sum_u sum_i log pi_u(a_{b,u}^i)`` and ``H = R sum_u H(pi_u)``, and ``H``.
    """
    n_active, batch, slots = draws.shape
    log_pi = logp.gather(1, draws.reshape(n_active, -1)).view(n_active, batch, slots)
    log_pi = log_pi.sum(dim=(0, 2))  # (batch,)
    entropy = -slots * (logp.exp() * torch.where(valid, logp, 0.0)).sum()
    adv = torch.as_tensor(advantage, dtype=logp.dtype)
    return -(adv * log_pi).mean() - entropy_coef * entropy, entropy


def _greedy(logp: np.ndarray, n: np.ndarray, slots: int) -> np.ndarray:
    """Each pair's ``min(slots, n_u)`` most probable versions (ties: lower index), ``-1`` pad."""
    order = np.argsort(-logp, axis=1, kind="stable")[:, :slots]
    keep = np.arange(order.shape[1])[None, :] < np.minimum(n, slots)[:, None]
    sel = np.full((n.size, slots), -1, dtype=np.int64)
    sel[:, : order.shape[1]] = np.where(keep, order, -1)
    return sel
