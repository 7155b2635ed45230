"""Seeded workload generators: the paper's Sec. IV workload and its Sec. IV-E set-up.

:func:`generate` draws, with ``numpy.random.default_rng(seed)``:

1. organisation weights ``w_k ~ U[w_low, w_high]``;
2. per organisation, ``pairs_per_org`` distinct unordered node pairs drawn uniformly without
   replacement among the original nodes (repeaters are never end points) whose shortest-path
   hop count is at most ``max_hops`` (``None``: any connected pair). Hops are counted on the
   instance's physical network (``hop_metric = "physical"``, repeater hops included: the
   default) or on the original topology (``"trunk"``). The paper does not say which; physical
   is chosen because with trunk hops some pairs only have paths of 30+ physical links, which
   no version at the baselines' threshold 0.992 can serve at ``R_min = 10``, while the
   paper's hop and 1/EGR baselines are feasible (its Fig. 4a);
3. per pair ``lambda_u ~ U[lambda_low, lambda_high]`` and ``F_u ~ U[f_low, f_high]``;
   ``R_min``, ``R_max`` constant.

The draws happen in exactly this order, so one seed always gives one workload. Shipped
instances store the drawn workload explicitly (``[[pairs]]``) and these parameters under
``[generator]`` for provenance; :func:`shipped_instances` rebuilds them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qnet_envs.qvpn.problem import Instance


@dataclass(frozen=True)
class WorkloadSpec:
    """Parameters of :func:`generate` (module docstring); rates in pairs/s."""

    seed: int = 0
    n_orgs: int = 3
    pairs_per_org: int = 50
    max_hops: int | None = 7
    hop_metric: str = "physical"
    w_low: float = 0.1
    w_high: float = 1.0
    lambda_low: float = 0.3
    lambda_high: float = 0.7
    f_low: float = 0.75
    f_high: float = 0.90
    r_min: float = 10.0
    r_max: float = 1000.0


def _eligible_pairs(base: Instance, spec: WorkloadSpec) -> list[tuple[int, int]]:
    import networkx as nx

    if spec.hop_metric not in ("physical", "trunk"):
        raise ValueError(f"hop_metric must be 'physical' or 'trunk', got {spec.hop_metric!r}")
    graph = base.network.trunk_graph()
    weight = "hop" if spec.hop_metric == "physical" else None
    hops = dict(nx.all_pairs_dijkstra_path_length(graph, weight=weight or (lambda u, v, d: 1)))
    limit = math.inf if spec.max_hops is None else spec.max_hops
    nodes = sorted(graph.nodes)
    return [(a, b) for a in nodes for b in nodes if a < b and b in hops[a] and hops[a][b] <= limit]


def generate(base: Instance, spec: WorkloadSpec, *, name: str, description: str = "") -> Instance:
    """``base`` with its workload replaced by one drawn from ``spec`` (module docstring)."""
    rng = np.random.default_rng(spec.seed)
    org_weights = rng.uniform(spec.w_low, spec.w_high, size=spec.n_orgs)
    eligible = _eligible_pairs(base, spec)
    if len(eligible) < spec.pairs_per_org:
        raise ValueError(
            f"pairs_per_org must be at most {len(eligible)} (eligible node pairs "
            f"within {spec.max_hops} hops), got {spec.pairs_per_org}"
        )
    org, src, dst = [], [], []
    for k in range(spec.n_orgs):
        chosen = rng.choice(len(eligible), size=spec.pairs_per_org, replace=False)
        for i in chosen:
            a, b = eligible[int(i)]
            org.append(k)
            src.append(a)
            dst.append(b)
    n = len(org)
    lam = rng.uniform(spec.lambda_low, spec.lambda_high, size=n)
    fid = rng.uniform(spec.f_low, spec.f_high, size=n)
    generator: dict[str, Any] = {
        k: (v if v is not None else "none") for k, v in spec.__dict__.items()
    }
    return replace(
        base,
        name=name,
        description=description,
        org_weights=tuple(float(w) for w in org_weights),
        pair_org=tuple(org),
        pair_src=tuple(src),
        pair_dst=tuple(dst),
        pair_weight=tuple(float(x) for x in lam),
        pair_fidelity=tuple(float(x) for x in fid),
        r_min=(float(spec.r_min),) * n,
        r_max=(float(spec.r_max),) * n,
        generator=generator,
    )


def _settings_carrier(**overrides: Any) -> Instance:
    """An instance with a one-pair dummy workload, to carry network and physics settings."""
    return Instance(
        org_weights=(1.0,),
        pair_org=(0,),
        pair_src=(0,),
        pair_dst=(1,),
        pair_weight=(1.0,),
        pair_fidelity=(0.8,),
        r_min=(0.0,),
        r_max=(1.0,),
        **overrides,
    )


def paper_instance(seed: int = 0, **overrides: Any) -> Instance:
    """The paper's Sec. IV workload on engineered SURFnet (3 x 50 pairs, 16 thresholds)."""
    return generate(
        _settings_carrier(**overrides),
        WorkloadSpec(seed=seed),
        name="default",
        description=(
            "Paper Sec. IV: engineered SURFnet (a repeater every 10 km on links > 20 km, "
            "multiplexing 3), alpha = 0.2 (F_l = 0.8), T = 1 us, P2 = 1, eta_m = 0.99, DEJMPS, "
            "16 link-level thresholds in [0.8, 0.998]; 3 organisations x 50 pairs at most 7 hops "
            "apart, w ~ U[0.1, 1], lambda ~ U[0.3, 0.7], F_u ~ U[0.75, 0.90], R_min = 10, "
            "R_max = 1000, at most 3 paths per pair; candidates: Yen k = 5 under hop, 1/EGR, "
            "1/EGR^2."
        ),
    )


def sec4e_instance(seed: int = 0, **overrides: Any) -> Instance:
    """Sec. IV-E: 1 organisation x 150 pairs, unengineered SURFnet, end-to-end distillation only."""
    settings: dict[str, Any] = {
        "engineered": False,
        "multiplexing": 4.0,
        "alpha": 0.1,
        "measurement_fidelity": 1.0,
        "gate_fidelity": 1.0,
        "thresholds": (0.9,),
    }
    settings.update(overrides)
    return generate(
        _settings_carrier(**settings),
        WorkloadSpec(
            seed=seed,
            n_orgs=1,
            pairs_per_org=150,
            max_hops=None,
            f_low=0.85,
            f_high=0.96,
            r_min=0.0,
            r_max=math.inf,
        ),
        name="sec4e",
        description=(
            "Paper Sec. IV-E: unengineered SURFnet, multiplexing 4, alpha = 0.1 (F_l = 0.9), "
            "P2 = eta_m = 1, one strategy (link threshold 0.9 = F_l: end-to-end distillation "
            "only), one organisation x 150 pairs anywhere in the network, F_u ~ U[0.85, 0.96], "
            "no rate bounds (R_min = 0, R_max = inf)."
        ),
    )


def tiny_instance() -> Instance:
    """A 4-node line-plus-shortcut network with 3 pairs, for tests (hand-checkable)."""
    return Instance(
        name="tiny",
        description="Tiny test instance: nodes 0-1-2-3 in a line (10, 15, 12 km) plus a 30 km "
        "link 0-2; T = 4 us per km (capacity binds); 2 organisations, 3 pairs; 2 thresholds; "
        "at most 2 paths per pair.",
        topology=None,
        links=((0, 1, 10.0), (1, 2, 15.0), (2, 3, 12.0), (0, 2, 30.0)),
        engineered=False,
        repetition_time="per_km",
        thresholds=(0.8, 0.95),
        k_paths=2,
        path_weights=("hop",),
        max_paths=2,
        org_weights=(1.0, 0.5),
        pair_org=(0, 0, 1),
        pair_src=(0, 1, 0),
        pair_dst=(2, 3, 3),
        pair_weight=(0.6, 0.4, 0.5),
        pair_fidelity=(0.8, 0.85, 0.78),
        r_min=(10.0, 10.0, 10.0),
        r_max=(4000.0, 4000.0, 4000.0),
    )


def paper_per_km_instance(seed: int = 0) -> Instance:
    """The default workload with the authors' code's repetition time, 4 us per km."""
    base = paper_instance(seed, repetition_time="per_km")
    return replace(
        base,
        name="paper-per-km",
        description=base.description.replace(
            "T = 1 us", "T = 4 us per km of link (the authors' public code)"
        ),
    )


def shipped_instances() -> Mapping[str, Instance]:
    """The instances shipped in ``scenarios/qvpn`` (regenerated from their seeds)."""
    return {
        "default": paper_instance(0),
        "paper-per-km": paper_per_km_instance(0),
        "sec4e": sec4e_instance(0),
        "tiny": tiny_instance(),
    }


def write_shipped(directory: str | None = None) -> list[str]:
    """Write :func:`shipped_instances` as TOML into ``directory`` (default: the shipped folder)."""
    from pathlib import Path

    from qnet_envs import resources

    folder = Path(directory) if directory is not None else resources.scenario_dir("qvpn")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, instance in shipped_instances().items():
        path = folder / f"{name}.toml"
        header = (
            "# Generated by qnet_envs.qvpn.workload.write_shipped(); the workload is stored "
            "explicitly,\n# [generator] records the seed and parameters it was drawn "
            "with.\n"
        )
        path.write_text(header + instance.to_toml())
        written.append(str(path))
    return written
