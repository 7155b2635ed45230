"""Gymnasium adapter of link-quality-aware routing (rules in ``qnet_envs.linkquality.core``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from qnet_envs.linkquality import core
from qnet_envs.linkquality.scenario import LinkQualityScenario
from qnet_envs.routing.scenario import show

ScenarioLike = str | Path | LinkQualityScenario


def resolve_scenario(scenario: ScenarioLike) -> LinkQualityScenario:
    """A scenario from a shipped name, a TOML path or a :class:`LinkQualityScenario`."""
    if isinstance(scenario, LinkQualityScenario):
        return scenario
    if isinstance(scenario, str | Path):
        return LinkQualityScenario.load(scenario)
    raise TypeError(
        f"scenario must be a name, a path or a LinkQualityScenario, got {type(scenario).__name__}"
    )


class LinkQualityRoutingEnv(gym.Env[NDArray[np.float32], np.int64]):
    """Route entanglement requests over links whose quality drifts and is only seen through noise.

    ## Description
    The link-quality-aware routing problem of "Machine Learning Assisted Quantum Network
    Optimization for Future Internet Architectures" (its Sec. 4), made precise in
    ``docs/linkquality-model.md``. A network (a topology-layer generator or a shipped real
    topology) has links with a success probability per attempt ``p_ij`` and a Werner fidelity
    ``F_ij`` that drift (Ornstein-Uhlenbeck drift, bursts of noise, failures and recoveries;
    one slot per request). Requests arrive between random node pairs, each with a fidelity
    threshold. For each request the env offers ``k = k_paths`` candidate paths: the k shortest
    paths under ``-log`` of the *estimated* probability that a link succeeds within the
    budget. The agent picks one; every link on it is attempted up to ``max_attempts`` times;
    the request is served if every link succeeds and the end-to-end fidelity (the chain swapped
    by the physics core) meets the threshold. The estimates come from noisy measurements only:
    background probes and the attempts of served requests. The agent never sees the true
    ``p_ij, F_ij``.

    ## Action Space
    ``Discrete(k_paths)``: the candidate slot. Fewer than ``k_paths`` simple paths may exist;
    ``action_masks()`` and ``info["action_mask"]`` mark the filled slots. Choosing an empty slot
    drops the request (``event`` ``"invalid_action"``, reward ``reward.invalid_action``, counted
    as not served) and the episode goes on.

    ## Observation Space
    ``Box(-1, 1, (7 * k_paths + 2,), float32)``: per candidate slot (``core.CANDIDATE_FEATURES``)
    ``valid``, predicted success within budget, predicted end-to-end fidelity, predicted
    fidelity minus threshold, hops / 32, length / 3200 km, predicted latency (scaled to at most
    1); then the request's threshold and the fraction of the episode's requests done. All
    predictions come from the ``estimator``.

    ## Rewards
    ``reward.success * served + reward.fidelity * F_end * served - reward.latency_per_ms *
    latency_ms`` (defaults 1, 0, 0.01); ``reward.invalid_action`` (default -1) for an empty slot.
    ``info["rewards"]`` holds the components (``success``, ``fidelity``, ``latency``,
    ``invalid_action``).

    ## Starting State
    Drift offsets from their stationary law, no burst or failure, one probe of every link
    (the initial estimates), the first request. ``reset(seed=s)`` seeds ``np_random``, from which
    an episode seed is drawn; ``reset(options={"episode_seed": n})`` uses ``n`` directly (two
    routers given the same episode seed face the same link states, requests and probes).

    ## Episode End
    Never terminated; truncated after ``requests.per_episode`` requests.

    ## Calls outside an episode
    ``step`` before ``reset`` or after truncation raises ``gymnasium.error.ResetNeeded``; an
    action that is not an integer in ``[0, k_paths - 1]`` (bools included) raises ``ValueError``.

    ## Info
    ``event`` (``"reset"``, ``"served"``, ``"failed_links"``, ``"failed_fidelity"``,
    ``"invalid_action"``), ``served``, ``fidelity``, ``latency_ms``, ``attempts``, ``path``
    (link indices), ``request`` (source, target, threshold of the *next* request),
    ``candidates`` (their node paths), ``action_mask``, ``rewards``.

    ## Arguments
    ``scenario``: a shipped name (``scenarios/linkquality/<name>.toml``), a TOML path or a
    :class:`~qnet_envs.linkquality.scenario.LinkQualityScenario` (default ``"waxman-50"``).
    ``estimator``: a callable from the link features ``(E, 8)`` float32
    (``core.FEATURE_NAMES``) to estimates ``(E, 2)`` of ``(p, F)``; default
    ``core.ema_estimate`` (running averages of the measurements). A learned predictor plugs in
    here. ``render_mode``: ``None`` or ``"rgb_array"``.

    ## Version History
    * v0: initial release.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        scenario: ScenarioLike = "waxman-50",
        estimator: core.Estimator | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, "
                f"got {render_mode!r}"
            )
        if estimator is not None and not callable(estimator):
            raise ValueError(f"estimator must be None or a callable, got {show(estimator)}")
        self.render_mode = render_mode
        self.network = core.Network.compile(resolve_scenario(scenario))
        self.estimator: core.Estimator = estimator or core.ema_estimate
        self.k = self.network.scenario.k_paths
        self.action_space = spaces.Discrete(self.k)
        size = len(core.CANDIDATE_FEATURES) * self.k + 2
        self.observation_space = spaces.Box(-1.0, 1.0, (size,), dtype=np.float32)
        self._sim: core.Simulation | None = None
        self._ended: str | None = "no reset yet"
        self._candidates: list[list[int]] = []
        self._last_path: tuple[int, ...] = ()
        self._viewer: Any = None

    @property
    def scenario(self) -> LinkQualityScenario:
        return self.network.scenario

    @property
    def simulation(self) -> core.Simulation:
        """The running episode (after ``reset``)."""
        if self._sim is None:
            raise gym.error.ResetNeeded("call reset() first")
        return self._sim

    # ----------------------------------------------------------------------- Gymnasium API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        episode_seed = (options or {}).get("episode_seed")
        if episode_seed is None:
            episode_seed = int(self.np_random.integers(2**63 - 1))
        elif isinstance(episode_seed, bool) or not isinstance(episode_seed, int | np.integer):
            raise ValueError(
                f"options['episode_seed'] must be an integer, got {show(episode_seed)}"
            )
        self._sim = core.Simulation(self.network, int(episode_seed))
        self._ended = None
        self._last_path = ()
        obs = self._prepare()
        info = self._info("reset", core.dropped(), {})
        return obs, info

    def step(
        self, action: int | np.integer
    ) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        if self._ended is not None or self._sim is None:
            raise gym.error.ResetNeeded(
                f"{type(self).__name__}.step() called with {self._ended}; call reset() first"
            )
        if isinstance(action, np.ndarray) and action.ndim == 0:
            action = action.item()
        if (
            isinstance(action, bool | np.bool_)
            or not isinstance(action, int | np.integer)
            or not 0 <= action < self.k
        ):
            raise ValueError(f"action must be an integer in [0, {self.k - 1}], got {show(action)}")
        sim = self._sim
        invalid = int(action) >= len(self._candidates)
        if invalid:
            outcome = sim.serve(None)
            event = "invalid_action"
        else:
            path = self.network.path_edges(self._candidates[int(action)])
            outcome = sim.serve(path)
            event = (
                "served"
                if outcome.served
                else ("failed_fidelity" if outcome.links_ok else "failed_links")
            )
        self._last_path = outcome.path
        components = core.rewards(self.scenario, outcome, invalid)
        truncated = sim.done
        if truncated:
            self._ended = "the episode over (truncated)"
            self._candidates = []
            obs = np.zeros(self.observation_space.shape, dtype=np.float32)
            obs[-1] = 1.0
        else:
            obs = self._prepare()
        info = self._info(event, outcome, components)
        return obs, float(sum(components.values())), False, truncated, info

    def action_masks(self) -> NDArray[np.bool_]:
        """Filled candidate slots, shape (k_paths,): MaskablePPO's hook."""
        mask = np.zeros(self.k, dtype=bool)
        mask[: len(self._candidates)] = True
        return mask

    def render(self) -> NDArray[np.uint8] | None:
        if self.render_mode != "rgb_array":
            return None
        from qnet_envs.linkquality.viewer import LinkQualityViewer

        if self._viewer is None:
            self._viewer = LinkQualityViewer(self.network)
        estimate = self._estimate() if self._sim is not None else None
        return self._viewer.draw(estimate, self._last_path, self._sim)

    def close(self) -> None:
        if self._viewer is not None:
            self._viewer.close()
            self._viewer = None

    # --------------------------------------------------------------------------- internals
    def _estimate(self) -> core.FloatArray:
        estimate = np.asarray(self.estimator(self.simulation.features()), dtype=np.float64)
        expected = (self.network.num_edges, 2)
        if estimate.shape != expected or not np.all(np.isfinite(estimate)):
            raise ValueError(
                f"estimator must return finite values of shape {expected}, got shape "
                f"{estimate.shape}"
            )
        return estimate

    def _prepare(self) -> NDArray[np.float32]:
        """Candidates and observation for the current request."""
        sim = self.simulation
        obs, self._candidates = core.observation(
            self.network, sim.request, sim.index, self._estimate(), self.k
        )
        return obs

    def _info(
        self, event: str, outcome: core.Outcome, components: dict[str, float]
    ) -> dict[str, Any]:
        sim = self.simulation
        return {
            "event": event,
            "served": outcome.served,
            "fidelity": outcome.fidelity,
            "latency_ms": outcome.latency_ms,
            "attempts": outcome.attempts,
            "path": outcome.path,
            "request": (sim.request.source, sim.request.target, sim.request.threshold),
            "candidates": tuple(tuple(p) for p in self._candidates),
            "action_mask": self.action_masks(),
            "rewards": dict(components),
        }
