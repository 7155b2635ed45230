"""PettingZoo parallel adapter of the offloading game (rules in ``qnet_envs.offloading.core``)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo import ParallelEnv

from qnet_envs.offloading import core
from qnet_envs.offloading.scenario import Scenario
from qnet_envs.validation import FieldError, check_number, show

ScenarioLike = str | Path | Scenario
VARIANTS = ("discrete", "hybrid")
#: Named ``credit`` values: the weight of each agent's own share in its reward.
CREDIT_NAMES: dict[str, float] = {"team": 0.0, "own": 1.0}


@functools.lru_cache(maxsize=8)
def _shipped(name: str) -> Scenario:
    return Scenario.load(name)


def resolve_credit(credit: Any) -> float:
    """``credit`` as a weight in ``[0, 1]``: ``"team"`` (0), ``"own"`` (1) or a number."""
    if isinstance(credit, str):
        if credit not in CREDIT_NAMES:
            raise FieldError("credit", f"got {show(credit)}", '"team", "own" or a number in [0, 1]')
        return CREDIT_NAMES[credit]
    try:
        return check_number("credit", credit, 0.0, 1.0)
    except FieldError as error:
        raise FieldError("credit", error.problem, '"team", "own" or a number in [0, 1]') from None


def resolve_scenario(scenario: ScenarioLike) -> Scenario:
    """A :class:`Scenario` from a shipped name, a TOML path or a Scenario."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, Path) or (isinstance(scenario, str) and scenario.endswith(".toml")):
        return Scenario.load(scenario)
    if isinstance(scenario, str):
        return _shipped(scenario)
    raise ValueError(
        f"scenario: got {type(scenario).__name__} (allowed: a shipped name, a TOML path or a "
        "Scenario)"
    )


class OffloadingParallelEnv(ParallelEnv):
    """Mobile nodes decide where their quantum-autoencoder jobs run: locally, on an edge node
    or in the cloud.

    ## Description
    The use case of "Generative AI-enabled Quantum Computing Networks and Intelligent Resource
    Allocation" (paper 002, Sec. IV) as a partially observable cooperative game. A network of
    mobile, edge and cloud quantum computers (default 10 / 5 / 1; qubits, gate time, gate
    fidelity and power per tier) receives one quantum-autoencoder job per mobile node per step
    (compress ``n`` in [6, 9] qubits to ``k`` in [3, 5]; the job needs ``2n - k + 1`` qubits and
    ``shots`` error-free runs). One agent per mobile node chooses where its job runs and what
    share of its runs leaves the node. Every offloaded run needs its ``n``-qubit input state
    teleported: one entangled pair per qubit, each purified to the job's fidelity need by
    recurrence distillation (``qnet_envs.physics.distillation_schedule``, DEJMPS by default).
    The links' rates and fidelities are drawn anew every step and are not seen before acting
    (Gamma rates with outages, uniform fidelities; `docs/offloading-model.md`). Node queues
    carry unfinished work to the next step. Every rule is in ``qnet_envs.offloading.core``.

    ## Action Space
    ``variant="discrete"`` (default): ``MultiDiscrete([1 + R, K])`` with ``R`` the remote
    nodes (edges, then the cloud) and ``K = share_levels`` (default 4): entry 0 is the target
    (``0`` local, ``1 + j`` remote node ``j``), entry 1 the share level, share ``(level + 1) /
    K`` of the runs offloaded and the rest kept local (ignored for target 0).
    ``infos[agent]["action_mask"]`` (``1 + R + K`` bools, target entries first) marks the
    targets the job fits on (all True when it fits nowhere or there is no job).
    ``variant="hybrid"``: ``Dict({"target": Discrete(1 + R), "share": Box(0, 1, (1,))})``, the
    same with a continuous share. A share outside ``[0, 1]`` or not finite, a target out of
    range, or a malformed action raises ``ValueError``. A share placed where it cannot run is
    dropped at ``drop_penalty`` per job and reported in ``info``: the node lacks the qubits
    (``"no_fit"``), the link is down (``"link_down"``), no purification reaches the need
    (``"fidelity_unreachable"``); a job that fits on no node is ``"unservable"``.

    ## Observation Space
    Per agent ``Box(-inf, inf, (10 + 8 R,), float32)``: the agent's own job and node
    (``core.OWN_FEATURES``: has a job, qubits needed, ``n``, ``k``, shots, fidelity need,
    fits locally, own backlog and local run time in steps, step fraction), then per remote node
    (``core.REMOTE_FEATURES``): fits, its *advertised* backlog (one step stale, with Gaussian
    noise), run time there, nominal transfer time (mean rate, nominal fidelity), whether the
    need is nominally reachable, outage probability, nominal raw pairs per purified pair, is
    the home edge. The realised links and the other agents' jobs are not observed.
    ``state()`` (the centralised critic's input) holds every node's true backlog and every
    agent's own features.

    ## Rewards
    Cooperative (``credit="team"``, the default): every agent receives ``-cost / reward_scale``
    of the step, ``cost = d * latency / latency_scale_s + e * energy / energy_scale_j +
    drop_penalty * dropped`` with the QoS weights ``(d, e)``, latency the sum over jobs of each
    job's completion time (the latest of its portions: backlog, then the node's whole new work,
    plus the transfer of a teleported share), energy the computing power times run time plus
    the raw pairs' energy, and ``dropped`` the dropped job shares. ``info[agent]["rewards"]``
    holds the three weighted components (divided by ``reward_scale`` too; they sum to the
    team reward), ``info[agent]["cost"]`` the unscaled cost. The cost is a sum over jobs, so
    each agent has an exact share of every term (``core.job_terms``: its job's latency, energy
    and dropped share; zero without a job): ``info[agent]["own_rewards"]`` (the same keys,
    summing over agents to ``info[agent]["rewards"]``) and ``info[agent]["own_cost"]``
    (unscaled). With ``credit="own"`` agent ``i`` receives ``-M * own_cost_i / reward_scale``
    (``M`` agents) instead, and with a weight ``w`` in ``[0, 1]`` ``(1 - w) team + w own``
    (``core.credited_rewards``): the mean over agents stays the team reward, but each agent's
    reward now answers for its own job.

    ## Starting State
    Empty queues; jobs and the first step's links drawn from the seed.

    ## Episode End
    Every agent terminates after ``horizon`` steps (scenario, default 10). Nothing truncates.

    ## Info
    Per agent: the step's ``cost``, ``latency_s``, ``energy_j``, ``dropped_jobs`` (global),
    ``job_latency_s``, ``job_energy_j``, ``local_share``, ``remote_share``, ``dropped_share``,
    ``reason`` (``core.REASONS``), ``own_cost`` and ``own_rewards`` of its own job,
    ``rewards``; ``action_mask`` in the discrete variant (also in the reset's info).

    ## Arguments
    ``scenario``: a shipped name (``scenarios/offloading/<name>.toml``, default ``"default"``),
    a TOML path or a :class:`~qnet_envs.offloading.Scenario`. ``qos``: ``(d, e)`` overriding
    the scenario's weights (each in [0, 1]). ``variant``: ``"discrete"`` or ``"hybrid"``.
    ``reward_scale``: the cost's divisor in the reward (a finite number > 0, default 1).
    ``credit``: ``"team"`` (default), ``"own"`` or a weight in ``[0, 1]`` (Rewards).
    ``render_mode``: ``None`` or ``"rgb_array"``.

    ## Version History
    * v0: initial release.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "offloading_v0",
        "render_modes": ["rgb_array"],
        "is_parallelizable": True,
    }

    def __init__(
        self,
        scenario: ScenarioLike = "default",
        qos: tuple[float, float] | None = None,
        variant: str = "discrete",
        reward_scale: float = 1.0,
        credit: str | float = "team",
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode: got {render_mode!r} (allowed: None or "
                f"{self.metadata['render_modes']})"
            )
        if variant not in VARIANTS:
            raise ValueError(f"variant: got {variant!r} (allowed: {list(VARIANTS)})")
        scale_ok = isinstance(reward_scale, int | float) and not isinstance(reward_scale, bool)
        if not scale_ok or not np.isfinite(reward_scale) or reward_scale <= 0:
            raise ValueError(f"reward_scale: got {reward_scale!r} (allowed: a finite number > 0)")
        self.reward_scale = float(reward_scale)
        self.credit = resolve_credit(credit)
        resolved = resolve_scenario(scenario)
        if qos is not None:
            if not isinstance(qos, tuple | list) or len(qos) != 2:
                raise ValueError(f"qos: got {qos!r} (allowed: a pair (d, e) of numbers in [0, 1])")
            resolved = resolved.with_qos(*qos)
        self.scenario = resolved
        self.layout = core.Layout.compile(resolved)
        self.variant = variant
        self.render_mode = render_mode
        self.possible_agents = [f"mobile_{i}" for i in range(self.layout.n_mobile)]
        self.agents: list[str] = []
        n_targets, k = self.layout.n_targets, resolved.share_levels
        if variant == "discrete":
            make = lambda: spaces.MultiDiscrete(np.array([n_targets, k], dtype=np.int64))  # noqa: E731
        else:
            make = lambda: spaces.Dict(  # noqa: E731
                {
                    "target": spaces.Discrete(n_targets),
                    "share": spaces.Box(0.0, 1.0, (1,), np.float32),
                }
            )
        self._action_spaces = {a: make() for a in self.possible_agents}
        obs_dim = len(core.OWN_FEATURES) + self.layout.n_remote * len(core.REMOTE_FEATURES)
        self._observation_spaces = {
            a: spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32) for a in self.possible_agents
        }
        state_dim = resolved.n_nodes + self.layout.n_mobile * len(core.OWN_FEATURES)
        self.state_space = spaces.Box(-np.inf, np.inf, (state_dim,), np.float32)
        self._rng = np.random.default_rng()
        self._state: core.State | None = None
        self._last: tuple[core.Outcome, core.Placement] | None = None

    @property
    def observation_layout(self) -> dict[str, tuple[int, ...]]:
        """The observation's blocks in order, name -> shape (sizes add up to its length): the
        agent's own features (``core.OWN_FEATURES``), then one row per remote target
        (``core.REMOTE_FEATURES``)."""
        return {
            "global": (len(core.OWN_FEATURES),),
            "targets": (self.layout.n_remote, len(core.REMOTE_FEATURES)),
        }

    def observation_space(self, agent: str) -> spaces.Box:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self._action_spaces[agent]

    # ------------------------------------------------------------------------- PettingZoo API
    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, NDArray[np.float32]], dict[str, dict[str, Any]]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            for i, agent in enumerate(self.possible_agents):
                self._action_spaces[agent].seed(seed + i)
                self._observation_spaces[agent].seed(seed + i)
        self.agents = list(self.possible_agents)
        self._state = core.initial_state(self.layout, self._rng)
        self._last = None
        infos: dict[str, dict[str, Any]] = {a: {} for a in self.agents}
        self._add_masks(infos)
        return self._observations(), infos

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents or self._state is None:
            raise RuntimeError("step() called with no live agents: call reset() first")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"actions: missing an action for {missing} (live: {self.agents})")
        target, share = self.decode(actions)
        self._state, outcome, placement = core.transition(
            self.layout, self._state, target, share, self._rng
        )
        self._last = (outcome, placement)
        done = self._state.step >= self.scenario.horizon
        reward = -outcome.cost / self.reward_scale
        sc = self.scenario
        weighted = {
            "latency": -sc.latency_weight * outcome.latency_s / sc.latency_scale_s,
            "energy": -sc.energy_weight * outcome.energy_j / sc.energy_scale_j,
            "drop": -sc.drop_penalty * outcome.dropped,
        }
        weighted = {k: v / self.reward_scale for k, v in weighted.items()}
        terms = core.job_terms(self.layout, outcome, placement)
        own = -terms / self.reward_scale
        if self.credit == 0.0:
            per_agent = np.full(self.layout.n_mobile, float(reward))
        else:
            per_agent = core.credited_rewards(
                self.layout, outcome, placement, self.credit, self.reward_scale
            )
        infos = {}
        for i, agent in enumerate(self.agents):
            infos[agent] = {
                **outcome.components,
                "job_latency_s": float(outcome.job_latency_s[i]),
                "job_energy_j": float(outcome.job_energy_j[i]),
                "local_share": float(placement.local[i]),
                "remote_share": placement.remote[i].copy(),
                "dropped_share": float(placement.dropped[i]),
                "reason": core.REASONS[placement.reason[i]],
                "rewards": dict(weighted),
                "own_cost": float(terms[i].sum()),
                "own_rewards": dict(zip(core.COST_TERMS, own[i].tolist(), strict=True)),
            }
        self._add_masks(infos)
        observations = self._observations()
        index = {a: i for i, a in enumerate(self.possible_agents)}
        rewards = {a: float(per_agent[index[a]]) for a in self.agents}
        terminations = dict.fromkeys(self.agents, done)
        truncations = dict.fromkeys(self.agents, False)
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def state(self) -> NDArray[np.float32]:
        if self._state is None:
            raise RuntimeError("state() called before reset()")
        return core.global_state(self.layout, self._state).astype(np.float32)

    def render(self) -> NDArray[np.uint8] | None:
        if self.render_mode is None:
            return None
        from qnet_envs.offloading.viewer import draw

        return draw(self.layout, self._state, self._last)

    def close(self) -> None:
        """Nothing to release: the env holds no files, processes or windows."""

    # ---------------------------------------------------------------------------- helpers
    @property
    def current(self) -> core.State:
        """The true state of the step about to be played, hidden links included (for oracles
        and tests; agents see :meth:`observe`'s view)."""
        if self._state is None:
            raise RuntimeError("no state before reset()")
        return self._state

    def decode(self, actions: dict[str, Any]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Targets ``(M,)`` and shares ``(M,)`` of an action dict (agents without an action,
        i.e. finished ones, keep everything local); ``ValueError`` for a malformed action."""
        m = self.layout.n_mobile
        target = np.zeros(m, dtype=np.int64)
        share = np.zeros(m)
        n_targets, k = self.layout.n_targets, self.scenario.share_levels
        for i, agent in enumerate(self.possible_agents):
            if agent not in actions:
                continue
            action = actions[agent]
            if self.variant == "discrete":
                array = np.asarray(action)
                if array.shape != (2,) or array.dtype.kind not in "iu":
                    raise ValueError(
                        f"actions[{agent!r}]: got {action!r} (allowed: an integer array "
                        f"[target in [0, {n_targets - 1}], level in [0, {k - 1}]])"
                    )
                t, level = int(array[0]), int(array[1])
                if not (0 <= t < n_targets and 0 <= level < k):
                    raise ValueError(
                        f"actions[{agent!r}]: got {array.tolist()} (allowed: target in "
                        f"[0, {n_targets - 1}], level in [0, {k - 1}])"
                    )
                target[i], share[i] = t, self.layout.share_grid[level]
            else:
                if not isinstance(action, dict) or set(action) != {"target", "share"}:
                    raise ValueError(
                        f"actions[{agent!r}]: got {action!r} (allowed: a dict with 'target' "
                        "and 'share')"
                    )
                t = np.asarray(action["target"])
                s = np.asarray(action["share"], dtype=np.float64).reshape(-1)
                if (
                    t.shape not in ((), (1,))
                    or t.dtype.kind not in "iu"
                    or not (0 <= int(t.reshape(-1)[0]) < n_targets)
                ):
                    raise ValueError(
                        f"actions[{agent!r}]['target']: got {action['target']!r} (allowed: an "
                        f"integer in [0, {n_targets - 1}])"
                    )
                if s.shape != (1,) or not np.isfinite(s[0]) or not 0.0 <= s[0] <= 1.0:
                    raise ValueError(
                        f"actions[{agent!r}]['share']: got {action['share']!r} (allowed: one "
                        "finite number in [0, 1])"
                    )
                target[i], share[i] = int(t.reshape(-1)[0]), float(s[0])
        return target, share

    def action_mask(self) -> NDArray[np.bool_]:
        """``(M, 1 + R + K)`` bools of the discrete variant: targets the job fits on, then
        every share level (all True for a job that fits nowhere or no job)."""
        jobs = self.current.jobs
        costs = core.nominal_costs(self.layout, jobs)
        fits = np.concatenate([costs.fits_local[:, None], costs.fits_remote], axis=1)
        fits[~fits.any(axis=1)] = True
        levels = np.ones((self.layout.n_mobile, self.scenario.share_levels), dtype=bool)
        return np.concatenate([fits, levels], axis=1)

    def _add_masks(self, infos: dict[str, dict[str, Any]]) -> None:
        if self.variant != "discrete" or not infos:
            return
        mask = self.action_mask()
        for i, agent in enumerate(self.possible_agents):
            if agent in infos:
                infos[agent]["action_mask"] = mask[i].copy()

    def _observations(self) -> dict[str, NDArray[np.float32]]:
        assert self._state is not None
        obs = core.observe(self.layout, self._state).astype(np.float32)
        return {a: obs[i] for i, a in enumerate(self.possible_agents) if a in self.agents}


def parallel_env(**kwargs: Any) -> OffloadingParallelEnv:
    return OffloadingParallelEnv(**kwargs)


def raw_env(**kwargs: Any) -> OffloadingParallelEnv:
    """Alias of :func:`parallel_env` (PettingZoo's module convention)."""
    return OffloadingParallelEnv(**kwargs)


parallel_env.__doc__ = OffloadingParallelEnv.__doc__
