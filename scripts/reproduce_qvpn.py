"""Reproduce the qVPN paper's Sec. IV (Fig. 4a-c, 5, 6, 7, 8, 9, Table III) on the suite.

"Resource Management in Quantum Virtual Private Networks" (Pouryousef et al.). Every W-EGR is
set against the exact optimum (the MILP, :func:`agents.baselines.qvpn_optimum`) and the
paper's three shortest-path baselines (hop, 1/EGR, 1/EGR^2 at link threshold 0.992).
Experiments (``--only`` picks some, comma-separated):

* ``fig4a``: dynamic and static GA over generations (``--seeds`` runs each);
* ``fig4b``: candidate paths per weight ``k`` (``--k-values``), dynamic GA;
* ``fig4c``: pairs per organisation (``--pairs-values``: the first ``n`` pairs of each);
* ``fig5``: paths per pair ``|P|`` (``--paths-values``); infeasible = W-EGR 0, marked;
* ``fig6``: link-level thresholds per path (``--threshold-values``), pairs anywhere in the
  network, ``R_min = 0`` and ``R_max = inf`` as the paper;
* ``fig7``: REINFORCE and GA (seeded with the hop baseline, as the paper) against the
  baselines on ``sec4e``, and on the main instance (GA from ``fig4a``, random start);
* ``fig8``: W-EGR against wall time for both (from ``fig7``'s runs), and the time REINFORCE
  needs to reach the GA's final W-EGR;
* ``fig9``: each pair's true rate in organisation 0 in the optimum for several ``R_max``
  (``R_max,u ~ U[10, R_max]``), and Table III: correlations of the true rate with
  ``lambda``, ``F_u``, ``L_u`` (hops of its shortest used path) and ``w lambda / (F L)``;
* ``marl``: MAPPO (``agents.marl``, cooperative reward) on the qVPN env, for each actor
  network of ``--marl-actors`` with ``--marl-rounds`` rounds per episode; its greedy W-EGR
  (``info["w_egr"]`` of the last round) as a fraction of the optimum, after each of
  ``--marl-chunks`` stretches of training.

The main instance is ``paper-per-km`` (T = 4 us per km, the authors' code): on ``default``
(T = 1 us, the paper's text) every pair reaches ``R_max`` under every method, so it only gets a
summary row. GA and REINFORCE started from random selections score an infeasible LP by its
``R_min`` shortfall (``agents.selection.qvpn``: below every feasible selection) so that they
can find a feasible one at all; W-EGR is reported as the paper's (0 when infeasible).

Writes JSON (``--json``, default ``runs/qvpn-reproduction.json``: ``runs/`` is git-ignored),
a Markdown page beside it (``--markdown``) and PNG figures ``<json stem>-<figure>.png``.
``--update REPORT.json --only marl`` reruns the MARL runs into an existing report (runs of other
actor/rounds configurations stay; the page lists each update's command). ``--render REPORT.json``
recomputes the derived numbers from the report's raw results and
rewrites it, its Markdown and its figures. The page in
``docs/`` was written with ``--json docs/qvpn-reproduction.json`` and records its command.
``--quick`` is a smoke run on the ``tiny`` instance (seconds). ``--help`` lists every option.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import shlex
import sys
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "runs" / "qvpn-reproduction.json"
EXPERIMENTS = ("fig4a", "fig4b", "fig4c", "fig5", "fig6", "fig7", "fig8", "fig9", "marl")
WEIGHTS = ("hop", "egr", "egr2")
WEIGHT_LABEL = {"hop": "hop", "egr": "1/EGR", "egr2": "1/EGR^2"}
#: Experiments --update can rerun into an existing report, with the report's args they own.
UPDATABLE = {
    "marl": (
        "marl_steps",
        "marl_batch",
        "marl_minibatch",
        "marl_lr",
        "marl_entropy",
        "marl_clip",
        "marl_actors",
        "marl_chunks",
        "marl_rounds",
    )
}
TARGETS = {"gain": 1.30, "ga": 0.99, "reinforce": 0.97, "marl": 0.95, "gap": 1e-3, "milp_s": 600}
PAPER_TABLE3 = {"lambda": 0.186, "fidelity": -0.163, "length": -0.636, "ratio": 0.576}


# ------------------------------------------------------------------------------ instances
@functools.lru_cache(maxsize=16)
def build_instance(key: str):  # -> qnet_envs.qvpn.Instance
    """The instance named by ``key``: ``base[:modifier=value]...`` (cached per process).

    Bases: a shipped name (``default``, ``paper-per-km``, ``sec4e``, ``tiny``) or ``anywhere``
    (``paper-per-km``'s network and physics, pairs drawn anywhere, seed 0). Modifiers:
    ``k=K`` (Yen's k), ``pairs=N`` (first N pairs of each organisation), ``paths=P`` (``|P|``),
    ``thresholds=N`` (N link thresholds, :func:`threshold_subset`), ``open`` (``R_min = 0``,
    ``R_max = inf``), ``rmax=R`` (``R_max,u ~ U[10, R]``, seed 0).
    """
    from qnet_envs.qvpn import Instance
    from qnet_envs.qvpn.workload import WorkloadSpec, generate

    base, *mods = key.split(":")
    if base == "anywhere":
        spec = WorkloadSpec(seed=0, max_hops=None, r_min=0.0, r_max=math.inf)
        inst = generate(Instance.load("paper-per-km"), spec, name="anywhere")
    else:
        inst = Instance.load(base)
    for mod in mods:
        name, _, value = mod.partition("=")
        if name == "k":
            inst = replace(inst, k_paths=int(value))
        elif name == "paths":
            inst = replace(inst, max_paths=int(value))
        elif name == "thresholds":
            inst = replace(inst, thresholds=threshold_subset(inst.thresholds, int(value)))
        elif name == "open":
            inst = replace(inst, r_min=(0.0,) * inst.n_pairs, r_max=(math.inf,) * inst.n_pairs)
        elif name == "pairs":
            inst = first_pairs(inst, int(value))
        elif name == "rmax":
            rng = np.random.default_rng(0)
            r_max = rng.uniform(10.0, float(value), size=inst.n_pairs)
            inst = replace(inst, r_min=(10.0,) * inst.n_pairs, r_max=tuple(map(float, r_max)))
        else:
            raise ValueError(f"instance key {key!r}: unknown modifier {name!r}")
    return replace(inst, name=key)


def threshold_subset(thresholds: tuple[float, ...], n: int) -> tuple[float, ...]:
    """``n`` of ``thresholds``: the one closest to 0.992 (the baselines') and ``n - 1`` of the
    others spread evenly from the lowest to the highest."""
    if not 1 <= n <= len(thresholds):
        raise ValueError(f"thresholds={n}: must be in [1, {len(thresholds)}]")
    values = sorted(thresholds)
    anchor = min(values, key=lambda t: abs(t - 0.992))
    others = [t for t in values if t != anchor]
    picks = np.unique(np.round(np.linspace(0, len(others) - 1, n - 1)).astype(int)) if n > 1 else []
    return tuple(sorted([anchor, *(others[i] for i in picks)]))


def first_pairs(inst, n: int):
    """``inst`` with only the first ``n`` pairs of every organisation."""
    keep, seen = [], {}
    for u, k in enumerate(inst.pair_org):
        seen[k] = seen.get(k, 0) + 1
        if seen[k] <= n:
            keep.append(u)
    fields = ("pair_org", "pair_src", "pair_dst", "pair_weight", "pair_fidelity", "r_min", "r_max")
    return replace(inst, **{f: tuple(getattr(inst, f)[u] for u in keep) for f in fields})


def baseline_threshold(inst) -> float:
    """0.992 when the instance has it, else its only or closest threshold."""
    return min(inst.thresholds, key=lambda t: abs(t - 0.992))


# ---------------------------------------------------------------------------------- tasks
def summary_task(key: str, milp_time_limit: float, rates: bool) -> dict[str, Any]:
    """Baselines and the exact optimum of one instance (and per-pair rates for Fig. 9)."""
    from agents.selection.qvpn import version_map
    from qnet_envs.qvpn.heuristics import shortest_path_selection
    from qnet_envs.qvpn.lp import solve_lp
    from qnet_envs.qvpn.milp import solve_optimum

    started = time.perf_counter()
    inst = build_instance(key)
    vt = inst.versions
    threshold = baseline_threshold(inst)
    baselines, start, best = {}, None, -1.0
    for weight in inst.path_weights:
        sel = shortest_path_selection(inst, weight, threshold=threshold)
        lp = solve_lp(inst, sel)
        baselines[weight] = {"status": lp.status, "w_egr": lp.w_egr}
        if lp.feasible and lp.w_egr > best:
            start, best = sel, lp.w_egr
    opt = solve_optimum(inst, milp_time_limit, start=start)
    row: dict[str, Any] = {
        "key": key,
        "n_pairs": inst.n_pairs,
        "n_orgs": inst.n_orgs,
        "versions": vt.n_total,
        "versions_offered": int(version_map(inst).offered.size),
        "unusable_pairs": len(vt.unusable_pairs()),
        "baseline_threshold": threshold,
        "baselines": baselines,
        "optimum": {
            "status": opt.status,
            "objective": opt.objective,
            "bound": opt.bound,
            "gap": opt.gap,
            "wall_time_s": opt.wall_time_s,
        },
        "wall_time_s": time.perf_counter() - started,
    }
    if rates:
        lp = opt.lp
        used = lp.rate > 1e-9
        hops = np.full(inst.n_pairs, np.inf)
        np.minimum.at(hops, vt.pair[used], vt.hops[used].astype(float))
        org_w = np.asarray(inst.org_weights)[np.asarray(inst.pair_org)]
        row["pairs"] = {
            "org": list(inst.pair_org),
            "rate": lp.pair_rate.tolist(),
            "lambda": list(inst.pair_weight),
            "fidelity": list(inst.pair_fidelity),
            "length": [None if not math.isfinite(h) else h for h in hops],
            "org_weight": org_w.tolist(),
            "r_max": list(inst.r_max),
        }
    return row


def ga_task(
    key: str, seed: int, generations: int, dynamic: bool, seeded: bool = False
) -> dict[str, Any]:
    """One GA run (population 100) on ``key``; ``seeded``: the hop baseline in the first
    population (the paper's Fig. 7)."""
    from agents.baselines.genetic import genetic_search
    from agents.selection.qvpn import selection_problem, version_map
    from qnet_envs.qvpn.heuristics import shortest_path_selection

    inst = build_instance(key)
    problem = selection_problem(inst, infeasible="shortfall")
    seeds = ()
    if seeded:
        lp_sel = shortest_path_selection(inst, "hop", threshold=baseline_threshold(inst))
        seeds = (version_map(inst).from_lp(lp_sel),)
    result = genetic_search(
        problem, generations=generations, dynamic=dynamic, seeds=seeds, seed=seed
    )
    return {
        "key": key,
        "seed": seed,
        "dynamic": dynamic,
        "seeded": seeded,
        "best": max(result.best_fitness, 0.0),
        "history": np.maximum(result.history_best, 0.0).tolist(),
        "wall": result.history_wall_s.tolist(),
        "evaluations": result.evaluations,
        "cache_hits": result.cache_hits,
        "wall_time_s": result.wall_time_s,
    }


def reinforce_task(key: str, seed: int, epochs: int) -> dict[str, Any]:
    """One REINFORCE run (MLP policy on the version features, batch 16) on ``key``."""
    from agents.selection.qvpn import selection_problem
    from agents.selection.reinforce import reinforce_search

    problem = selection_problem(build_instance(key), infeasible="shortfall")
    result = reinforce_search(problem, epochs=epochs, seed=seed)
    greedy = np.maximum(np.nan_to_num(result.greedy_history, nan=0.0), 0.0)
    best = np.maximum.accumulate(np.maximum(result.reward_max, greedy))
    return {
        "key": key,
        "seed": seed,
        "best": max(result.best_fitness, 0.0),
        "greedy": max(result.greedy_fitness, 0.0),
        "history": np.maximum(best, 0.0).tolist(),
        "greedy_history": greedy.tolist(),
        "wall": result.wall_s.tolist(),
        "evaluations": result.evaluations,
        "cache_hits": result.cache_hits,
        "wall_time_s": result.wall_time_s,
    }


#: The trainer's settings of the ``marl`` experiment besides steps, seed and actor (``--marl-*``).
MARL_SETTINGS = ("marl_batch", "marl_minibatch", "marl_lr", "marl_entropy", "marl_clip")


def marl_task(
    key: str,
    seed: int,
    steps: int,
    actor: str,
    settings: tuple[float, ...],
    chunks: int,
    rounds: int = 4,
) -> dict[str, Any]:
    """MAPPO on the qVPN env (cooperative reward) with the ``actor`` network; the greedy
    episode's W-EGR per round after every ``steps / chunks`` env steps (training resumes from
    the checkpoint of the chunk before, which continues the same run)."""
    import tempfile

    import torch
    from torchrl.envs.utils import ExplorationType, set_exploration_type, step_mdp

    from agents.marl import TrainArgs, train
    from agents.marl.batched import as_batched
    from agents.marl.torch_env import STATE_KEY, BatchedTorchEnv
    from qnet_envs.qvpn.env import QVPNParallelEnv

    class Recording(QVPNParallelEnv):
        """The qVPN env, keeping each step's infos (the W-EGR of the round)."""

        def step(self, actions):  # type: ignore[override]
            out = super().step(actions)
            self.last_infos = out[4]
            return out

    def env_fn() -> QVPNParallelEnv:
        return Recording(instance=build_instance(key), cooperative=True, rounds=rounds)

    def greedy_rounds(policy) -> list[float]:
        env = env_fn()
        torch_env = BatchedTorchEnv(as_batched(env), use_state=STATE_KEY in policy.in_keys)
        rounds = []
        with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
            torch_env.set_seed(seed)
            td = torch_env.reset()
            for _ in range(env.layout.rounds):
                td = torch_env.step(policy(td))
                rounds.append(float(next(iter(env.last_infos.values()))["w_egr"]))
                if bool(td["next", "done"].all()):
                    break
                td = step_mdp(td)
        torch_env.close()
        return rounds

    batch, minibatch, lr, entropy, clip = settings
    curve = []
    with tempfile.TemporaryDirectory() as run_dir:
        for chunk in range(1, chunks + 1):
            args = TrainArgs(
                total_steps=max(int(batch), steps * chunk // chunks),
                steps_per_batch=int(batch),
                n_envs=4,
                minibatch_size=int(minibatch),
                learning_rate=lr,
                entropy_coef=entropy,
                clip_epsilon=clip,
                actor=actor,
                seed=seed,
                run_dir=run_dir,
                checkpoint_every=0,
            )
            result = train(env_fn, args)
            per_round = greedy_rounds(result.policy)
            curve.append({"steps": result.steps, "wall_s": result.wall_time_s, "rounds": per_round})
    return {
        "key": key,
        "seed": seed,
        "actor": actor,
        "rounds": rounds,
        "steps": result.steps,
        "w_egr": per_round[-1],
        "round_w_egr": per_round,
        "curve": curve,
        "team_return": [h.team_return for h in result.history],
        "wall_time_s": result.wall_time_s,
    }


def marl_config(run: dict[str, Any]) -> str:
    """A MARL run's configuration label: actor network and rounds per episode (runs recorded
    before these were settings used the MLP and the env's default 4 rounds)."""
    rounds = run.get("rounds", 4)
    return f"{run.get('actor', 'mlp')}, {rounds} round{'s' if rounds != 1 else ''}"


def marl_by_actor(runs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """MARL runs grouped by :func:`marl_config`, in order of appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault(marl_config(run), []).append(run)
    return groups


# ------------------------------------------------------------------------------ the plan
def same_instance(key: str, other: str) -> bool:
    """Whether two keys build the same instance (names apart), e.g. ``paper-per-km:k=5``."""
    a, b = build_instance(key), build_instance(other)
    return replace(a, name=b.name, description=b.description) == b


def plan(
    args: argparse.Namespace,
) -> tuple[dict[str, list[tuple[str, tuple]]], dict[str, list[tuple[float, str]]]]:
    """Every task, grouped by what it feeds (``{group: [(function name, arguments)]}``), and
    each sweep's points (``{figure: [(value, instance key)]}``). A sweep point that is its
    base instance uses the base's key, so its runs are shared with the other experiments."""
    main, quick = args.instance, args.quick
    seeds = range(args.seeds)
    sweep_seeds = range(args.sweep_seeds)
    lim = args.milp_time_limit
    tasks: dict[str, list[tuple[str, tuple]]] = {}
    points: dict[str, list[tuple[float, str]]] = {}
    only = set(args.only)

    def summary(key: str, rates: bool = False) -> None:
        tasks.setdefault("summary", [])
        if all(t[1][0] != key for t in tasks["summary"]):
            tasks["summary"].append(("summary_task", (key, lim, rates)))

    if only & {"fig4a", "fig7", "fig8"}:
        summary(main)
        if not quick:
            summary("default")
        tasks["fig4a"] = [
            ("ga_task", (main, s, args.ga_generations, dyn)) for dyn in (True, False) for s in seeds
        ]
    sweeps = {
        "fig4b": ("k", args.k_values, main),
        "fig4c": ("pairs", args.pairs_values, main),
        "fig5": ("paths", args.paths_values, main),
        "fig6": ("thresholds", args.threshold_values, "tiny:open" if quick else "anywhere"),
    }
    for fig, (mod, values, base) in sweeps.items():
        if fig not in only:
            continue
        tasks[fig], points[fig] = [], []
        for value in values:
            key = f"{base}:{mod}={value}"
            if same_instance(key, base):
                key = base
            points[fig].append((value, key))
            summary(key)
            tasks[fig] += [("ga_task", (key, s, args.sweep_generations, True)) for s in sweep_seeds]
    if only & {"fig7", "fig8"}:
        second = main if quick else "sec4e"
        summary(second)
        tasks["fig7"] = [("reinforce_task", (main, s, args.rf_epochs)) for s in seeds]
        if second != main:
            tasks["fig7"] += [("reinforce_task", (second, s, args.rf_epochs)) for s in seeds]
            tasks["fig7"] += [
                ("ga_task", (second, s, args.ga_generations, True, True)) for s in seeds
            ]
    if "fig9" in only:
        for r in args.rmax_values:
            summary(f"{main}:rmax={r:g}", rates=True)
    if "marl" in only:
        summary(main)
        settings = tuple(float(getattr(args, name)) for name in MARL_SETTINGS)
        tasks["marl"] = [
            (
                "marl_task",
                (main, s, args.marl_steps, actor, settings, args.marl_chunks, args.marl_rounds),
            )
            for actor in args.marl_actors
            for s in seeds
        ]
    return tasks, points


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the plan on ``args.workers`` processes (each distinct task once); results grouped
    as the plan, plus ``"sweeps"``: each sweep's ``[value, instance key]`` points."""
    tasks, points = plan(args)
    functions = {f.__name__: f for f in (summary_task, ga_task, reinforce_task, marl_task)}
    cost = {"marl_task": 0, "ga_task": 1, "reinforce_task": 2, "summary_task": 3}
    unique = sorted(
        dict.fromkeys(task for items in tasks.values() for task in items), key=lambda t: cost[t[0]]
    )
    results: dict[tuple[str, tuple], Any] = {}
    if args.workers <= 1:
        for name, a in unique:
            results[(name, a)] = functions[name](*a)
    else:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            futures: list[tuple[tuple[str, tuple], Future]] = [
                ((name, a), pool.submit(functions[name], *a)) for name, a in unique
            ]
            for i, (task, future) in enumerate(futures):
                results[task] = future.result()
                print(f"done {i + 1}/{len(futures)}: {task[0]}{task[1]}", flush=True)
    out: dict[str, Any] = {g: [results[t] for t in items] for g, items in tasks.items()}
    out["sweeps"] = {fig: [list(p) for p in pts] for fig, pts in points.items()}
    return out


# ---------------------------------------------------------------------------- the report
def _stats(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):  # a run that never reached a target counts as inf
        std = float(arr.std())
    return {
        "mean": float(arr.mean()),
        "std": std,
        "min": float(arr.min()),
        "max": float(arr.max()),
        "n": int(arr.size),
    }


def best_baseline(row: dict[str, Any]) -> float:
    return max(
        (b["w_egr"] for b in row["baselines"].values() if b["status"] == "optimal"), default=0.0
    )


def first_reach(history: list[float], wall: list[float], target: float) -> float | None:
    """Wall time at which ``history`` first reaches ``target`` (relative 1e-9), else None."""
    for value, t in zip(history, wall, strict=True):
        if value >= target * (1 - 1e-9):
            return t
    return None


def correlations(pairs: dict[str, list]) -> dict[str, float | None]:
    """Pearson correlation of the true rate with Table III's quantities, over all pairs."""
    rate = np.asarray(pairs["rate"], dtype=float)
    lam = np.asarray(pairs["lambda"], dtype=float)
    fid = np.asarray(pairs["fidelity"], dtype=float)
    length = np.asarray([np.nan if x is None else x for x in pairs["length"]], dtype=float)
    w = np.asarray(pairs["org_weight"], dtype=float)
    ok = np.isfinite(length)
    columns = {"lambda": lam, "fidelity": fid, "length": length, "ratio": w * lam / (fid * length)}
    result: dict[str, float | None] = {}
    for name, x in columns.items():
        x, y = x[ok], rate[ok]
        result[name] = None if x.std() == 0 or y.std() == 0 else float(np.corrcoef(x, y)[0, 1])
    return result


def assemble(args: argparse.Namespace, out: dict[str, list[Any]]) -> dict[str, Any]:
    """The report's derived numbers (fractions, targets) from the raw task results."""
    summaries = {row["key"]: row for row in out.get("summary", [])}
    main = args.instance
    derived: dict[str, Any] = {}

    def optimum(key: str) -> float:
        return summaries[key]["optimum"]["objective"]

    def frac(value: float, key: str) -> float | None:
        opt = optimum(key)
        return value / opt if opt > 0 else None

    if "fig4a" in out:
        d = {}
        for dyn, label in ((True, "dynamic"), (False, "static")):
            runs = [r for r in out["fig4a"] if r["dynamic"] == dyn]
            d[label] = _stats([frac(r["best"], main) for r in runs])
        derived["fig4a"] = d
    for fig in ("fig4b", "fig4c", "fig5", "fig6"):
        if fig not in out:
            continue
        rows = []
        for value, key in out["sweeps"][fig]:
            s = summaries[key]
            ga = [r["best"] for r in out[fig] if r["key"] == key]
            rows.append(
                {
                    "value": value,
                    "key": key,
                    "optimum": optimum(key),
                    "ga": _stats(ga),
                    "ga_fraction": frac(float(np.mean(ga)), key),
                    "baselines": {
                        w: {
                            "w_egr": b["w_egr"],
                            "feasible": b["status"] == "optimal",
                            "fraction": frac(b["w_egr"], key),
                        }
                        for w, b in s["baselines"].items()
                    },
                }
            )
        derived[fig] = rows
    if "fig7" in out:
        d = {}
        ga_runs = {**{(r["key"], r["seed"]): r for r in out.get("fig4a", []) if r["dynamic"]}}
        ga_runs.update({(r["key"], r["seed"]): r for r in out["fig7"] if "dynamic" in r})
        rf_runs = [r for r in out["fig7"] if "greedy" in r]
        for key in dict.fromkeys(r["key"] for r in rf_runs):
            rows = []
            for rf in (r for r in rf_runs if r["key"] == key):
                ga = ga_runs.get((key, rf["seed"]))
                row = {
                    "seed": rf["seed"],
                    "reinforce": rf["best"],
                    "reinforce_fraction": frac(rf["best"], key),
                    "reinforce_wall_s": rf["wall_time_s"],
                }
                if ga is not None:
                    ga_time = first_reach(ga["history"], ga["wall"], ga["best"])
                    rf_time = first_reach(rf["history"], rf["wall"], ga["best"])
                    near = 0.99 * optimum(key)
                    row |= {
                        "ga_time_to_99_s": first_reach(ga["history"], ga["wall"], near),
                        "reinforce_time_to_99_s": first_reach(rf["history"], rf["wall"], near),
                        "ga": ga["best"],
                        "ga_fraction": frac(ga["best"], key),
                        "ga_seeded": ga["seeded"],
                        "ga_time_to_best_s": ga_time,
                        "reinforce_time_to_ga_s": rf_time,
                    }
                rows.append(row)
            d[key] = {
                "runs": rows,
                "best_baseline": best_baseline(summaries[key]),
                "optimum": optimum(key),
            }
        derived["fig7"] = d
    if "fig9" in args.only:
        d = []
        for r in args.rmax_values:
            s = summaries[f"{main}:rmax={r:g}"]
            d.append(
                {
                    "rmax": r,
                    "optimum": optimum(s["key"]),
                    "correlations": correlations(s["pairs"]),
                }
            )
        derived["fig9"] = d
    if "marl" in out:
        derived["marl"] = {
            actor: _stats([frac(r["w_egr"], main) for r in runs])
            for actor, runs in marl_by_actor(out["marl"]).items()
        }
    derived["targets"] = targets(args, out, summaries, derived)
    return derived


def _target(
    name: str, target: str, values: list[float] | None, goal: float, higher: bool, unit: str = ""
) -> dict[str, Any]:
    if not values:
        return {"name": name, "target": target, "measured": None, "met": None, "by": None}
    worst = min(values) if higher else max(values)
    met = worst >= goal if higher else worst <= goal
    return {
        "name": name,
        "target": target,
        "values": list(values),
        "measured": _stats(values),
        "worst": worst,
        "met": bool(met),
        "by": worst - goal,
        "unit": unit,
    }


def targets(args, out, summaries, derived) -> list[dict[str, Any]]:
    """The issue's targets on the main instance, judged on the worst seed."""
    main = args.instance
    if main not in summaries:
        return []
    base = best_baseline(summaries[main])
    opt = summaries[main]["optimum"]
    ga = [r["best"] for r in out.get("fig4a", []) if r["dynamic"]]
    rf = [r["best"] for r in out.get("fig7", []) if r["key"] == main and "greedy" in r]
    rows = []

    def gain(values: list[float]) -> list[float] | None:
        return [x / base for x in values] if base > 0 else None

    rows.append(_target("GA / best baseline", ">= 1.30", gain(ga), 1.30, True, "x"))
    rows.append(_target("REINFORCE / best baseline", ">= 1.30", gain(rf), 1.30, True, "x"))
    o = opt["objective"]
    rows.append(_target("GA / optimum", ">= 99 %", [x / o for x in ga], 0.99, True, "%"))
    rows.append(_target("REINFORCE / optimum", ">= 97 %", [x / o for x in rf], 0.97, True, "%"))
    by_actor = marl_by_actor(out.get("marl", []))
    for actor, runs in by_actor.items():
        rows.append(
            _target(
                f"MARL (MAPPO, {actor}) / optimum",
                ">= 95 %",
                [r["w_egr"] / o for r in runs],
                0.95,
                True,
                "%",
            )
        )
    ratios = []
    fig7 = derived.get("fig7", {}).get(main, {}).get("runs", [])
    for row in fig7:
        ga_t, rf_t = row.get("ga_time_to_best_s"), row.get("reinforce_time_to_ga_s")
        if ga_t is not None:
            ratios.append(math.inf if rf_t is None else rf_t / max(ga_t, 1e-9))
    rows.append(
        _target("REINFORCE time to GA's W-EGR / GA's time", "< 1", ratios or None, 1.0, False, "x")
    )
    near = []
    for row in fig7:
        ga_t, rf_t = row.get("ga_time_to_99_s"), row.get("reinforce_time_to_99_s")
        if ga_t is not None:
            near.append(math.inf if rf_t is None else rf_t / max(ga_t, 1e-9))
    rows.append(
        _target(
            "(extra) REINFORCE time to 99 % of the optimum / GA's",
            "< 1",
            near or None,
            1.0,
            False,
            "x",
        )
    )
    rows.append(_target("MILP gap", "<= 0.1 %", [opt["gap"]], 1e-3, False, "%"))
    rows.append(_target("MILP wall time", "<= 600 s", [opt["wall_time_s"]], 600.0, False, "s"))
    return rows


# ------------------------------------------------------------------------------ markdown
def _f(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and math.isinf(value):
        return "never"
    return f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f} %"


def _spread(s: dict[str, float], pct: bool = True) -> str:
    """``mean ± std (min-max)`` over seeds, as percentages or plain numbers (2 decimals)."""
    scale, unit = (100.0, " %") if pct else (1.0, "")
    mean, std, low, high = (scale * s[k] for k in ("mean", "std", "min", "max"))
    if s["n"] == 1:
        return f"{mean:,.2f}{unit}"
    return f"{mean:,.2f}{unit} ± {std:,.2f} ({low:,.2f}-{high:,.2f})"


def _generations_to(runs: list[dict[str, Any]], dynamic: bool, optimum: float) -> str:
    """The first generation at 99 % of ``optimum`` of each GA run (``never`` if none)."""
    cells = []
    for run in (r for r in runs if r["dynamic"] == dynamic):
        hit = np.flatnonzero(np.asarray(run["history"]) >= 0.99 * optimum)
        cells.append(str(int(hit[0])) if hit.size else "never")
    return ", ".join(cells)


def _time(row: dict[str, Any], field: str) -> str:
    """Seconds, "never" when the run did not get there, "–" when not measured."""
    if "ga" not in row:
        return "–"
    value = row.get(field)
    return "never" if value is None else f"{value:,.2f} s"


def _baseline_cells(row: dict[str, Any], opt: float) -> list[str]:
    cells = []
    for w in WEIGHTS:
        b = row["baselines"].get(w)
        if b is None:
            cells.append("–")
        elif b["status"] != "optimal":
            cells.append("infeasible (0)")
        else:
            cells.append(f"{b['w_egr']:,.1f} ({_pct(b['w_egr'] / opt if opt > 0 else None)})")
    return cells


def markdown(report: dict[str, Any]) -> str:
    args, raw, derived = report["args"], report["raw"], report["derived"]
    summaries = {row["key"]: row for row in raw.get("summary", [])}
    main = args["instance"]
    stem = Path(args["json"]).stem
    lines = [
        "# qVPN paper reproduction (Sec. IV, Fig. 4-9, Table III)",
        "",
        "Regenerate: `python scripts/reproduce_qvpn.py "
        + report["command"]
        + "` (`--render` on the JSON rebuilds this page and its figures).",
        f"Run on {report['date']}, {report['cpus']} CPUs, {args['workers']} worker processes, "
        f"{report['wall_time_s'] / 60:.1f} min in all.",
        "",
        *[
            f"Updated on {u['date']}: {', '.join(u['only'])} rerun by `python "
            f"scripts/reproduce_qvpn.py {u['command']}` ({u['wall_time_s'] / 60:.1f} min, "
            f"{u['cpus']} CPUs); the rest is from the run above."
            for u in report.get("updates", [])
        ],
        "",
        "Method and instance are in `docs/qvpn-model.md`; the optimisers in `docs/selection.md`.",
        f"The main instance is `{main}`: on `default` (the paper's text, T = 1 us) every pair "
        "reaches `R_max` under all three baselines and the optimum, so no selection method can "
        "beat the baselines there; the authors' code's 4 us/km repetition time makes capacity "
        "bind. Every W-EGR is also given as a fraction of the exact optimum (MILP, HiGHS).",
        "",
        "## Budgets",
        "",
        f"- GA: population 100, {args['ga_generations']} generations (paper: 1000) on the main "
        f"instance and `sec4e`; {args['sweep_generations']} generations, "
        f"{args['sweep_seeds']} seed(s) per point in the sweeps (Fig. 4b, 4c, 5, 6).",
        f"- REINFORCE: {args['rf_epochs']} epochs, batch 16, MLP (128, 128) on the version "
        "features, learning rate 1e-3, entropy 0.1, greedy decode scored every epoch.",
        f"- MARL: MAPPO, {args['marl_steps']:,} env steps (rounds per episode as labelled, "
        "cooperative "
        f"reward), {args['marl_batch']:g} env steps per update over 4 env copies, minibatch "
        f"{args.get('marl_minibatch', 64):g}, 4 epochs, learning rate "
        f"{args.get('marl_lr', 3e-4):g}, entropy {args.get('marl_entropy', 0.01):g}, clip "
        f"{args.get('marl_clip', 0.2):g}, hidden (64, 64); configurations "
        f"{'; '.join(marl_by_actor(raw.get('marl', [])))}.",
        f"- Seeds: {args['seeds']} for Fig. 4a, 7, 8 and MARL. MILP time limit "
        f"{args['milp_time_limit']:g} s, one thread.",
        "- GA and REINFORCE start from random selections (Fig. 7's GA on `sec4e`: from the hop "
        "baseline, as the paper). An infeasible LP scores minus its relative `R_min` shortfall "
        "during the search, so the search can reach feasibility; W-EGR below is the paper's "
        "(0 when infeasible).",
        "",
    ]
    if summaries:
        lines += [
            "## Instances: baselines and the exact optimum",
            "",
            "| instance | pairs | versions (offered) | hop | 1/EGR | 1/EGR^2 | optimum | gap "
            "| MILP s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for key, s in summaries.items():
            o = s["optimum"]
            lines.append(
                f"| `{key}` | {s['n_pairs']} | {s['versions']:,} ({s['versions_offered']:,}) | "
                + " | ".join(_baseline_cells(s, o["objective"]))
                + f" | {o['objective']:,.1f} | {_pct(o['gap'])} | {o['wall_time_s']:.2f} |"
            )
        lines.append("")
    targets_rows = derived.get("targets", [])
    if targets_rows:
        lines += [
            f"## The issue's targets (on `{main}`, judged on the worst seed)",
            "",
            "| target | goal | measured (mean ± std, min-max over seeds) | met | by |",
            "|---|---|---|---|---|",
        ]
        for t in targets_rows:
            if t["measured"] is None:
                lines.append(f"| {t['name']} | {t['target']} | not run | – | – |")
                continue
            pct = t["unit"] == "%"
            measured = _spread(t["measured"], pct=pct) + ("" if pct else f" {t['unit']}")
            if not all(math.isfinite(v) for v in t["values"]):
                measured = ", ".join(_f(v, 2) for v in t["values"]) + f" {t['unit']} (per seed)"
            by = f"{100 * t['by']:+.2f} pp" if pct else f"{t['by']:+,.3g} {t['unit']}"
            if math.isinf(t["by"]):
                by = "never reached"
            lines.append(
                f"| {t['name']} | {t['target']} | {measured} | "
                f"{'met' if t['met'] else '**missed**'} | {by} |"
            )
        lines.append("")
    if "fig4a" in derived:
        d = derived["fig4a"]
        lines += [
            "## Fig. 4a: dynamic and static GA against the baselines",
            "",
            f"![Fig. 4a]({stem}-fig4a.png)",
            "",
            f"Final W-EGR / optimum on `{main}`: dynamic {_spread(d['dynamic'])}, static "
            f"{_spread(d['static'])}. Best baseline: "
            f"{_pct(best_baseline(summaries[main]) / summaries[main]['optimum']['objective'])}. "
            "First generation at 99 % of the optimum, per seed: dynamic "
            + _generations_to(raw["fig4a"], True, summaries[main]["optimum"]["objective"])
            + "; static "
            + _generations_to(raw["fig4a"], False, summaries[main]["optimum"]["objective"])
            + ".",
            "",
        ]
    titles = {
        "fig4b": ("Fig. 4b: candidate paths per weight k", "k"),
        "fig4c": ("Fig. 4c: pairs per organisation", "pairs per org"),
        "fig5": ("Fig. 5: paths per pair |P|", "|P|"),
        "fig6": ("Fig. 6: link-level thresholds per path (R_min 0, R_max inf)", "thresholds"),
    }
    for fig, (title, label) in titles.items():
        if fig not in derived:
            continue
        lines += [
            f"## {title}",
            "",
            f"![{fig}]({stem}-{fig}.png)",
            "",
            f"| {label} | instance | GA | hop | 1/EGR | 1/EGR^2 | optimum |",
            "|---:|---|---:|---:|---:|---:|---:|",
        ]
        for row in derived[fig]:
            value = f"{row['value']:g}"
            opt = row["optimum"]
            ga = row["ga"]["mean"]
            ga_cell = f"{ga:,.1f} ({_pct(row['ga_fraction'])})"
            if ga <= 0 < opt:
                ga_cell = "none feasible found (0)"
            lines.append(
                f"| {value} | `{row['key']}` | {ga_cell} | "
                + " | ".join(_baseline_cells(summaries[row["key"]], opt))
                + f" | {opt:,.1f} |"
            )
        lines.append("")
    if "fig7" in derived:
        lines += [
            "## Fig. 7 and 8: REINFORCE and GA against the baselines, and their wall time",
            "",
            f"![Fig. 7]({stem}-fig7.png)",
            "",
            f"![Fig. 8]({stem}-fig8.png)",
            "",
            "| instance | seed | GA (start) | REINFORCE | GA's time to its best | "
            "REINFORCE's time to GA's W-EGR | time to 99 % of the optimum: GA, REINFORCE |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for key, d in derived["fig7"].items():
            for r in d["runs"]:
                start = "hop" if r.get("ga_seeded") else "random"
                lines.append(
                    f"| `{key}` | {r['seed']} | {_pct(r.get('ga_fraction'))} ({start}) | "
                    f"{_pct(r['reinforce_fraction'])} | {_f(r.get('ga_time_to_best_s'), 2)} s | "
                    f"{_time(r, 'reinforce_time_to_ga_s')} | {_time(r, 'ga_time_to_99_s')}, "
                    f"{_time(r, 'reinforce_time_to_99_s')} |"
                )
            lines.append(
                f"| `{key}` | best baseline | {_pct(d['best_baseline'] / d['optimum'])} | | | | |"
            )
        lines += [
            "",
            "Fractions of the optimum; times in seconds of wall time on this machine, LP solves "
            'included ("never": REINFORCE did not reach the GA\'s final W-EGR in its budget).',
            "",
        ]
    if "fig9" in derived:
        lines += [
            "## Fig. 9 and Table III: true rates and what they correlate with",
            "",
            f"![Fig. 9]({stem}-fig9.png)",
            "",
            "Rates of the exact optimum (the paper plots its GA's), `R_min = 10`, "
            "`R_max,u ~ U[10, R_max]`. Pearson correlation of each pair's true rate, over all "
            "pairs, with its `lambda`, `F_u`, `L_u` (physical links of its shortest used path) "
            "and `w lambda / (F L)`:",
            "",
            "| R_max | optimum W-EGR | lambda | F_u | L_u | w lambda / (F L) |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for row in derived["fig9"]:
            c = row["correlations"]
            lines.append(
                f"| {row['rmax']:g} | {row['optimum']:,.1f} | "
                + " | ".join(_f(c[k], 3) for k in ("lambda", "fidelity", "length", "ratio"))
                + " |"
            )
        p = PAPER_TABLE3
        lines += [
            f"| paper (Table III) | | {p['lambda']} | {p['fidelity']} | {p['length']} | "
            f"{p['ratio']} |",
            "",
        ]
    if "marl" in derived:
        optimum_value = summaries[main]["optimum"]["objective"]
        lines += [
            "## MARL: MAPPO on the qVPN env",
            "",
            "Greedy W-EGR of the last round / optimum (optimum "
            f"{optimum_value:,.1f}; 0 = infeasible), per actor network of the same trainer "
            "(`agents/marl/networks.py`) and rounds per episode: `choice-scorer` scores every "
            "path version with one shared MLP of its features, its pair's and the round's; "
            "`mlp` reads the flat observation.",
            "",
            "| actor, rounds | greedy W-EGR / optimum | per seed (pairs/s) | per round, each seed "
            "| team return, first -> last update |",
            "|---|---:|---|---|---|",
        ]
        for actor, runs in marl_by_actor(raw["marl"]).items():
            lines.append(
                f"| {actor} | {_spread(derived['marl'][actor])} | "
                + ", ".join(f"{r['w_egr']:,.1f}" for r in runs)
                + " | "
                + "; ".join(
                    " / ".join(_pct(w / optimum_value) for w in r["round_w_egr"]) for r in runs
                )
                + " | "
                + ", ".join(
                    f"{_f(r['team_return'][0], 3)} -> {_f(r['team_return'][-1], 3)}" for r in runs
                )
                + " |"
            )
        lines += [
            "",
            "Team return: the sum over the 3 organisations and the episode's rounds of the "
            "cooperative "
            "reward (a feasible round pays W-EGR / the LP bound over every version, an "
            "infeasible one minus each organisation's relative `R_min` shortfall), mean over "
            "the update's episodes.",
            "",
        ]
        if all("curve" in r for r in raw["marl"]):
            lines += [f"![MARL]({stem}-marl.png)", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------- plots
def plots(report: dict[str, Any], prefix: Path) -> list[Path]:
    """PNG figures from the report (matplotlib Agg); returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    raw, derived, args = report["raw"], report["derived"], report["args"]
    summaries = {row["key"]: row for row in raw.get("summary", [])}
    main = args["instance"]
    written: list[Path] = []

    def save(fig, name: str) -> None:
        path = prefix.with_name(f"{prefix.name}-{name}.png")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    def lines_for(ax, key: str) -> None:
        s = summaries[key]
        opt = s["optimum"]["objective"]
        ax.axhline(1.0, color="black", ls="--", lw=1.2, label=f"optimum (MILP) {opt:,.0f}")
        for w, style in zip(WEIGHTS, (":", "-.", (0, (5, 2))), strict=True):
            b = s["baselines"].get(w)
            if b is None:
                continue
            value = b["w_egr"] / opt if b["status"] == "optimal" and opt > 0 else 0.0
            tag = "" if b["status"] == "optimal" else " (infeasible)"
            ax.axhline(value, color="grey", ls=style, lw=1, label=f"{WEIGHT_LABEL[w]}{tag}")

    def band(ax, runs: list[dict], key: str, x: str, label: str, color: str) -> None:
        opt = summaries[key]["optimum"]["objective"]
        length = min(len(r["history"]) for r in runs)
        h = np.array([r["history"][:length] for r in runs]) / opt
        xs = (
            np.mean([r["wall"][:length] for r in runs], axis=0)
            if x == "wall"
            else np.arange(length)
        )
        ax.plot(xs, h.mean(axis=0), color=color, label=f"{label} (mean of {len(runs)})")
        if len(runs) > 1:
            ax.fill_between(xs, h.min(axis=0), h.max(axis=0), color=color, alpha=0.2)

    if "fig4a" in raw:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        lines_for(ax, main)
        for dyn, label, color in ((True, "dynamic GA", "C0"), (False, "static GA", "C1")):
            band(ax, [r for r in raw["fig4a"] if r["dynamic"] == dyn], main, "gen", label, color)
        ax.set(xlabel="generation", ylabel="W-EGR / optimum", title=f"Fig. 4a on {main}")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8, loc="lower right")
        save(fig, "fig4a")
    for fig_name, label in (("fig4b", "k"), ("fig4c", "pairs per org")):
        if fig_name not in raw:
            continue
        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.axhline(1.0, color="black", ls="--", lw=1.2, label="optimum of each setting (MILP)")
        for i, (value, key) in enumerate(raw["sweeps"][fig_name]):
            runs = [r for r in raw[fig_name] if r["key"] == key]
            band(ax, runs, key, "gen", f"{label} = {value:g}", f"C{i}")
        ax.set(xlabel="generation", ylabel="GA W-EGR / optimum", title=f"Fig. {fig_name[3:]}")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8, loc="lower right")
        save(fig, fig_name)
    for fig_name, label in (("fig5", "paths per pair |P|"), ("fig6", "thresholds per path")):
        if fig_name not in derived:
            continue
        rows = derived[fig_name]
        fig, ax = plt.subplots(figsize=(7, 4.5))
        width = 0.18
        for j, (name, color) in enumerate(
            (("GA", "C0"), ("hop", "C1"), ("egr", "C2"), ("egr2", "C3"))
        ):
            xs = np.arange(len(rows)) + (j - 1.5) * width
            for x, row in zip(xs, rows, strict=True):
                if name == "GA":
                    value, feasible = row["ga"]["mean"], row["ga"]["mean"] > 0
                else:
                    b = row["baselines"].get(name)
                    if b is None:
                        continue
                    value, feasible = b["w_egr"], b["feasible"]
                ax.bar(
                    x,
                    value,
                    width,
                    color=color,
                    label=(WEIGHT_LABEL.get(name, name) if x == xs[0] else None),
                )
                if not feasible:
                    ax.text(x, 0, "×\ninf.", ha="center", va="bottom", fontsize=7, color=color)
        for i, row in enumerate(rows):
            ax.hlines(
                row["optimum"],
                i - 2.2 * width,
                i + 2.2 * width,
                colors="black",
                linestyles="--",
                label="optimum (MILP)" if i == 0 else None,
            )
        ax.set_xticks(np.arange(len(rows)), [f"{r['value']:g}" for r in rows])
        ax.set(xlabel=label, ylabel="W-EGR (pairs/s, weighted)", title=f"Fig. {fig_name[3:]}")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        save(fig, fig_name)
    if "fig7" in raw:
        rf_runs = [r for r in raw["fig7"] if "greedy" in r]
        ga_runs = [r for r in raw["fig7"] if "dynamic" in r] + [
            r for r in raw.get("fig4a", []) if r["dynamic"]
        ]
        keys = list(dict.fromkeys(r["key"] for r in rf_runs))
        fig, axes = plt.subplots(1, len(keys), figsize=(6 * len(keys), 4.5), squeeze=False)
        for ax, key in zip(axes[0], keys, strict=True):
            lines_for(ax, key)
            ga = [r for r in ga_runs if r["key"] == key]
            if ga:
                start = "hop-seeded" if ga[0]["seeded"] else "random start"
                band(ax, ga, key, "gen", f"GA ({start}), per generation", "C0")
            band(
                ax,
                [r for r in rf_runs if r["key"] == key],
                key,
                "gen",
                "REINFORCE best so far, per epoch",
                "C3",
            )
            ax.set(xlabel="generation / epoch", ylabel="W-EGR / optimum", title=f"Fig. 7 on {key}")
            ax.set_xscale("symlog", linthresh=10)
            ax.set_xlim(left=0)
            _zoom(ax)
            ax.legend(fontsize=8, loc="lower right")
        save(fig, "fig7")
        fig, axes = plt.subplots(1, len(keys), figsize=(6 * len(keys), 4.5), squeeze=False)
        for ax, key in zip(axes[0], keys, strict=True):
            ax.axhline(1.0, color="black", ls="--", lw=1.2, label="optimum (MILP)")
            ga = [r for r in ga_runs if r["key"] == key]
            opt = summaries[key]["optimum"]["objective"]
            for i, r in enumerate(ga):
                ax.plot(
                    r["wall"],
                    np.asarray(r["history"]) / opt,
                    color="C0",
                    lw=1,
                    label="GA" if i == 0 else None,
                )
            for i, r in enumerate(r for r in rf_runs if r["key"] == key):
                ax.plot(
                    r["wall"],
                    np.asarray(r["history"]) / opt,
                    color="C3",
                    lw=1,
                    label="REINFORCE" if i == 0 else None,
                )
            ax.set(xlabel="wall time (s)", ylabel="best W-EGR / optimum", title=f"Fig. 8 on {key}")
            _zoom(ax)
            ax.legend(fontsize=8, loc="lower right")
        save(fig, "fig8")
    if "marl" in raw and all("curve" in r for r in raw["marl"]):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        lines_for(ax, main)
        opt = summaries[main]["optimum"]["objective"]
        for i, (actor, runs) in enumerate(marl_by_actor(raw["marl"]).items()):
            for j, r in enumerate(runs):
                ax.plot(
                    [c["steps"] for c in r["curve"]],
                    [c["rounds"][-1] / opt for c in r["curve"]],
                    color=f"C{i}",
                    marker="o",
                    ms=3,
                    lw=1,
                    label=f"MAPPO ({actor}; {len(runs)} seeds)" if j == 0 else None,
                )
        ax.set(
            xlabel="env steps (each: one round, one LP)",
            ylabel="greedy last-round W-EGR / optimum",
            title=f"MAPPO on the qVPN env ({main})",
            ylim=(-0.02, 1.05),
        )
        ax.legend(fontsize=8, loc="center right")
        save(fig, "marl")
    if "fig9" in derived:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for i, r in enumerate(args["rmax_values"]):
            pairs = summaries[f"{main}:rmax={r:g}"]["pairs"]
            rates = [x for x, k in zip(pairs["rate"], pairs["org"], strict=True) if k == 0]
            ax.plot(
                sorted(rates, reverse=True), marker="o", ms=3, color=f"C{i}", label=f"R_max = {r:g}"
            )
        ax.set_yscale("log")
        ax.set(
            xlabel="user pair of organisation 0 (sorted by true rate)",
            ylabel="true rate (pairs/s)",
            title="Fig. 9: true rates in the optimum",
        )
        ax.legend(fontsize=8)
        save(fig, "fig9")
    return written


def _zoom(ax) -> None:
    """y from 0, or a close-up when everything plotted lies above 0.8 of the optimum."""
    values = [y for line in ax.get_lines() for y in np.asarray(line.get_ydata(), dtype=float)]
    low = min(values, default=0.0)
    if low > 0.8:
        ax.set_ylim(low - 0.25 * (1.0 - low) - 1e-3, 1.0 + 0.1 * (1.0 - low) + 1e-3)
    else:
        ax.set_ylim(bottom=0)


# ---------------------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; ``argv`` defaults to ``sys.argv[1:]``."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--only",
        type=lambda s: s.split(","),
        default=list(EXPERIMENTS),
        help=f"comma-separated experiments among {','.join(EXPERIMENTS)}",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run on the tiny instance")
    parser.add_argument("--instance", default=None, help="main instance (paper-per-km; tiny)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of Fig. 4a, 7, 8 and MARL")
    parser.add_argument("--sweep-seeds", type=int, default=1, help="GA seeds per sweep point")
    parser.add_argument("--ga-generations", type=int, default=300, help="GA generations")
    parser.add_argument("--sweep-generations", type=int, default=150, help="GA, sweeps")
    parser.add_argument("--rf-epochs", type=int, default=1000, help="REINFORCE epochs")
    parser.add_argument("--marl-steps", type=int, default=8192, help="MAPPO env steps")
    parser.add_argument("--marl-batch", type=int, default=64, help="MAPPO env steps per update")
    parser.add_argument("--marl-minibatch", type=int, default=16, help="MAPPO minibatch (steps)")
    parser.add_argument("--marl-lr", type=float, default=3e-3, help="MAPPO learning rate")
    parser.add_argument("--marl-entropy", type=float, default=1e-3, help="MAPPO entropy weight")
    parser.add_argument("--marl-clip", type=float, default=1.0, help="MAPPO ratio clip")
    parser.add_argument(
        "--marl-actors",
        nargs="+",
        default=["choice-scorer", "mlp"],
        help="actor networks (agents.marl.networks.ACTORS); the first is the target's",
    )
    parser.add_argument(
        "--marl-rounds", type=int, default=4, help="rounds per episode of the MARL env"
    )
    parser.add_argument(
        "--marl-chunks", type=int, default=8, help="greedy evaluations over a MAPPO run"
    )
    parser.add_argument("--k-values", type=int, nargs="+", default=[1, 2, 3, 5])
    parser.add_argument("--pairs-values", type=int, nargs="+", default=[10, 25, 50])
    parser.add_argument("--paths-values", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--threshold-values", type=int, nargs="+", default=[1, 2, 4, 16])
    parser.add_argument("--rmax-values", type=float, nargs="+", default=[100, 500, 1000, 5000])
    parser.add_argument("--milp-time-limit", type=float, default=600.0, help="seconds")
    parser.add_argument("--workers", type=int, default=2, help="parallel processes")
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help="the JSON report (runs/ is git-ignored; pass docs/<page>.json to update a page)",
    )
    parser.add_argument("--markdown", type=Path, help="default: the JSON's path with .md")
    parser.add_argument("--render", type=Path, help="only rebuild Markdown and figures, and exit")
    parser.add_argument(
        "--update",
        type=Path,
        help="rerun only the --only experiments (today: marl) and merge them into this report "
        "(its other results, and their commands, stay; the page lists every command)",
    )
    args = parser.parse_args(argv)
    unknown = [e for e in args.only if e not in EXPERIMENTS]
    if unknown:
        parser.error(f"--only: unknown {unknown}; choose among {', '.join(EXPERIMENTS)}")
    if args.quick:
        args.instance = args.instance or "tiny"
        for name, value in (
            ("ga_generations", 5),
            ("sweep_generations", 3),
            ("rf_epochs", 5),
            ("marl_steps", 64),
            ("marl_batch", 32),
            ("marl_minibatch", 16),
            ("marl_chunks", 2),
            ("seeds", 2),
        ):
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
        defaults = {
            "k_values": [1, 2],
            "pairs_values": [1, 2],
            "paths_values": [1, 2],
            "threshold_values": [1, 2],
            "rmax_values": [100.0, 4000.0],
        }
        for name, value in defaults.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
        if args.milp_time_limit == parser.get_default("milp_time_limit"):
            args.milp_time_limit = 60.0
    args.instance = args.instance or "paper-per-km"
    if "fig8" in args.only and "fig7" not in args.only:
        args.only.append("fig7")
    if args.update is not None:
        if set(args.only) - set(UPDATABLE):
            parser.error(f"--update reruns only {', '.join(UPDATABLE)}: pass --only marl")
        if not args.update.is_file():
            parser.error(f"--update: no report at {args.update}")
    return args


def write(report: dict[str, Any], json_path: Path, markdown_path: Path) -> None:
    """Write JSON, Markdown and figures (each file replaced atomically)."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    markdown_path.parent.mkdir(parents=True, exist_ok=True)
    for path, text in (
        (json_path, json.dumps(report, indent=1, default=str)),
        (markdown_path, markdown(report)),
    ):
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(text)
        os.replace(temporary, path)
    plots(report, json_path.with_suffix(""))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.render is not None:
        report = json.loads(args.render.read_text())
        recorded = argparse.Namespace(**report["args"])
        report["derived"] = assemble(recorded, report["raw"])  # from the raw results
        write(report, args.render, args.markdown or args.render.with_suffix(".md"))
        return report
    if args.update is not None:
        return update(args, argv)
    markdown_path = args.markdown or args.json.with_suffix(".md")
    started = time.perf_counter()
    raw = run(args)
    recorded = vars(args) | {"json": str(args.json), "markdown": str(markdown_path)}
    report = {
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in recorded.items()},
        "command": shlex.join(argv),
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "raw": raw,
        "derived": assemble(args, raw),
        "wall_time_s": time.perf_counter() - started,
    }
    write(report, args.json, markdown_path)
    print(markdown(report))
    return report


def update(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    """Rerun ``args.only`` (experiments of :data:`UPDATABLE`) on the report's main instance and
    seeds, replace those results and the args they own, recompute everything derived, and
    record the command under ``"updates"``."""
    report = json.loads(args.update.read_text())
    recorded = report["args"]
    if args.instance != recorded["instance"] or args.seeds != recorded["seeds"]:
        raise SystemExit(
            f"--update: the report's instance and seeds are {recorded['instance']!r} and "
            f"{recorded['seeds']}; pass --instance {recorded['instance']} --seeds "
            f"{recorded['seeds']}"
        )
    if "marl" in args.only and report["raw"].get("marl"):
        owned = ("marl_steps", *MARL_SETTINGS)
        changed = [n for n in owned if n in recorded and recorded[n] != getattr(args, n)]
        if changed:
            raise SystemExit(
                f"--update: the report's MARL runs used other settings ({', '.join(changed)}); "
                "runs of one report share them: pass the recorded values"
            )
    started = time.perf_counter()
    raw = run(args)
    for experiment in args.only:
        if experiment == "marl":  # runs of other configurations stay
            fresh = {marl_config(r) for r in raw["marl"]}
            kept = [r for r in report["raw"].get("marl", []) if marl_config(r) not in fresh]
            report["raw"]["marl"] = kept + raw["marl"]
        else:
            report["raw"][experiment] = raw[experiment]
        for name in UPDATABLE[experiment]:
            recorded[name] = getattr(args, name)
    report.setdefault("updates", []).append(
        {
            "only": list(args.only),
            "command": shlex.join(argv),
            "date": time.strftime("%Y-%m-%d"),
            "cpus": os.cpu_count(),
            "wall_time_s": time.perf_counter() - started,
        }
    )
    report["derived"] = assemble(argparse.Namespace(**recorded), report["raw"])
    markdown_path = args.markdown or args.update.with_suffix(".md")
    write(report, args.update, markdown_path)
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
