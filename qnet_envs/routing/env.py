"""Gymnasium adapters of the swap-routing game (rules in ``qnet_envs.routing.core``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from qnet_envs.physics import fully_entangled_fraction, singlet_fidelity
from qnet_envs.routing import core
from qnet_envs.routing.scenario import MAX_DEGREE, Scenario, show

ScenarioLike = str | Path | Scenario


class _Step(NamedTuple):
    """What one ``(route, actions, action)`` (or a reset) produces; shared, never mutated."""

    state: core.GameState
    outcome: core.StepOutcome
    obs: NDArray[np.float32]  # read-only
    mask: NDArray[np.bool_]  # read-only; each step returns a copy
    info: dict[str, Any]  # without "action_mask" and "rewards", which each step copies


def resolve_scenario(scenario: ScenarioLike) -> Scenario:
    """A :class:`Scenario` from a shipped name, a TOML path or a Scenario."""
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, str | Path):
        return Scenario.load(scenario)
    raise TypeError(f"scenario must be a name, a path or a Scenario, got {type(scenario).__name__}")


class SwapRoutingEnv(gym.Env[NDArray[np.float32], np.int64]):
    """Route entanglement from Alice to Bob by swapping it along the links of a quantum network.

    ## Description
    The game of "Routing in quantum networks using reinforcement learning" (Sec. 3). Every link
    holds a two-qubit state (Werner, amplitude damped, phase shifted or any density matrix).
    The agent starts at Alice holding a singlet (``F = 1``). Each action picks one of the current
    node's links; the link's state is swapped into the held state (a Bell measurement at the
    current node) and the agent moves to the link's far end. Each link can be used once per
    episode (its pair is consumed); nodes may repeat. ``F`` is the scenario's figure of merit
    (singlet fidelity by default) of the state Alice shares with the agent's node. Because
    amplitude damping and phase noise can cancel, ``F`` is not a product over links: the best
    route is not a shortest path.

    ## Action Space
    ``Discrete(4)``: slot ``a`` of the current node. A node's slots are its links in the order
    they appear in the scenario's edge list (slot 0 = first listed link touching the node);
    slots past the node's degree are empty. ``action_masks()`` (for sb3-contrib's MaskablePPO)
    and ``info["action_mask"]`` mark slots holding an unused link.

    ## Observation Space
    ``Box(0, 1, (num_nodes + num_edges + 2 + 4,), float32)``: one-hot current node; 1 for each
    used link; fraction of ``max_actions`` spent; ``F`` of the held state; the action mask. Link
    states are not observed: the agent learns them from its rewards.

    ## Rewards
    ``F_i - F_{i-1}`` per valid action (``F_0 = 1``); arriving at Bob adds ``100 * F``. An invalid
    action (empty slot or used link) ends the episode with ``invalid_action_reward`` (default
    ``-1``); so does arriving at a dead end (below), where every next action would be invalid.
    ``info["rewards"]`` holds the named components (``fidelity_gain``, ``arrival``,
    ``invalid_action``, ``dead_end``).

    ## Starting State
    The agent at Alice holding a singlet; no link used. The game is deterministic: the seed only
    seeds ``np_random`` (kept for wrappers).

    ## Episode End
    Terminated on arrival at Bob, on an invalid action, or on arrival at a node (not Bob) all of
    whose links are used ("dead end": ``invalid_action_reward``, no arrival reward). Truncated
    after ``max_actions`` actions. ``info["event"]`` says what the last action did, and so why
    an episode ended: ``"arrived"``, ``"empty_slot"`` or ``"used_link"`` (invalid actions),
    ``"dead_end"``, ``"out_of_actions"`` (truncated); ``"moved"`` while it goes on (``"reset"``
    after a reset). An action that ends the episode in two ways reports the termination.

    ## Calls outside an episode
    The raw env (without ``gym.make``'s wrappers) enforces the call order itself: ``step`` before
    the first ``reset``, or after a step that returned ``terminated`` or ``truncated``, raises
    ``gymnasium.error.ResetNeeded`` (nothing is played). ``step`` takes a Python or numpy
    integer in ``[0, 3]`` (or a 0-d integer array); anything else, ``True`` and ``False``
    included, raises ``ValueError``.

    ## Info
    ``singlet_fidelity``, ``fully_entangled_fraction`` and ``success_probability`` (product of
    the swaps' postselection probabilities; 1 in deterministic mode) of the held state;
    ``route`` (edge indices so far), ``node``, ``action_mask``, ``event``, ``rewards``.

    ## Vector env
    ``gym.make_vec(id, num_envs=N)`` (``vectorization_mode="vector_entry_point"``, make_vec's
    default for this class's ids) builds
    :class:`~qnet_envs.routing.vector.SwapRoutingVectorEnv`: ``N`` copies of this game stepped
    by batched array operations, sub-env for sub-env equal to this env (``docs/vector.md``;
    for SB3 and MaskablePPO: ``agents.sb3_vector.SB3RoutingVecEnv``).

    ## Arguments
    ``scenario``: a shipped name (``scenarios/routing/<name>.toml``), a TOML path or a
    :class:`~qnet_envs.routing.scenario.Scenario` (default ``"default"``).
    ``render_mode``: ``None`` or ``"rgb_array"``. ``invalid_action_reward``: float <= 0.

    ## Version History
    * v0: initial release. Later fixes that change no episode (observations, rewards,
      terminated, truncated) and so keep v0: ``info["event"]`` names a truncation
      (``"out_of_actions"``; it said ``"moved"``, against this spec); the raw env raises
      ``ResetNeeded`` for ``step`` before ``reset`` (was ``AttributeError``) or after the
      episode's end (it played on), and ``ValueError`` for a bool action (``True`` played 1).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 4}
    step_cache_size: ClassVar[int] = 16_384
    """Transitions remembered per env (0: none). The game is deterministic, so a step is a pure
    function of the route so far and the action: a remembered one is replayed without redoing
    the swap, the observation and the info (the cache is emptied when full, and whenever the
    network changes)."""

    def __init__(
        self,
        scenario: ScenarioLike = "default",
        render_mode: str | None = None,
        invalid_action_reward: float = core.DEFAULT_INVALID_ACTION_REWARD,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, "
                f"got {render_mode!r}"
            )
        if (
            isinstance(invalid_action_reward, bool)
            or not isinstance(invalid_action_reward, int | float | np.integer | np.floating)
            or not np.isfinite(invalid_action_reward)
            or invalid_action_reward > 0
        ):
            raise ValueError(
                "invalid_action_reward must be a finite number <= 0, got "
                f"{show(invalid_action_reward)}"
            )
        self.render_mode = render_mode
        self.invalid_action_reward = float(invalid_action_reward)
        self._set_network(core.Network.compile(resolve_scenario(scenario)))
        self.action_space = spaces.Discrete(MAX_DEGREE)
        self.observation_space = spaces.Box(
            0.0, 1.0, (core.observation_size(self.scenario),), dtype=np.float32
        )
        self._state = core.initial(self._network)
        self._ended: str | None = "no reset yet"  # why step must not run, or None
        self._viewer = None

    @property
    def scenario(self) -> Scenario:
        return self._network.scenario

    def _set_network(self, network: core.Network) -> None:
        self._network = network
        self._steps: dict[tuple[tuple[int, ...], int, int], _Step] = {}
        self._start: _Step | None = None  # the reset's observation, mask and info

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_steps"] = {}  # a cache: not worth pickling
        return state

    # ----------------------------------------------------------------------- Gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        self._state = core.initial(self._network)
        if self._start is None:
            obs = core.observe(self._network, self._state)
            reset = core.StepOutcome(0.0, False, False, "reset", {})
            self._start = _frozen_step(self._state, reset, obs, self._info("reset"))
        self._obs = self._start.obs
        self._ended = None
        return self._obs.copy(), _caller_info(self._start)

    def step(
        self, action: int | np.integer
    ) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        if self._ended is not None:
            raise gym.error.ResetNeeded(
                f"{type(self).__name__}.step() called with {self._ended}; call reset() first"
            )
        if not (
            (type(action) is int or isinstance(action, np.integer)) and 0 <= action < MAX_DEGREE
        ) and (isinstance(action, bool) or not self.action_space.contains(action)):
            raise ValueError(
                f"action must be an integer in [0, {MAX_DEGREE - 1}], got {show(action)}"
            )
        key = (self._state.route, self._state.actions, int(action))
        step = self._steps.get(key)
        if step is None:
            step = self._play(int(action))
            if self.step_cache_size > 0:
                if len(self._steps) >= self.step_cache_size:
                    self._steps.clear()
                self._steps[key] = step
        self._state, self._obs = step.state, step.obs
        outcome = step.outcome
        if outcome.terminated or outcome.truncated:
            self._ended = f"the episode over (event {outcome.event!r})"
        return (
            self._obs.copy(),
            outcome.reward,
            outcome.terminated,
            outcome.truncated,
            _caller_info(step),
        )

    def action_masks(self) -> NDArray[np.bool_]:
        """Valid slots of the current node, shape (4,): MaskablePPO's hook."""
        return core.action_mask(self._network, self._state)

    def render(self) -> NDArray[np.uint8] | None:
        if self.render_mode != "rgb_array":
            return None
        from qnet_envs.routing.viewer import RouteViewer

        if self._viewer is None:
            self._viewer = RouteViewer(self.scenario)
        return self._viewer.draw(self.scenario, self._state.route, self._state.node)

    def close(self) -> None:
        if self._viewer is not None:
            self._viewer.close()
            self._viewer = None

    # --------------------------------------------------------------------------- internals
    def _play(self, action: int) -> _Step:
        """Play ``action`` from the current state (no cache): the step to remember."""
        before = self._state
        state, outcome = core.transition(self._network, before, action, self.invalid_action_reward)
        self._state = state
        obs = self._obs.copy()
        self._update_observation(obs, before, state)
        return _frozen_step(state, outcome, obs, self._info(outcome.event))

    def _update_observation(
        self, obs: NDArray[np.float32], before: core.GameState, state: core.GameState
    ) -> None:
        """Bring ``obs`` (``core.observe`` of ``before``) to ``core.observe`` of ``state``,
        touching the changed entries only."""
        scenario = self.scenario
        n, e = scenario.num_nodes, scenario.num_edges
        obs[before.node] = 0.0
        obs[state.node] = 1.0
        if len(state.route) > len(before.route):
            obs[n + state.route[-1]] = 1.0
        obs[n + e] = min(state.actions / scenario.max_actions, 1.0)
        obs[n + e + 1] = min(max(state.fidelity, 0.0), 1.0)
        obs[n + e + 2 :] = state.valid

    def _info(self, event: str) -> dict[str, Any]:
        """The info of the current state, but for ``action_mask`` and ``rewards``."""
        state = self._state
        if self.scenario.figure_of_merit == "singlet_fidelity":
            singlet = state.fidelity
        else:
            singlet = float(singlet_fidelity(state.held.reshape(4, 4)))
        return {
            "singlet_fidelity": singlet,
            "fully_entangled_fraction": float(fully_entangled_fraction(state.held.reshape(4, 4))),
            "success_probability": state.probability,
            "route": state.route,
            "node": state.node,
            "event": event,
        }


def _frozen_step(
    state: core.GameState,
    outcome: core.StepOutcome,
    obs: NDArray[np.float32],
    info: dict[str, Any],
) -> _Step:
    """A :class:`_Step` whose observation (taken over) and mask are read-only."""
    obs.flags.writeable = False
    mask = obs[-MAX_DEGREE:].astype(bool)
    mask.flags.writeable = False
    return _Step(state, outcome, obs, mask, info)


def _caller_info(step: _Step) -> dict[str, Any]:
    """A fresh info dict for the caller: the cached entries, the mask and the rewards."""
    info = step.info.copy()
    info["action_mask"] = step.mask.copy()
    info["rewards"] = step.outcome.rewards.copy()
    return info


class EvolvingSwapRoutingEnv(SwapRoutingEnv):
    """The swap-routing game on a network whose links change in stages.

    ## Description
    The evolving network of "Routing in quantum networks using reinforcement learning"
    (Sec. 4.4). The run lasts ``total_actions`` actions (default 10^6) split evenly into the
    scenario's stages (10 for both shipped evolving scenarios); at each stage boundary events
    damp or heal links so that the previous best route falls below the success threshold. The
    game within a stage is exactly :class:`SwapRoutingEnv`'s.

    Two shipped scenarios (``docs/routing-scenarios.md``):

    * ``evolving`` (``qnet_envs/SwapRouting-Evolving-v0``) reproduces the paper: the clustered
      network, damage by white noise, amplitude damping and phase noise, optimal routes of 4 to
      10 intermediary nodes. Many healthy routes survive each stage, so once invalid actions
      are masked it does not separate agents: random valid play keeps it up about 97% of the
      time (``docs/routing-evolving-masked.md``).
    * ``evolving-maze`` (``qnet_envs/SwapRouting-EvolvingMaze-v0``) is the harder benchmark:
      an 8 x 8 grid where each stage is a maze (the healthy links are a random spanning tree
      plus up to 16 more links, every other link is damaged), so the routes with ``F > 0.8``
      are the trails of healthy links, the shortest with 12 to 16 intermediary nodes; random
      valid play walks one with probability 5e-7 to 2e-4 per game, far from the optimum
      (``docs/routing-scenarios.md``; uptimes per agent: ``docs/routing-evolving-maze.md``).

    Once an episode reaches Bob with ``F > success_threshold`` (0.8), the agent holds a working
    route and keeps it until the network next changes: the clock jumps to the next stage
    boundary and the skipped actions count as up-time. ``uptime`` is the fraction of the actions
    elapsed so far during which the agent held such a route.

    ## Action Space
    As :class:`SwapRoutingEnv`.

    ## Observation Space
    As :class:`SwapRoutingEnv`; the stage is not observed: the agent notices changes through its
    rewards.

    ## Rewards
    As :class:`SwapRoutingEnv`.

    ## Episode End
    As :class:`SwapRoutingEnv`, and an episode is also truncated when the clock reaches
    ``total_actions`` (``info["event"]`` ``"end_of_run"``, unless the action terminated the
    episode; later episodes of the run are truncated after one action, until a restart). A
    stage change that falls inside an episode takes effect at the next ``reset``.
    Calls outside an episode: as :class:`SwapRoutingEnv`.

    ## Starting State
    ``reset(seed=...)`` or ``reset(options={"restart": True})`` restarts the evolution at stage 0
    with the clock at zero; a plain ``reset()`` starts a new episode and the evolution goes on.

    ## Info
    As :class:`SwapRoutingEnv`, plus ``stage``, ``clock`` (actions elapsed, including skipped
    ones), ``uptime``, and ``stage_uptime`` (per stage, the fraction of its actions up so far).

    ## Arguments
    ``scenario``: an evolving scenario name (default ``"evolving"``, or ``"evolving-maze"``),
    path or :class:`~qnet_envs.routing.evolving.EvolvingScenario`; ``total_actions``: int >=
    number of stages; ``success_threshold``: in (0, 1); ``render_mode``,
    ``invalid_action_reward`` as :class:`SwapRoutingEnv`.

    ## Version History
    * v0: initial release. Later fixes that keep v0: as :class:`SwapRoutingEnv`'s, and
      ``info["event"]`` names the run's end (``"end_of_run"``; it said ``"moved"``). The id
      ``qnet_envs/SwapRouting-EvolvingMaze-v0`` (scenario ``evolving-maze``) was added later;
      the env's behaviour did not change.
    """

    def __init__(
        self,
        scenario: Any = "evolving",
        total_actions: int = 1_000_000,
        success_threshold: float = 0.8,
        render_mode: str | None = None,
        invalid_action_reward: float = core.DEFAULT_INVALID_ACTION_REWARD,
    ) -> None:
        from qnet_envs.routing.evolving import EvolvingScenario

        evolving = scenario if isinstance(scenario, EvolvingScenario) else None
        if evolving is None:
            evolving = EvolvingScenario.load(scenario)
        if (
            isinstance(total_actions, bool)
            or not isinstance(total_actions, int | np.integer)
            or (total_actions < len(evolving.stages))
        ):
            raise ValueError(
                f"total_actions must be an integer >= the number of stages "
                f"({len(evolving.stages)}), got {show(total_actions)}"
            )
        if (
            isinstance(success_threshold, bool)
            or not isinstance(success_threshold, int | float | np.integer | np.floating)
            or not 0.0 < success_threshold < 1.0
        ):
            raise ValueError(f"success_threshold must lie in (0, 1), got {show(success_threshold)}")
        self.evolving = evolving
        self.total_actions = int(total_actions)
        self.success_threshold = float(success_threshold)
        self._networks = [core.Network.compile(stage) for stage in evolving.stages]
        super().__init__(evolving.stages[0], render_mode, invalid_action_reward)
        self._restart()

    @property
    def num_stages(self) -> int:
        return len(self._networks)

    def stage_bounds(self, stage: int) -> tuple[int, int]:
        """``[start, end)`` of a stage on the action clock."""
        start = stage * self.total_actions // self.num_stages
        end = (stage + 1) * self.total_actions // self.num_stages
        return start, end

    def _stage_at(self, clock: int) -> int:
        return min(clock * self.num_stages // self.total_actions, self.num_stages - 1)

    def _restart(self) -> None:
        self._clock = 0
        self._up_actions = np.zeros(self.num_stages, dtype=np.int64)
        self._stage = 0
        self._set_network(self._networks[0])

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        if seed is not None or (options or {}).get("restart", False):
            self._restart()
        self._enter_stage(self._stage_at(self._clock))
        obs, info = super().reset(seed=seed, options=options)
        return obs, self._with_evolution(info)

    def step(
        self, action: int | np.integer
    ) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = super().step(action)
        self._clock += 1
        if info["event"] == "arrived" and self._state.fidelity > self.success_threshold:
            _, end = self.stage_bounds(self._stage)
            skipped = max(end - self._clock, 0)
            self._up_actions[self._stage] += skipped
            self._clock += skipped
        if self._clock >= self.total_actions and not terminated:
            truncated = True
            info["event"] = "end_of_run"
            self._ended = (
                "the run over (event 'end_of_run'; reset(seed=...) or "
                "reset(options={'restart': True}) starts a new run)"
            )
        return obs, reward, terminated, truncated, self._with_evolution(info)

    def _enter_stage(self, stage: int) -> None:
        if stage != self._stage:
            self._stage = stage
            self._set_network(self._networks[stage])
            if self._viewer is not None:
                self._viewer.close()
                self._viewer = None

    def evolution_info(self) -> dict[str, Any]:
        """``stage``, ``clock``, ``uptime`` and ``stage_uptime`` of the run so far."""
        return self._with_evolution({})

    def _with_evolution(self, info: dict[str, Any]) -> dict[str, Any]:
        elapsed = min(self._clock, self.total_actions)
        lengths = np.array(
            [end - start for start, end in map(self.stage_bounds, range(self.num_stages))]
        )
        info["stage"] = self._stage
        info["clock"] = self._clock
        info["uptime"] = float(self._up_actions.sum() / elapsed) if elapsed else 0.0
        info["stage_uptime"] = (self._up_actions / lengths).tolist()
        return info
