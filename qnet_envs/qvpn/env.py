"""PettingZoo parallel adapter of the qVPN revision game (rules in ``qnet_envs.qvpn.core``)."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo import ParallelEnv

from qnet_envs.qvpn import core
from qnet_envs.qvpn.problem import Instance
from qnet_envs.validation import FieldError, check_flag, check_number, show

InstanceLike = str | Path | Instance
DEFAULT_ROUNDS = 4
DEFAULT_INFEASIBLE_PENALTY = 1.0


@functools.lru_cache(maxsize=8)
def _shipped(name: str) -> Instance:
    """Shipped instances by name, loaded once per process (their version tables are cached)."""
    return Instance.load(name)


@functools.lru_cache(maxsize=8)
def _layout(instance: Instance, rounds: int, prune_dominated: bool) -> core.Layout:
    return core.Layout.compile(instance, rounds, prune_dominated)


def resolve_instance(instance: InstanceLike) -> Instance:
    """An :class:`Instance` from a shipped name, a TOML path or an Instance."""
    if isinstance(instance, Instance):
        return instance
    if isinstance(instance, Path) or (isinstance(instance, str) and instance.endswith(".toml")):
        return Instance.load(instance)
    if isinstance(instance, str):
        return _shipped(instance)
    raise TypeError(
        f"instance must be a name, a path or an Instance, got {type(instance).__name__}"
    )


class QVPNParallelEnv(ParallelEnv):
    """Organisations sharing a quantum network choose paths and distillation strategies.

    ## Description
    The path and distillation-strategy selection of "Resource Management in Quantum Virtual
    Private Networks" (Pouryousef et al., Sec. II-III) as a multi-agent game. One agent per
    organisation ``k``. Each pair ``u`` of ``k`` may use up to ``max_paths`` *path versions* (a
    candidate path with a link-level distillation threshold; `docs/qvpn-model.md`). Each step is
    a round: every organisation submits its versions, the union is the selection, and the
    rate LP (eq. 1-5: maximise the weighted entanglement generation rate, W-EGR, under link
    capacities and rate bounds) decides every rate. Organisations then revise for
    ``rounds`` rounds; the LP is deterministic, so the game is too.

    ## Action Space
    Per agent ``MultiDiscrete([max_versions + 1] * (max_pairs * max_paths))``: entry
    ``i * max_paths + s`` is slot ``s`` of the organisation's ``i``-th pair; ``0`` leaves it
    empty and ``j >= 1`` picks the pair's ``j``-th *offered* version (repeats count once).
    With ``prune_dominated`` (default) a pair is offered only the versions that no other
    version of it dominates (at least the LP coefficient, at most the ``g`` on every link):
    an exact reduction, the best selection is unchanged (on the default instance it keeps
    about 1 version in 10); ``prune_dominated=False`` offers every version in table order.
    ``max_pairs`` is the largest organisation's pair count (smaller ones have padding rows).
    A value that names no version (past the pair's ``n_versions``, or non-zero on a padding
    row) is an invalid slot: treated as empty and counted in ``info["invalid_slots"]``; no
    penalty. ``infos[agent]["action_mask"]`` (``(slots, max_versions + 1)`` bool) marks the
    valid values, for masked policies.

    ## Observation Space
    Per agent ``Box(-inf, inf, (n,), float32)`` with ``n = 4 + max_pairs * 10 + max_pairs *
    max_versions * 11 + n_links``: the global features (``core.GLOBAL_FEATURES``: round
    fraction, whether a round was played, its feasibility and W-EGR / bound), one row per pair
    (``core.PAIR_FEATURES``: weights, ``F_u``, rate bounds, version count, last rate and
    shortfall), one row per version slot (``core.VERSION_FEATURES``: hops, fidelities,
    threshold, LP coefficient, ``1/g``, bottleneck capacity, whether it was selected, its last
    rate and its *reduced value* ``coefficient - sum_l price_l g_l`` at the last LP's link
    prices), then each link's utilisation in the last round. Rates are divided by
    ``rate_scale`` (largest version bottleneck capacity, pairs/s), W-EGR by ``reward_scale``.
    ``observation_layout`` names these blocks in order with their shapes (``{"global": (4,),
    "pairs": (max_pairs, 10), "versions": (max_pairs, max_versions, 11), "links":
    (n_links,)}``), for networks that read the observation as tables (e.g. the trainer's
    ``actor="choice-scorer"``). ``state()`` is the centralised critic's input: global
    features, every pair's row, each organisation's weighted rate and the link utilisation.

    ## Rewards
    Feasible round: organisation ``k`` receives its own weighted rate ``W-EGR_k /
    reward_scale``, where ``reward_scale`` is the W-EGR of the LP over *every* version (an
    upper bound on any selection, so the sum over organisations is in ``[0, 1]``). Infeasible
    round (some pair's ``R_min`` cannot be met; W-EGR 0): ``-infeasible_penalty * shortfall_k``
    with ``shortfall_k`` the organisation's total ``R_min`` shortfall (elastic LP) over its
    total ``R_min``. ``cooperative=True`` gives every agent the sum. ``info["rewards"]`` holds
    the components (``weighted_rate``, ``shortfall_penalty``).

    ## Starting State
    No round played: dynamic features are 0 and the reduced value equals the coefficient.
    ``reset(seed)`` seeds the action and observation spaces; the game itself has no randomness.

    ## Episode End
    Every agent terminates after ``rounds`` rounds (the horizon is part of the game: the round
    fraction is observed). Nothing truncates.

    ## Info
    Per agent: ``w_egr`` (pairs/s, all organisations), ``org_w_egr``, ``feasible``, ``status``,
    ``pair_rate`` and ``shortfall`` of its pairs (pairs/s), ``invalid_slots``, ``rewards``,
    ``action_mask``; the reset's info holds ``action_mask`` only.

    ## Arguments
    ``instance``: a shipped name (``scenarios/qvpn/<name>.toml``; default ``"default"``, the
    paper's Sec. IV workload), a TOML path or an :class:`~qnet_envs.qvpn.Instance`.
    ``rounds``: rounds per episode (default 4). ``cooperative``: shared reward (default False).
    ``infeasible_penalty``: float >= 0 (default 1). ``prune_dominated``: offer only
    undominated versions (default True). ``render_mode``: ``None`` or ``"rgb_array"``.

    ## Version History
    * v0: initial release.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "qvpn_v0",
        "render_modes": ["rgb_array"],
        "is_parallelizable": True,
    }

    def __init__(
        self,
        instance: InstanceLike = "default",
        rounds: int = DEFAULT_ROUNDS,
        cooperative: bool = False,
        infeasible_penalty: float = DEFAULT_INFEASIBLE_PENALTY,
        prune_dominated: bool = True,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise FieldError(
                "render_mode",
                f"got {show(render_mode)}",
                f"None or one of {self.metadata['render_modes']}",
            )
        check_flag("cooperative", cooperative)
        check_number("infeasible_penalty", infeasible_penalty, 0.0, math.inf, high_open=True)
        self.layout = _layout(resolve_instance(instance), rounds, prune_dominated)
        self.cooperative = cooperative
        self.infeasible_penalty = float(infeasible_penalty)
        self.render_mode = render_mode
        self.possible_agents = [f"org_{k}" for k in range(self.layout.n_orgs)]
        self.agents: list[str] = []
        n_values = self.layout.max_versions + 1
        self._action_spaces = {
            a: spaces.MultiDiscrete(np.full(self.layout.slots, n_values, dtype=np.int64))
            for a in self.possible_agents
        }
        self._observation_spaces = {
            a: spaces.Box(-np.inf, np.inf, (self.layout.observation_size,), np.float32)
            for a in self.possible_agents
        }
        self.state_space = spaces.Box(-np.inf, np.inf, (self.layout.state_size,), np.float32)
        self._masks = {a: self.layout.action_mask(k) for k, a in enumerate(self.possible_agents)}
        self._round = 0
        self._last: core.Round | None = None

    @property
    def instance(self) -> Instance:
        return self.layout.instance

    @property
    def observation_layout(self) -> dict[str, tuple[int, ...]]:
        """The observation's blocks in order, name -> shape (sizes add up to its length)."""
        layout = self.layout
        return {
            "global": (len(core.GLOBAL_FEATURES),),
            "pairs": (layout.max_pairs, len(core.PAIR_FEATURES)),
            "versions": (layout.max_pairs, layout.max_versions, len(core.VERSION_FEATURES)),
            "links": (layout.instance.network.n_links,),
        }

    def observation_space(self, agent: str) -> spaces.Box:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.MultiDiscrete:
        return self._action_spaces[agent]

    # ------------------------------------------------------------------------- PettingZoo API
    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, NDArray[np.float32]], dict[str, dict[str, Any]]]:
        if seed is not None:
            for k, agent in enumerate(self.possible_agents):
                self._action_spaces[agent].seed(seed + k)
                self._observation_spaces[agent].seed(seed + k)
        self.agents = list(self.possible_agents)
        self._round = 0
        self._last = None
        infos = {a: {"action_mask": self._masks[a].copy()} for a in self.agents}
        return self._observations(), infos

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise RuntimeError("step() called with no live agents: call reset() first")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"actions: missing an action for {missing} (live: {self.agents})")
        decoded = [self._check_action(a, actions[a]) for a in self.possible_agents]
        played = core.play_round(self.layout, decoded)
        reward, weighted, penalty = core.rewards(
            self.layout,
            played,
            cooperative=self.cooperative,
            infeasible_penalty=self.infeasible_penalty,
        )
        self._round += 1
        self._last = played
        done = self._round >= self.layout.rounds
        observations = self._observations()
        rewards = {a: float(reward[k]) for k, a in enumerate(self.possible_agents)}
        infos = {a: self._info(k, a, played, weighted, penalty) for k, a in enumerate(self.agents)}
        terminations = dict.fromkeys(self.agents, done)
        truncations = dict.fromkeys(self.agents, False)
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def state(self) -> NDArray[np.float32]:
        return core.global_state(self.layout, self._round, self._last).astype(np.float32)

    def render(self) -> NDArray[np.uint8] | None:
        if self.render_mode is None:
            return None
        from qnet_envs.qvpn.viewer import draw

        return draw(self.layout, self._last)

    def close(self) -> None:
        pass

    # ---------------------------------------------------------------------------- helpers
    def _check_action(self, agent: str, action: Any) -> NDArray[np.int64]:
        array = np.asarray(action)
        if array.shape != (self.layout.slots,) or array.dtype.kind not in "iu":
            raise FieldError(
                f"actions[{agent!r}]",
                f"got shape {array.shape}, dtype {array.dtype}",
                f"an integer array of shape ({self.layout.slots},) with values in "
                f"[0, {self.layout.max_versions}]",
            )
        if array.min() < 0 or array.max() > self.layout.max_versions:
            raise FieldError(
                f"actions[{agent!r}]",
                f"values in [{int(array.min())}, {int(array.max())}] are out of range",
                f"integers in [0, {self.layout.max_versions}]",
            )
        return array.astype(np.int64, copy=False)

    def _observations(self) -> dict[str, NDArray[np.float32]]:
        return {
            a: core.observe(self.layout, k, self._round, self._last).astype(np.float32)
            for k, a in enumerate(self.possible_agents)
            if a in self.agents
        }

    def _info(
        self,
        org: int,
        agent: str,
        played: core.Round,
        weighted: NDArray[np.float64],
        penalty: NDArray[np.float64],
    ) -> dict[str, Any]:
        pairs = self.layout.org_pairs[org]
        return {
            "w_egr": float(played.lp.w_egr),
            "org_w_egr": float(played.org_w_egr[org]),
            "feasible": bool(played.lp.feasible),
            "status": played.lp.status,
            "pair_rate": played.lp.pair_rate[pairs].copy(),
            "shortfall": played.lp.shortfall[pairs].copy(),
            "invalid_slots": int(played.invalid_slots[org]),
            "rewards": {
                "weighted_rate": float(weighted[org]),
                "shortfall_penalty": float(penalty[org]),
            },
            "action_mask": self._masks[agent].copy(),
        }


def parallel_env(**kwargs: Any) -> QVPNParallelEnv:
    """The qVPN path and distillation-selection game as a PettingZoo parallel env.

    Keyword arguments go to :class:`QVPNParallelEnv`, whose docstring is the spec.
    """
    return QVPNParallelEnv(**kwargs)


def raw_env(**kwargs: Any) -> QVPNParallelEnv:
    """Alias of :func:`parallel_env` (PettingZoo's module convention)."""
    return QVPNParallelEnv(**kwargs)
