"""A native Gymnasium vector env of the swap-routing game: ``N`` games, one array step.

:class:`SwapRoutingVectorEnv` plays ``N`` independent copies of :class:`SwapRoutingEnv`'s game
(rules: ``qnet_envs.routing.core``) with every quantity held as an array over the copies, so a
step costs a fixed few dozen numpy operations whatever ``N`` is. The held states are real
correlation matrices (``qnet_envs.physics.correlations``), where a swap is the product of the
held ``T`` with the chosen slot's precompiled 4 x 4 transfer matrix; all ``N`` products are one
batched operation. Nothing is cached: every step recomputes every copy's swap, figures of merit,
observation and info.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numpy.typing import NDArray

from qnet_envs.physics import SINGLET_DM
from qnet_envs.physics.correlations import (
    correlation_matrix,
    fully_entangled_fraction_of_columns,
    swap_transfer,
)
from qnet_envs.physics.swapping import ZERO_PROBABILITY
from qnet_envs.routing import core
from qnet_envs.routing.env import ScenarioLike, SwapRoutingEnv, resolve_scenario
from qnet_envs.routing.scenario import MAX_DEGREE, Scenario, show

#: ``info["event"]`` values, indexed by the env's internal event codes.
EVENTS: tuple[str, ...] = (
    "moved",
    "arrived",
    "dead_end",
    "empty_slot",
    "used_link",
    "out_of_actions",
    "reset",
)
_MOVED, _ARRIVED, _DEAD_END, _EMPTY_SLOT, _USED_LINK, _OUT_OF_ACTIONS, _RESET = range(len(EVENTS))
_EVENT_NAMES = np.array(EVENTS, dtype=object)
_REWARD_COMPONENTS = ("fidelity_gain", "arrival", "invalid_action", "dead_end")
_MIXED = np.diag([1.0, 0.0, 0.0, 0.0])  # correlation matrix of I/4


class SwapRoutingVectorEnv(VectorEnv):
    """``num_envs`` swap-routing games stepped together by array operations.

    ## Description
    The game of :class:`~qnet_envs.routing.env.SwapRoutingEnv`, ``num_envs`` copies on one
    scenario, each an independent episode. Sub-env ``i`` of this env and a single
    ``SwapRoutingEnv`` on the same scenario, given the same actions, produce the same
    observations, rewards, terminations, truncations, masks and infos (up to floating-point
    rounding, ~1e-13; tested against ``gymnasium.vector.SyncVectorEnv`` over single envs in all
    three autoreset modes). Made by ``gym.make_vec("qnet_envs/SwapRouting-v0", num_envs=N,
    vectorization_mode="vector_entry_point")`` (also the default mode of ``make_vec`` for the
    four fixed-network ids; the evolving ids have no vector env), or directly.

    ## Action Space
    ``MultiDiscrete([4] * num_envs)`` (``single_action_space``: ``Discrete(4)``). ``step``
    takes an integer array of shape ``(num_envs,)`` with values in ``[0, 3]`` (a list works);
    anything else raises ``ValueError``. Invalid actions (empty slot, used link) end that
    sub-env's episode with ``invalid_action_reward``, as in the single env;
    ``action_masks()`` (shape ``(num_envs, 4)``) and ``info["action_mask"]`` mark the valid
    slots.

    ## Observation Space
    ``Box(0, 1, (num_envs, num_nodes + num_edges + 6), float32)``: row ``i`` is the single
    env's observation of sub-env ``i``. Each call returns a fresh array.

    ## Rewards
    As the single env, per sub-env, as a float64 array; ``info["rewards"]`` holds the named
    components as Gymnasium vector infos (a component's array with its ``_name`` mask of the
    sub-envs that had it this step).

    ## Starting State
    Every sub-env at Alice holding a singlet. The game is deterministic: seeds change no
    trajectory. ``reset(seed=s)`` records per-env seeds ``s, s + 1, ...`` (a list gives one per
    sub-env; ``None`` entries draw fresh ones), exposed as ``np_random_seed`` (a tuple, as
    ``SyncVectorEnv`` reports its sub-envs' seeds), and seeds ``np_random`` with the first.

    ## Episode End
    As the single env, per sub-env. Autoreset follows Gymnasium 1.x's
    ``gymnasium.vector.AutoresetMode`` (``metadata["autoreset_mode"]``, chosen with the
    ``autoreset_mode`` argument):

    * ``NEXT_STEP`` (default, as Gymnasium's own vector envs): a sub-env whose episode ended
      is reset by the *next* ``step``, which ignores its action and returns its reset
      observation, reward 0, ``terminated = truncated = False`` and the reset info (event
      ``"reset"``).
    * ``SAME_STEP``: the ending step resets the sub-env at once and returns the reset
      observation; the last observation and info of the episode are in ``info["final_obs"]``
      (an object array, ``None`` for the others) and ``info["final_info"]`` (a nested info),
      masked by ``info["_final_obs"]`` / ``info["_final_info"]``.
    * ``DISABLED``: nothing resets by itself; ``reset(options={"reset_mask": mask})`` resets
      the sub-envs where the boolean ``mask`` is true (this works in every mode). Stepping a
      sub-env whose episode ended raises ``gymnasium.error.ResetNeeded``.

    ``step`` before the first ``reset`` raises ``ResetNeeded``.

    ## Info
    Gymnasium vector infos: each key of the single env's info as an array over sub-envs with a
    ``_key`` boolean mask (all true but after a masked reset and in ``final_info``):
    ``singlet_fidelity``, ``fully_entangled_fraction``, ``success_probability`` (float64),
    ``node`` (int64), ``event`` (object array of str), ``action_mask`` (bool, ``(num_envs,
    4)``), ``rewards`` (nested, see Rewards). One layout differs from ``SyncVectorEnv``'s:
    ``route`` is an int64 array ``(num_envs, max_actions)`` holding the edge indices so far,
    padded with -1 (not an object array of tuples, which would cost a Python object per
    sub-env per step). Rows a mask leaves out hold 0 (-1 in ``route``).

    ## Arguments
    ``num_envs``: int >= 1. ``scenario``, ``invalid_action_reward``: as the single env.
    ``autoreset_mode``: an ``AutoresetMode`` or its value (``"NextStep"``, ``"SameStep"``,
    ``"Disabled"``). ``render_mode``: ``None`` only (render single envs to watch a game).

    ## Version History
    * v0: initial release, matching ``SwapRoutingEnv`` v0.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": [],
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        scenario: ScenarioLike = "default",
        invalid_action_reward: float = core.DEFAULT_INVALID_ACTION_REWARD,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int | np.integer) or num_envs < 1:
            raise ValueError(f"num_envs must be an integer >= 1, got {show(num_envs)}")
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            allowed = [m.value for m in AutoresetMode]
            raise ValueError(
                f"autoreset_mode must be an AutoresetMode or one of {allowed}, "
                f"got {show(autoreset_mode)}"
            ) from None
        if render_mode is not None:
            raise ValueError(
                f"render_mode must be None (the vector env does not render), got {render_mode!r}"
            )
        # The single env validates the reward and scenario arguments; reuse its checks.
        single = SwapRoutingEnv(resolve_scenario(scenario), None, invalid_action_reward)
        self.scenario: Scenario = single.scenario
        self.invalid_action_reward = float(invalid_action_reward)
        self.num_envs = int(num_envs)
        self.autoreset_mode = mode
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self.render_mode = None
        self.single_action_space = single.action_space
        self.single_observation_space = single.observation_space
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._compile(single._network)
        self._allocate()
        self._np_random_seeds: tuple[int, ...] | None = None

    # ------------------------------------------------------------------------ compilation
    def _compile(self, network: core.Network) -> None:
        scenario = network.scenario
        n = scenario.num_nodes
        self._num_nodes, self._num_edges = n, scenario.num_edges
        self._slot_edge = network.slot_edge.reshape(-1)  # (n * 4,): node * 4 + slot
        self._slot_edges = network.slot_edge  # (n, 4)
        self._slot_neighbor = network.slot_neighbor.reshape(-1)
        # (4, 4, n * 4): T_new = T_held @ transfer[:, :, node * 4 + slot]; 0 for empty slots.
        transfer = swap_transfer(
            network.slot_state.reshape(n, MAX_DEGREE, 4, 4), scenario.swap_mode
        )
        transfer[network.slot_edge < 0] = 0.0
        # One more transfer after the slots': the identity, for rows that do not move.
        transfers = np.concatenate([transfer.reshape(-1, 4, 4), np.eye(4)[None]])
        self._transfer = np.ascontiguousarray(np.moveaxis(transfers, 0, -1))
        self._identity_slot = n * MAX_DEGREE
        self._postselected = scenario.swap_mode == "postselected"
        self._fom_is_singlet = scenario.figure_of_merit == "singlet_fidelity"
        start = core.initial(network)
        self._start_obs = core.observe(network, start)
        self._start_valid = np.array(start.valid, dtype=bool)
        self._start_t = np.diag([1.0, -1.0, -1.0, -1.0])  # the singlet's
        assert np.allclose(correlation_matrix(SINGLET_DM), self._start_t, rtol=0, atol=1e-15)

    def _allocate(self) -> None:
        n_envs, s = self.num_envs, self.scenario
        self._rows = np.arange(n_envs)
        self._node = np.full(n_envs, s.alice, dtype=np.int64)
        self._t = np.repeat(self._start_t[:, :, None], n_envs, axis=2)  # (4, 4, N)
        self._used = np.zeros((n_envs, self._num_edges), dtype=bool)
        self._row_offsets = self._rows * self._num_edges  # row starts in the flattened used
        self._actions = np.zeros(n_envs, dtype=np.int64)
        self._singlet = np.ones(n_envs)
        self._fef = np.ones(n_envs)
        self._probability = np.ones(n_envs)
        self._route = np.full((n_envs, s.max_actions), -1, dtype=np.int64)
        self._route_length = np.zeros(n_envs, dtype=np.int64)
        self._valid = np.repeat(self._start_valid[None], n_envs, axis=0)
        self._obs = np.repeat(self._start_obs[None], n_envs, axis=0)
        self._ended = np.zeros(n_envs, dtype=bool)  # episode over, reset pending
        self._started = False

    @property
    def _fidelity(self) -> NDArray[np.float64]:
        return self._singlet if self._fom_is_singlet else self._fef

    # ----------------------------------------------------------------------- Gymnasium API
    def reset(
        self,
        *,
        seed: int | list[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        self._seed(seed)
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        mask = np.ones(self.num_envs, dtype=bool) if mask is None else self._check_reset_mask(mask)
        self._reset_rows(mask)
        self._started = True
        events = np.full(self.num_envs, _RESET, dtype=np.int64)
        info = self._info(mask, events, None)
        return self._obs.copy(), info

    def step(
        self, actions: Any
    ) -> tuple[
        NDArray[np.float32], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_], dict
    ]:
        if not self._started:
            raise gym.error.ResetNeeded(
                f"{type(self).__name__}.step() called before reset(); call reset() first"
            )
        actions = self._check_actions(actions)
        resetting = self._ended.copy()
        if self.autoreset_mode == AutoresetMode.DISABLED and resetting.any():
            raise gym.error.ResetNeeded(
                f"{type(self).__name__}.step() called on sub-envs "
                f"{np.flatnonzero(resetting).tolist()[:10]} whose episode ended (autoreset "
                "disabled); call reset(options={'reset_mask': mask}) first"
            )
        playing = ~resetting
        s, rows = self.scenario, self._rows
        n, e = self._num_nodes, self._num_edges

        slot = self._node * MAX_DEGREE + actions
        used_flat = self._used.reshape(-1)  # a view: used[i, e] is used_flat[i * E + e]
        edge = self._slot_edge[slot]
        empty = edge < 0
        used_link = ~empty & used_flat[self._row_offsets + np.maximum(edge, 0)]
        invalid = (empty | used_link) & playing
        moving = ~(empty | used_link) & playing

        # The swap of every row, one batched product T_held @ transfer. Rows that do not move
        # take the identity transfer, which gives back their held state and its figures of
        # merit exactly (T_00 = 1), so nothing needs selecting afterwards.
        transfer = np.take(self._transfer, np.where(moving, slot, self._identity_slot), axis=2)
        t = self._t
        product = t[:, 0, None, :] * transfer[None, 0]
        for j in range(1, 4):
            product += t[:, j, None, :] * transfer[None, j]
        trace = product[0, 0]
        if self._postselected:
            impossible = trace < ZERO_PROBABILITY
            swap_probability = np.minimum(trace, 1.0)
            held = product / trace
            if impossible.any():
                swap_probability[impossible] = 0.0
                held[:, :, impossible] = _MIXED[:, :, None]
        else:
            swap_probability = None
            held = product / trace
        self._t = held
        singlet = (held[0, 0] - held[1, 1] - held[2, 2] - held[3, 3]) / 4.0
        fef = fully_entangled_fraction_of_columns(held)
        fidelity = singlet if self._fom_is_singlet else fef
        gain = fidelity - self._fidelity
        self._singlet, self._fef = singlet, fef
        if swap_probability is not None:
            self._probability = self._probability * swap_probability
        old_node = self._node
        self._node = node = np.where(moving, self._slot_neighbor[slot], old_node)
        moved_rows, moved_edges = rows[moving], edge[moving]
        used_flat[self._row_offsets[moving] + moved_edges] = True
        self._route[moved_rows, self._route_length[moving]] = moved_edges
        self._route_length += moving
        self._actions += playing
        node_edges = self._slot_edges[node]
        seen = used_flat[self._row_offsets[:, None] + np.maximum(node_edges, 0)]
        self._valid = valid = (node_edges >= 0) & ~seen

        arrived = moving & (node == s.bob)
        dead_end = moving & ~arrived & ~valid.any(axis=1)
        terminated = invalid | arrived | dead_end
        truncated = playing & ~terminated & (self._actions >= s.max_actions)
        fidelity = self._fidelity
        reward = np.where(moving, gain, 0.0)
        reward = np.where(arrived, reward + core.ARRIVAL_REWARD_SCALE * fidelity, reward)
        reward = np.where(dead_end, reward + self.invalid_action_reward, reward)
        reward = np.where(invalid, self.invalid_action_reward, reward)
        events = np.zeros(self.num_envs, dtype=np.int64)
        events[arrived] = _ARRIVED
        events[dead_end] = _DEAD_END
        events[empty & playing] = _EMPTY_SLOT
        events[used_link & playing] = _USED_LINK
        events[truncated] = _OUT_OF_ACTIONS

        obs = self._obs
        obs[rows, old_node] = 0.0
        obs[rows, node] = 1.0
        obs[moved_rows, n + moved_edges] = 1.0
        obs[:, n + e] = np.minimum(self._actions / s.max_actions, 1.0)
        obs[:, n + e + 1] = np.clip(fidelity, 0.0, 1.0)
        obs[:, n + e + 2 :] = valid

        components = {
            "fidelity_gain": (moving, gain),
            "arrival": (arrived, core.ARRIVAL_REWARD_SCALE * fidelity),
            "invalid_action": (invalid, np.full(self.num_envs, self.invalid_action_reward)),
            "dead_end": (dead_end, np.full(self.num_envs, self.invalid_action_reward)),
        }
        ended = terminated | truncated
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            if resetting.any():
                self._reset_rows(resetting)
                events[resetting] = _RESET
            self._ended = ended
            info = self._info(np.ones(self.num_envs, dtype=bool), events, components)
        elif self.autoreset_mode == AutoresetMode.SAME_STEP:
            everyone = np.ones(self.num_envs, dtype=bool)
            if ended.any():
                final_info = self._info(ended, events, components)
                final_obs = np.full(self.num_envs, None, dtype=object)
                for i in np.flatnonzero(ended).tolist():
                    final_obs[i] = obs[i].copy()
                self._reset_rows(ended)
                events[ended] = _RESET
                no_components = {k: (v[0] & ~ended, v[1]) for k, v in components.items()}
                info = self._info(everyone, events, no_components)
                info["final_obs"], info["_final_obs"] = final_obs, ended.copy()
                info["final_info"], info["_final_info"] = final_info, ended.copy()
            else:
                info = self._info(everyone, events, components)
        else:
            self._ended = ended
            info = self._info(np.ones(self.num_envs, dtype=bool), events, components)
        return obs.copy(), reward, terminated, truncated, info

    def action_masks(self) -> NDArray[np.bool_]:
        """Valid slots of each sub-env's current node, shape ``(num_envs, 4)`` (a copy)."""
        return self._valid.copy()

    @property
    def np_random_seed(self) -> tuple[int, ...] | int:
        """Per sub-env seeds recorded by ``reset(seed=...)`` (a tuple, as ``SyncVectorEnv``)."""
        if self._np_random_seeds is None:
            self._seed([None] * self.num_envs)
        assert self._np_random_seeds is not None
        return self._np_random_seeds

    # --------------------------------------------------------------------------- internals
    def _seed(self, seed: int | list[int | None] | None) -> None:
        if seed is None:
            return
        if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
            seeds: list[int | None] = [int(seed) + i for i in range(self.num_envs)]
        elif isinstance(seed, list | tuple) and len(seed) == self.num_envs:
            seeds = list(seed)
        else:
            raise ValueError(
                f"seed must be None, an int or a list of {self.num_envs} ints or None, "
                f"got {show(seed)}"
            )
        fresh = int(np.random.SeedSequence().entropy)
        previous = self._np_random_seeds
        resolved = []
        for i, value in enumerate(seeds):
            if value is None:
                value = previous[i] if previous is not None else fresh + i
            elif isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"seed[{i}] must be a non-negative int or None, got {show(value)}")
            resolved.append(int(value))
        self._np_random_seeds = tuple(resolved)
        self._np_random, _ = seeding.np_random(resolved[0])

    def _check_actions(self, actions: Any) -> NDArray[np.int64]:
        array = np.asarray(actions)
        if (
            array.shape != (self.num_envs,)
            or array.dtype.kind not in "iu"
            or (self.num_envs and (array.min() < 0 or array.max() >= MAX_DEGREE))
        ):
            raise ValueError(
                f"actions must be an integer array of shape ({self.num_envs},) with values in "
                f"[0, {MAX_DEGREE - 1}], got {_describe(array)}"
            )
        return array.astype(np.int64, copy=False)

    def _check_reset_mask(self, mask: Any) -> NDArray[np.bool_]:
        if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
            raise TypeError(
                "options['reset_mask'] must be a numpy bool array of shape "
                f"({self.num_envs},), got {_describe(mask)}"
            )
        if mask.shape != (self.num_envs,) or not mask.any():
            raise ValueError(
                f"options['reset_mask'] must have shape ({self.num_envs},) and a True value, "
                f"got {_describe(mask)}"
            )
        return mask.copy()

    def _reset_rows(self, mask: NDArray[np.bool_]) -> None:
        rows = np.flatnonzero(mask)
        if not len(rows):
            return
        self._node[rows] = self.scenario.alice
        self._t[:, :, rows] = self._start_t[:, :, None]
        self._used[rows] = False
        self._actions[rows] = 0
        self._singlet[rows] = 1.0
        self._fef[rows] = 1.0
        self._probability[rows] = 1.0
        self._route[rows] = -1
        self._route_length[rows] = 0
        self._valid[rows] = self._start_valid
        self._obs[rows] = self._start_obs
        self._ended[rows] = False

    def _info(
        self,
        present: NDArray[np.bool_],
        events: NDArray[np.int64],
        components: dict[str, tuple[NDArray[np.bool_], NDArray[np.float64]]] | None,
    ) -> dict[str, Any]:
        """The vector info of the rows in ``present`` (a ``final_info`` when not all rows).

        ``components``: reward name -> (rows that have it, values); ``None`` after a reset
        (an empty ``rewards`` dict for every present row).
        """
        everyone = bool(present.all())

        def masked(values: NDArray[Any], fill: Any = 0) -> NDArray[Any]:
            if everyone:
                return values.copy()
            keep = present.reshape(-1, *([1] * (values.ndim - 1)))
            return np.where(keep, values, fill)

        info: dict[str, Any] = {
            "singlet_fidelity": masked(self._singlet),
            "fully_entangled_fraction": masked(self._fef),
            "success_probability": masked(self._probability),
            "route": masked(self._route, -1),
            "node": masked(self._node),
            "event": _EVENT_NAMES[events]
            if everyone
            else np.where(present, _EVENT_NAMES[events], None),
            "action_mask": masked(self._valid, False),
        }
        rewards: dict[str, Any] = {}
        for name, (has, values) in (components or {}).items():
            has = has & present
            if has.any():
                rewards[name] = np.where(has, values, 0.0)
                rewards[f"_{name}"] = has
        info["rewards"] = rewards
        for key in list(info):
            info[f"_{key}"] = present.copy()
        return info


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}, dtype {value.dtype}"
    return show(value)
