"""Pure rules of the offloading game: jobs, link draws, the cost of an assignment, queues.

No gymnasium here: every function takes the compiled :class:`Layout`, arrays and, where it
draws, an explicit ``numpy.random.Generator``. Conventions (``docs/offloading-model.md``):

* Mobile node ``i`` (``0 <= i < M``) holds agent ``i``'s job. Remote targets ``j`` (``0 <= j <
  R``) are the edge nodes ``0 .. E-1`` then the cloud; remote target ``j`` is node ``M + j``.
* An *action* is a target ``t`` (``0`` = local, ``1 + j`` = remote ``j``) and a share ``s`` in
  ``[0, 1]``: share ``s`` of the job's runs goes to the target and ``1 - s`` stays local
  (``t = 0`` keeps everything local, ``s`` is ignored).
* A share sent where it cannot run this step **falls back** to the job's own node: the
  remote node lacks the qubits (``no_fit``), the link is down this step (``link_down``: rate
  0), or no purification within ``max_rounds`` reaches the job's fidelity need
  (``fidelity_unreachable``). A share that cannot run on the job's own node either (too few
  qubits there) is **dropped** and costs ``drop_penalty`` per job; a job that fits on no node
  at all is ``unservable`` (dropped whatever the action).
* A node runs its backlog first; the work placed on it this step finishes when the backlog and
  the whole step's new work are done (processor sharing), a teleported share after its pairs
  have arrived: latency of a remote share ``s * tx + B_j + load_j``. A job waits for its own
  node's backlog ``B_i`` in any case (its node prepares the input states), so its latency is
  ``max(B_i + l * exec_i, latest remote share)`` with ``l`` the share run locally (dropped
  shares add none). Backlogs advance by ``step_s`` seconds of work per step.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
from numpy.typing import NDArray

from qnet_envs.offloading.scenario import Scenario
from qnet_envs.physics import distillation_schedule, nested_swap_fidelity

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: Reason codes of a job's outcome (``Outcome.reason``), in priority order.
REASONS = ("ok", "no_job", "unservable", "no_fit", "link_down", "fidelity_unreachable")


def qubits_needed(n: IntArray | int, k: IntArray | int) -> IntArray | int:
    """Qubits of an ``n -> k`` quantum autoencoder: ``n`` input, ``n - k`` reference, one
    auxiliary: ``2n - k + 1``."""
    return 2 * np.asarray(n) - np.asarray(k) + 1 if isinstance(n, np.ndarray) else 2 * n - k + 1


@functools.lru_cache(maxsize=65536)
def _raw_pairs(
    fidelity_steps: int, need_steps: int, resolution: float, protocol: str, max_rounds: int
) -> float:
    """Expected raw pairs per purified pair (``inf`` when the need is unreachable)."""
    fidelity, need = fidelity_steps * resolution, need_steps * resolution
    if fidelity >= need:
        return 1.0
    try:
        schedule = distillation_schedule(
            min(fidelity, 1.0), min(need, 1.0), protocol=protocol, max_rounds=max_rounds
        )
    except ValueError:
        return float("inf")
    return float(schedule.raw_pairs_per_output)


def raw_pairs_per_pair(fidelity: FloatArray, need: FloatArray, scenario: Scenario) -> FloatArray:
    """Raw pairs of singlet fidelity ``fidelity`` consumed per pair purified to ``need``
    (recurrence distillation, :func:`qnet_envs.physics.distillation_schedule`); ``inf`` where no
    schedule within ``scenario.max_rounds`` reaches it. Broadcasts; values are snapped to the
    scenario's fidelity grid (link fidelities are drawn on it)."""
    res = scenario.fidelity_resolution
    f_steps = np.floor(np.asarray(fidelity, dtype=np.float64) / res + 1e-9).astype(np.int64)
    n_steps = np.ceil(np.asarray(need, dtype=np.float64) / res - 1e-9).astype(np.int64)
    f_steps, n_steps = np.broadcast_arrays(f_steps, n_steps)
    out = np.empty(f_steps.shape)
    for index in np.ndindex(f_steps.shape):
        out[index] = _raw_pairs(
            int(f_steps[index]), int(n_steps[index]), res, scenario.protocol, scenario.max_rounds
        )
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class Layout:
    """A scenario compiled to arrays. Node arrays are ``(N,)`` (mobile, edge, cloud); link
    arrays ``(M, R)`` (mobile node, remote target)."""

    scenario: Scenario
    qubits: IntArray
    gate_time_s: FloatArray
    gate_fidelity: FloatArray
    power_w: FloatArray
    home_edge: IntArray  # (M,) remote index of each mobile node's home edge (-1 without edges)
    link_class: IntArray  # (M, R): 0 home edge, 1 far edge, 2 cloud
    mean_rate: FloatArray
    rate_shape: FloatArray
    outage: FloatArray
    fidelity_low: FloatArray
    fidelity_high: FloatArray
    hops: IntArray
    energy_per_pair_j: FloatArray

    @classmethod
    def compile(cls, scenario: Scenario) -> Layout:
        tiers = [
            (scenario.mobile, scenario.mobile.count),
            (scenario.edge, scenario.edge.count),
            (scenario.cloud, scenario.cloud.count),
        ]

        def per_node(attr: str, dtype: type) -> NDArray:
            return np.concatenate(
                [np.full(count, getattr(tier, attr), dtype=dtype) for tier, count in tiers]
            )

        m, e, r = scenario.n_mobile, scenario.n_edge, scenario.n_remote
        home = np.arange(m) % e if e else np.full(m, -1)
        link_class = np.full((m, r), 2, dtype=np.int64)
        if e:
            link_class[:, :e] = 1
            link_class[np.arange(m), home] = 0
        classes = scenario.link_classes

        def per_link(attr: str, dtype: type = np.float64) -> NDArray:
            values = np.array([getattr(c, attr) for c in classes], dtype=dtype)
            return values[link_class]

        return cls(
            scenario=scenario,
            qubits=per_node("qubits", np.int64),
            gate_time_s=per_node("gate_time_s", np.float64),
            gate_fidelity=per_node("gate_fidelity", np.float64),
            power_w=per_node("power_w", np.float64),
            home_edge=home.astype(np.int64),
            link_class=link_class,
            mean_rate=per_link("mean_rate_pairs_s"),
            rate_shape=per_link("rate_shape"),
            outage=per_link("outage_probability"),
            fidelity_low=per_link("fidelity_low"),
            fidelity_high=per_link("fidelity_high"),
            hops=per_link("hops", np.int64),
            energy_per_pair_j=per_link("energy_per_pair_j"),
        )

    @property
    def n_mobile(self) -> int:
        return self.scenario.n_mobile

    @property
    def n_remote(self) -> int:
        return self.scenario.n_remote

    @property
    def n_targets(self) -> int:
        """Action targets: local plus every remote node."""
        return 1 + self.n_remote

    @property
    def share_grid(self) -> FloatArray:
        """The discrete variant's shares: ``1/K, 2/K, ..., 1`` (``K = share_levels``)."""
        k = self.scenario.share_levels
        return np.arange(1, k + 1) / k


@dataclasses.dataclass(frozen=True, eq=False)
class Jobs:
    """This step's jobs, one row per mobile node (rows without a job are zero)."""

    present: BoolArray
    n: IntArray
    k: IntArray
    shots: IntArray
    need: FloatArray  # singlet fidelity every teleportation pair must reach

    @property
    def qubits(self) -> IntArray:
        return np.where(self.present, qubits_needed(self.n, self.k), 0)


def sample_jobs(layout: Layout, rng: np.random.Generator) -> Jobs:
    """One job per mobile node with probability ``jobs.arrival_probability``."""
    spec, m = layout.scenario.jobs, layout.n_mobile
    res = layout.scenario.fidelity_resolution
    present = rng.random(m) < spec.arrival_probability
    n = rng.integers(spec.n_min, spec.n_max + 1, size=m)
    k_high = np.minimum(spec.k_max, n - 1)
    k = spec.k_min + np.floor(rng.random(m) * (k_high - spec.k_min + 1)).astype(np.int64)
    shots = rng.integers(spec.shots_min, spec.shots_max + 1, size=m)
    lo = round(spec.fidelity_need_low / res)
    hi = round(spec.fidelity_need_high / res)
    need = rng.integers(lo, hi + 1, size=m) * res
    zero = np.zeros(m, dtype=np.int64)
    return Jobs(
        present=present,
        n=np.where(present, n, zero),
        k=np.where(present, k, zero),
        shots=np.where(present, shots, zero),
        need=np.where(present, need, 0.0),
    )


@dataclasses.dataclass(frozen=True, eq=False)
class Links:
    """One step's realised links ``(M, R)``: rate (pairs/s, 0 = down) and the end-to-end
    singlet fidelity of a raw pair."""

    rate: FloatArray
    fidelity: FloatArray


def sample_links(layout: Layout, rng: np.random.Generator, size: int | None = None) -> Links:
    """Draw every link's rate and fidelity (``size`` independent draws stacked in front when
    given): Gamma rates with outages, grid-uniform elementary fidelities swapped over
    ``hops`` links."""
    shape = layout.mean_rate.shape if size is None else (size, *layout.mean_rate.shape)
    res = layout.scenario.fidelity_resolution
    up = rng.random(shape) >= layout.outage
    gamma = rng.gamma(layout.rate_shape, 1.0 / layout.rate_shape, size=shape)
    rate = np.where(up, layout.mean_rate * gamma, 0.0)
    lo = np.rint(layout.fidelity_low / res).astype(np.int64)
    hi = np.rint(layout.fidelity_high / res).astype(np.int64)
    elementary = rng.integers(lo, hi + 1, size=shape) * res
    fidelity = nested_swap_fidelity(np.clip(elementary, 0.0, 1.0), layout.hops)
    fidelity = np.floor(fidelity / res + 1e-9) * res  # stay on the grid the cache keys use
    return Links(rate=rate, fidelity=fidelity)


@dataclasses.dataclass(frozen=True, eq=False)
class JobCosts:
    """Per-job constants of a step, for every node: what running the whole job costs there.

    ``depth``, ``fits`` and the ``exec_s`` of the local node and of each remote node, the raw
    pairs ``pairs_full`` ``(M, R)`` needed to offload the whole job to remote ``j`` at the
    realised fidelity (``inf`` when unreachable), its transfer time ``tx_full_s`` (``inf`` when
    the link is down or the need unreachable) and transfer energy ``tx_energy_full_j``.
    """

    present: BoolArray  # (M,) the node has a job
    depth: IntArray  # (M,) circuit layers
    fits_local: BoolArray  # (M,)
    fits_remote: BoolArray  # (M, R)
    exec_local_s: FloatArray  # (M,)
    exec_remote_s: FloatArray  # (M, R)
    runs_remote: FloatArray  # (M, R) expected runs at the remote node
    raw_per_pair: FloatArray  # (M, R)
    pairs_full: FloatArray  # (M, R)
    tx_full_s: FloatArray  # (M, R)
    tx_energy_full_j: FloatArray  # (M, R)
    link_up: BoolArray  # (M, R) rate > 0
    reachable: BoolArray  # (M, R) fidelity need reachable

    @property
    def usable(self) -> BoolArray:
        """``(M, R)``: the job fits there, the link is up and the need reachable."""
        return self.fits_remote & self.link_up & self.reachable

    @property
    def servable(self) -> BoolArray:
        """``(M,)``: the job fits on its own node or on some remote node."""
        return self.fits_local | self.fits_remote.any(axis=1)


def runs_needed(shots: IntArray, depth: IntArray, gate_fidelity: FloatArray) -> FloatArray:
    """Expected runs for ``shots`` error-free runs of depth ``depth``: ``shots / g ** depth``."""
    return shots / np.power(gate_fidelity, depth)


def job_costs(layout: Layout, jobs: Jobs, rate: FloatArray, fidelity: FloatArray) -> JobCosts:
    """The per-job constants of one step at the given link rate and fidelity ``(M, R)``."""
    m = layout.n_mobile
    sc = layout.scenario
    q = jobs.qubits
    depth = sc.jobs.layers_per_qubit * q
    present = jobs.present
    local_nodes = np.arange(m)
    remote_nodes = m + np.arange(layout.n_remote)
    fits_local = present & (q <= layout.qubits[local_nodes])
    fits_remote = present[:, None] & (q[:, None] <= layout.qubits[remote_nodes][None, :])
    runs_local = runs_needed(jobs.shots, depth, layout.gate_fidelity[local_nodes])
    exec_local = np.where(present, runs_local * depth * layout.gate_time_s[local_nodes], 0.0)
    runs_remote = runs_needed(
        jobs.shots[:, None], depth[:, None], layout.gate_fidelity[remote_nodes][None, :]
    )
    exec_remote = np.where(
        present[:, None], runs_remote * depth[:, None] * layout.gate_time_s[remote_nodes], 0.0
    )
    raw = np.ones_like(rate)
    if present.any():
        raw[present] = raw_pairs_per_pair(fidelity[present], jobs.need[present, None], sc)
    reachable = np.isfinite(raw)
    link_up = rate > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        pairs = np.where(present[:, None], runs_remote * jobs.n[:, None] * raw, 0.0)
        tx = np.where(link_up & reachable, pairs / np.where(link_up, rate, 1.0), np.inf)
    tx = np.where(present[:, None], tx, 0.0)
    return JobCosts(
        present=present,
        depth=depth,
        fits_local=fits_local,
        fits_remote=fits_remote,
        exec_local_s=exec_local,
        exec_remote_s=exec_remote,
        runs_remote=runs_remote,
        raw_per_pair=raw,
        pairs_full=pairs,
        tx_full_s=tx,
        tx_energy_full_j=np.where(reachable, pairs * layout.energy_per_pair_j, np.inf),
        link_up=link_up,
        reachable=reachable,
    )


@dataclasses.dataclass(frozen=True, eq=False)
class Placement:
    """Where each job's runs go after the rules: shares ``local (M,)``, ``remote (M, R)`` and
    ``dropped (M,)`` (summing to 1 for a present job), and a reason code per job
    (index into :data:`REASONS`: why the offloaded share did not run where it was sent, else
    ``no_fit`` when a share kept home was dropped)."""

    local: FloatArray
    remote: FloatArray
    dropped: FloatArray
    reason: IntArray


def place(
    layout: Layout, jobs: Jobs, costs: JobCosts, target: IntArray, share: FloatArray
) -> Placement:
    """Apply the rules to the actions ``target (M,)`` (0 local, ``1 + j`` remote ``j``) and
    ``share (M,)`` in ``[0, 1]``."""
    m, r = layout.n_mobile, layout.n_remote
    target = np.asarray(target, dtype=np.int64)
    s = np.where(target > 0, np.asarray(share, dtype=np.float64), 0.0)
    s = np.where(jobs.present, s, 0.0)
    local_share = np.where(jobs.present, 1.0 - s, 0.0)
    rows = np.arange(m)
    j = np.clip(target - 1, 0, max(r - 1, 0))
    offloads = (target > 0) & (s > 0)
    usable = costs.usable[rows, j] if r else np.zeros(m, bool)
    remote = np.zeros((m, r))
    remote[rows[offloads & usable], j[offloads & usable]] = s[offloads & usable]
    local_share = local_share + np.where(offloads & ~usable, s, 0.0)  # falls back
    local_ok = costs.fits_local
    dropped = np.where(local_ok, 0.0, local_share)
    local = np.where(local_ok, local_share, 0.0)
    reason = np.where((local_share > 0) & ~local_ok, REASONS.index("no_fit"), 0)
    bad_remote = offloads & ~usable
    fits_r = costs.fits_remote[rows, j] if r else np.zeros(m, bool)
    up_r = costs.link_up[rows, j] if r else np.zeros(m, bool)
    reach_r = costs.reachable[rows, j] if r else np.zeros(m, bool)
    reason = np.where(bad_remote & ~reach_r, REASONS.index("fidelity_unreachable"), reason)
    reason = np.where(bad_remote & ~up_r, REASONS.index("link_down"), reason)
    reason = np.where(bad_remote & ~fits_r, REASONS.index("no_fit"), reason)
    reason = np.where(jobs.present & ~costs.servable, REASONS.index("unservable"), reason)
    reason = np.where(jobs.present, reason, REASONS.index("no_job"))
    return Placement(local=local, remote=remote, dropped=dropped, reason=reason)


@dataclasses.dataclass(frozen=True, eq=False)
class Outcome:
    """One step's cost and its parts. Per-job arrays ``(M,)``; ``work_s`` ``(N,)`` the new
    work per node (seconds), ``backlog_s`` the backlog after the step."""

    cost: float
    latency_s: float  # summed over jobs
    energy_j: float  # summed over jobs
    dropped: float  # dropped jobs (shares summed)
    job_latency_s: FloatArray
    job_energy_j: FloatArray
    work_s: FloatArray
    backlog_s: FloatArray

    @property
    def components(self) -> dict[str, float]:
        sc_free = {
            "latency_s": self.latency_s,
            "energy_j": self.energy_j,
            "dropped_jobs": self.dropped,
        }
        return {"cost": self.cost, **sc_free}


def step_cost(
    layout: Layout, backlog: FloatArray, costs: JobCosts, placement: Placement
) -> Outcome:
    """The cost of a placement from node backlogs ``backlog (N,)`` (seconds of queued work).

    ``cost = d * latency / latency_scale_s + e * energy / energy_scale_j + drop_penalty *
    dropped`` with ``(d, e)`` the scenario's QoS weights.
    """
    sc = layout.scenario
    m = layout.n_mobile
    local, remote = placement.local, placement.remote
    local_work = local * costs.exec_local_s
    remote_work = remote * costs.exec_remote_s
    load = remote_work.sum(axis=0)  # (R,)
    work = np.concatenate([local_work, load])
    local_latency = np.where(costs.present, backlog[:m] + local_work, 0.0)
    with np.errstate(invalid="ignore"):
        remote_latency = np.where(
            remote > 0,
            remote * np.where(remote > 0, costs.tx_full_s, 0.0) + backlog[m:] + load,
            0.0,
        )
    job_latency = np.maximum(local_latency, remote_latency.max(axis=1, initial=0.0))
    power_local = layout.power_w[:m]
    power_remote = layout.power_w[m:]
    with np.errstate(invalid="ignore"):
        tx_energy = np.where(
            remote > 0, remote * np.where(remote > 0, costs.tx_energy_full_j, 0.0), 0.0
        )
    job_energy = local_work * power_local + (remote_work * power_remote).sum(axis=1)
    job_energy = job_energy + tx_energy.sum(axis=1)
    latency = float(job_latency.sum())
    energy = float(job_energy.sum())
    dropped = float(placement.dropped.sum())
    cost = (
        sc.latency_weight * latency / sc.latency_scale_s
        + sc.energy_weight * energy / sc.energy_scale_j
        + sc.drop_penalty * dropped
    )
    new_backlog = np.maximum(0.0, backlog + work - sc.step_s)
    return Outcome(
        cost=float(cost),
        latency_s=latency,
        energy_j=energy,
        dropped=dropped,
        job_latency_s=job_latency,
        job_energy_j=job_energy,
        work_s=work,
        backlog_s=new_backlog,
    )


#: The step cost's weighted terms, in the order of :func:`job_terms`' columns (and the keys of
#: the env's ``info["rewards"]``).
COST_TERMS = ("latency", "energy", "drop")


def job_terms(layout: Layout, outcome: Outcome, placement: Placement) -> FloatArray:
    """``(M, 3)``: each job's exact share of the step cost's weighted terms (columns
    :data:`COST_TERMS`): ``d * job_latency / latency_scale_s``, ``e * job_energy /
    energy_scale_j`` and ``drop_penalty * dropped share``. The cost is a sum over jobs, so the
    rows add up to ``outcome.cost`` (up to rounding); a node without a job has a zero row."""
    sc = layout.scenario
    return np.stack(
        [
            sc.latency_weight * outcome.job_latency_s / sc.latency_scale_s,
            sc.energy_weight * outcome.job_energy_j / sc.energy_scale_j,
            sc.drop_penalty * placement.dropped,
        ],
        axis=1,
    )


def credited_rewards(
    layout: Layout, outcome: Outcome, placement: Placement, credit: float, reward_scale: float
) -> FloatArray:
    """``(M,)`` rewards ``(1 - credit) r + credit * own_i``: ``r = -cost / reward_scale`` the
    team reward, ``own_i = -M * (job i's cost share) / reward_scale`` (:func:`job_terms`); their
    mean over agents is ``r`` for every ``credit`` in ``[0, 1]``."""
    team = -outcome.cost / reward_scale
    own = -layout.n_mobile * job_terms(layout, outcome, placement).sum(axis=1) / reward_scale
    return (1.0 - credit) * team + credit * own


@dataclasses.dataclass(frozen=True, eq=False)
class State:
    """Everything a step needs: the backlogs, the previous step's backlogs (what the remote
    nodes advertise, stale), the advertised values (with noise), this step's jobs and its
    hidden link realisation, and the step index."""

    backlog_s: FloatArray  # (N,)
    advertised_s: FloatArray  # (R,) stale, noisy backlog of the remote nodes
    jobs: Jobs
    links: Links
    step: int

    def costs(self, layout: Layout) -> JobCosts:
        """The job constants at this step's realised links (what a clairvoyant sees)."""
        return job_costs(layout, self.jobs, self.links.rate, self.links.fidelity)


def advertise(layout: Layout, stale_backlog: FloatArray, rng: np.random.Generator) -> FloatArray:
    """What the remote nodes publish: the backlog one step old plus Gaussian noise of standard
    deviation ``advertised_noise * step_s`` (clipped at 0)."""
    sc = layout.scenario
    noise = rng.normal(0.0, sc.advertised_noise * sc.step_s, size=layout.n_remote)
    return np.maximum(0.0, stale_backlog[layout.n_mobile :] + noise)


def initial_state(layout: Layout, rng: np.random.Generator) -> State:
    """Empty queues, fresh jobs and links."""
    backlog = np.zeros(layout.scenario.n_nodes)
    jobs = sample_jobs(layout, rng)
    links = sample_links(layout, rng)
    return State(backlog, advertise(layout, backlog, rng), jobs, links, 0)


def transition(
    layout: Layout, state: State, target: IntArray, share: FloatArray, rng: np.random.Generator
) -> tuple[State, Outcome, Placement]:
    """Play one step: place the jobs, cost it, advance the queues, draw the next jobs and
    links."""
    costs = state.costs(layout)
    placement = place(layout, state.jobs, costs, target, share)
    outcome = step_cost(layout, state.backlog_s, costs, placement)
    jobs = sample_jobs(layout, rng)
    links = sample_links(layout, rng)
    advertised = advertise(layout, state.backlog_s, rng)
    nxt = State(outcome.backlog_s, advertised, jobs, links, state.step + 1)
    return nxt, outcome, placement


def nominal_fidelity(layout: Layout) -> FloatArray:
    """``(M, R)``: the end-to-end fidelity of a link at the middle of its elementary range (on
    the grid), what nodes plan with before the draw."""
    res = layout.scenario.fidelity_resolution
    middle = np.floor((layout.fidelity_low + layout.fidelity_high) / 2 / res + 1e-9) * res
    swapped = nested_swap_fidelity(np.clip(middle, 0.0, 1.0), layout.hops)
    return np.floor(swapped / res + 1e-9) * res


def nominal_costs(layout: Layout, jobs: Jobs) -> JobCosts:
    """The job constants at every link's mean rate and nominal fidelity (the advertised
    expectation; outages are not in it)."""
    return job_costs(layout, jobs, layout.mean_rate, nominal_fidelity(layout))


def decode_discrete(layout: Layout, action: IntArray) -> tuple[IntArray, FloatArray]:
    """``(M, 2)`` discrete actions ``(target, level)`` -> targets and shares ``(level + 1) / K``."""
    action = np.asarray(action, dtype=np.int64)
    return action[:, 0], layout.share_grid[action[:, 1]]


#: Observation features of the agent's own node and job, then per remote target.
OWN_FEATURES = (
    "has_job",
    "qubits_needed / largest node",
    "n / n_max",
    "k / k_max",
    "shots / shots_max",
    "fidelity need",
    "fits locally",
    "own backlog / step_s",
    "local run time / step_s",
    "step / horizon",
)
REMOTE_FEATURES = (
    "fits",
    "advertised backlog / step_s",
    "run time there / step_s",
    "nominal transfer time / step_s (capped at 10)",
    "nominal need reachable",
    "outage probability",
    "nominal raw pairs per pair / 10 (capped at 1)",
    "is home edge",
)
CAP = 10.0


def _capped(x: FloatArray) -> FloatArray:
    return np.where(np.isfinite(x), np.minimum(x, CAP), CAP)


def observe(layout: Layout, state: State) -> FloatArray:
    """Every agent's observation ``(M, len(OWN_FEATURES) + R * len(REMOTE_FEATURES))``.

    An agent sees its own job and node exactly, the remote nodes' advertised (stale, noisy)
    backlogs and the nominal link figures; never the realised rates and fidelities, nor the
    other agents' jobs.
    """
    sc, m, r = layout.scenario, layout.n_mobile, layout.n_remote
    jobs, step = state.jobs, sc.step_s
    nominal = nominal_costs(layout, jobs)
    own = np.stack(
        [
            jobs.present.astype(np.float64),
            jobs.qubits / max(int(layout.qubits.max()), 1),
            jobs.n / sc.jobs.n_max,
            jobs.k / sc.jobs.k_max,
            jobs.shots / sc.jobs.shots_max,
            jobs.need,
            nominal.fits_local.astype(np.float64),
            state.backlog_s[:m] / step,
            _capped(nominal.exec_local_s / step),
            np.full(m, state.step / sc.horizon),
        ],
        axis=1,
    )
    home = np.zeros((m, r))
    if sc.n_edge:
        home[np.arange(m), layout.home_edge] = 1.0
    remote = np.stack(
        [
            nominal.fits_remote.astype(np.float64),
            np.broadcast_to(state.advertised_s / step, (m, r)),
            _capped(nominal.exec_remote_s / step),
            _capped(nominal.tx_full_s / step),
            nominal.reachable.astype(np.float64),
            layout.outage,
            np.minimum(_capped(nominal.raw_per_pair) / CAP, 1.0),
            home,
        ],
        axis=2,
    )
    return np.concatenate([own, remote.reshape(m, -1)], axis=1)


def global_state(layout: Layout, state: State) -> FloatArray:
    """The centralised critic's input: every node's true backlog, every agent's own features
    and the step fraction ``(N + M * len(OWN_FEATURES),)``."""
    obs = observe(layout, state)
    return np.concatenate(
        [state.backlog_s / layout.scenario.step_s, obs[:, : len(OWN_FEATURES)].reshape(-1)]
    )
