"""Decompose the gap between the learned link-quality router and the clairvoyant bound.

Runs every method on the same paired episodes as ``scripts/reproduce_linkquality.py`` (seed
``s``: network seed ``s``, episode seed ``10000 + s``; the predictor trained the same way, on
networks ``1000, 1001``) and scores each request by whether it was served and by its *served
probability* on that slot's true link values (``agents.linkquality.diagnosis``), which has the
same mean without the attempt noise. Reports, per size, each method's mean, its paired
difference to the learned method (predictor + feasible-first) and to the clairvoyant with 95%
t intervals over episodes, and the fraction of the best-baseline-to-bound gap it closes with a
paired bootstrap interval. Methods:

* baselines ``shortest path``, ``greedy``, ``static``; the learned ``predictor +
  feasible-first`` and ``predictor + first candidate`` (what PPO converged to);
* ``best of the predictor's candidates`` (the candidate-set loss), ``true values +
  feasible-first`` (the non-clairvoyant rule with perfect estimates), ``stale true values +
  feasible-first`` (noise-free measurements on the real schedule), ``forecast from
  last-measured state + exact`` (the full hidden state at each link's last measurement carried
  forward by the processes' laws, then the exact rule);
* candidates tried to close the gap: ``predictor + exact`` (the clairvoyant's MILP on the
  predictor's values), ``predictor + feasible-first, k = 8``;
* the bound ``clairvoyant``.

Writes ``<out>.json`` and ``<out>.md`` (default ``runs/linkquality-diagnosis``; the page in
``docs/`` was written with ``--out docs/linkquality-diagnosis``). ``--render REPORT.json``
rewrites the Markdown of a report.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LEARNED = "predictor + feasible-first"
BOUND = "clairvoyant"
BASELINES = ("shortest path", "greedy", "static")
CANDIDATE_SET = "best of the predictor's candidates"
TRUE_RULE = "true values + feasible-first"
STALE = "stale true values + feasible-first"
FORECAST = "forecast from last-measured state + exact"
EXACT = "predictor + exact"
FIRST = "predictor + first candidate"
WIDE = "predictor + feasible-first, k = 8"
METHODS = (
    *BASELINES,
    FIRST,
    LEARNED,
    WIDE,
    EXACT,
    CANDIDATE_SET,
    STALE,
    FORECAST,
    TRUE_RULE,
    BOUND,
)


def _reproduce_module():
    spec = importlib.util.spec_from_file_location(
        "reproduce_linkquality", ROOT / "scripts" / "reproduce_linkquality.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100], help="nodes")
    parser.add_argument("--seeds", type=int, default=6, help="paired episodes per size")
    parser.add_argument("--requests", type=int, default=100, help="requests per episode")
    parser.add_argument("--train-episodes", type=int, default=8, help="predictor history")
    parser.add_argument("--epochs", type=int, default=20, help="predictor epochs")
    parser.add_argument("--forecast-samples", type=int, default=32, help="Monte Carlo futures")
    parser.add_argument(
        "--scenario", help="a shipped scenario name to use for every size instead of waxman-N"
    )
    parser.add_argument("--out", default=str(ROOT / "runs" / "linkquality-diagnosis"))
    parser.add_argument("--render", metavar="REPORT.json", help="rewrite the Markdown only")
    return parser.parse_args(argv)


def scenario_for(size: int, args: argparse.Namespace, network_seed: int):
    import dataclasses

    from qnet_envs.linkquality import LinkQualityScenario

    if args.scenario:
        base = LinkQualityScenario.load(args.scenario)
        return dataclasses.replace(
            base,
            network_seed=network_seed,
            requests=dataclasses.replace(base.requests, per_episode=args.requests),
        )
    return _reproduce_module().scenario_for(size, args.requests, network_seed)


def routers_for(predictor, args: argparse.Namespace) -> list:
    from agents.linkquality import diagnosis
    from agents.linkquality.clairvoyant import ClairvoyantRouter
    from agents.linkquality.policy import CandidateRouter, feasible_first
    from agents.linkquality.routers import (
        EstimateRouter,
        GreedyRouter,
        ShortestPathRouter,
        StaticRouter,
    )

    estimate = predictor.estimate
    routers = [
        ShortestPathRouter(),
        GreedyRouter(),
        StaticRouter(),
        EstimateRouter(estimate, FIRST),
        CandidateRouter(estimate, feasible_first, LEARNED),
        CandidateRouter(estimate, feasible_first, WIDE, k=8),
        diagnosis.EstimatedExactRouter(estimate, EXACT),
        diagnosis.CandidateOracleRouter(estimate, name=CANDIDATE_SET),
        diagnosis.StaleTruthRouter(name=STALE),
        diagnosis.ForecastRouter(samples=args.forecast_samples, name=FORECAST),
        diagnosis.TruthEstimateRouter(name=TRUE_RULE),
        ClairvoyantRouter(),
    ]
    assert tuple(r.name for r in routers) == METHODS
    return routers


def run_size(size: int, args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from agents.linkquality import diagnosis
    from agents.linkquality import predictor as lq_predictor
    from qnet_envs.linkquality import core

    torch.set_num_threads(1)
    started = time.perf_counter()
    train_nets = [core.Network.compile(scenario_for(size, args, s)) for s in (1000, 1001)]
    histories = [
        lq_predictor.collect_history(net, range(args.train_episodes)) for net in train_nets
    ]
    features = np.concatenate([h[0] for h in histories])
    targets = np.concatenate([h[1] for h in histories])
    budget = train_nets[0].scenario.requests.max_attempts
    predictor, _ = lq_predictor.train(features, targets, budget, epochs=args.epochs)
    routers = routers_for(predictor, args)
    runs: dict[str, list[dict[str, Any]]] = {r.name: [] for r in routers}
    wall: dict[str, float] = {r.name: 0.0 for r in routers}
    for seed in range(args.seeds):
        network = core.Network.compile(scenario_for(size, args, seed))
        for router in routers:
            t0 = time.perf_counter()
            runs[router.name].append(diagnosis.run_paired_episode(network, 10_000 + seed, router))
            wall[router.name] += time.perf_counter() - t0
    return {
        "size": size,
        "scenario": scenario_for(size, args, 0).name,
        "runs": runs,
        "router_wall_s": wall,
        "wall_s": time.perf_counter() - started,
    }


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """Per method and score (``probability``, ``served``): mean, paired differences to the
    learned method and the bound, the gap closed; and the best baseline."""
    from agents.linkquality import diagnosis

    runs = result["runs"]
    out: dict[str, Any] = {}
    for key in ("probability", "served"):
        means = {m: diagnosis.episode_means(r, key) for m, r in runs.items()}
        best = max(BASELINES, key=lambda m: float(np.mean(means[m])))
        rows = {}
        for method, values in means.items():
            rows[method] = {
                "mean": float(np.mean(values)),
                "minus_learned": diagnosis.paired_difference(values, means[LEARNED]),
                "minus_bound": diagnosis.paired_difference(values, means[BOUND]),
                "gap_closed": diagnosis.gap_closed(values, means[best], means[BOUND]),
            }
        out[key] = {"best_baseline": best, "methods": rows}
    latency = {m: float(np.mean(diagnosis.episode_means(r, "latency_ms"))) for m, r in runs.items()}
    out["latency_ms"] = latency
    return out


def _ci(d: dict[str, float], scale: float = 1.0) -> str:
    return f"{d['mean'] * scale:+.3f} [{d['low'] * scale:+.3f}, {d['high'] * scale:+.3f}]"


def _share(d: dict[str, float]) -> str:
    return f"{d['mean']:.0%} [{d['low']:.0%}, {d['high']:.0%}]"


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Link-quality-aware routing: where the gap to the clairvoyant bound goes",
        "",
        "Generated by `scripts/diagnose_linkquality.py` (agents: [linkquality.md](linkquality.md),"
        " reference routers: `agents/linkquality/diagnosis.py`).",
        "",
        f"Command: `{report['command']}`  ",
        f"Wall time: {report['wall_s']:.0f} s on the shared 2-core machine.",
        "",
        "Paired episodes: every method runs on the same episode seeds (network seed s, episode "
        "seed 10000 + s, as the reproduction), so on the same link states, requests and probe "
        "readings. *Served probability* is the probability, on the true link values of that "
        "slot, that the chosen path serves the request; its mean equals the success rate's "
        "expectation without the attempt noise. Intervals are 95%: Student t over episodes for "
        "paired differences, a paired bootstrap over episodes for the gap closed (from the best "
        "baseline to the clairvoyant).",
        "",
    ]
    for result in report["results"]:
        summary = result["summary"]
        n = len(next(iter(result["runs"].values())))
        prob, served = summary["probability"], summary["served"]
        lines += [
            f"## {result['size']} nodes ({result['scenario']}, {n} episodes of "
            f"{report['args']['requests']} requests)",
            "",
            f"Best baseline: {prob['best_baseline']} (served probability), "
            f"{served['best_baseline']} (success rate).",
            "",
            "| method | served probability | minus learned | minus clairvoyant | gap closed "
            "| success rate | gap closed (success) | latency (ms) | s / episode |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for method in prob["methods"]:
            p, s = prob["methods"][method], served["methods"][method]
            lines.append(
                f"| {method} | {p['mean']:.3f} | {_ci(p['minus_learned'])} | "
                f"{_ci(p['minus_bound'])} | {_share(p['gap_closed'])} | {s['mean']:.3f} | "
                f"{_share(s['gap_closed'])} | {summary['latency_ms'][method]:.2f} | "
                f"{result['router_wall_s'][method] / n:.1f} |"
            )
        mean = {method: row["mean"] for method, row in prob["methods"].items()}

        def loss(a: str, b: str, mean: dict[str, float] = mean) -> float:
            return mean[a] - mean[b]

        total = loss(BOUND, LEARNED)
        k = report["k"][str(result["size"])]
        lines += [
            "",
            f"Decomposition of the learned method's loss ({total:.3f} served probability):",
            "",
            f"- candidate set (clairvoyant minus the best of the predictor's {k} candidates): "
            f"{loss(BOUND, CANDIDATE_SET):.3f}; choice among them (that best minus "
            f"the learned choice): {loss(CANDIDATE_SET, LEARNED):.3f}.",
            f"- rule with perfect estimates (clairvoyant minus true values + feasible-first): "
            f"{loss(BOUND, TRUE_RULE):.3f}; estimation (true values minus predictor, same rule): "
            f"{loss(TRUE_RULE, LEARNED):.3f}, of which noise-free measurements on the same "
            f"schedule recover {loss(STALE, LEARNED):.3f} and a forecast from the full hidden "
            f"state at the last measurement (exact rule) {loss(FORECAST, LEARNED):.3f}.",
            "",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        path = Path(args.render)
        report = json.loads(path.read_text())
        path.with_suffix(".md").write_text(markdown(report))
        return 0
    started = time.perf_counter()
    results, k = [], {}
    for size in args.sizes:
        result = run_size(size, args)
        result["summary"] = summarise(result)
        results.append(result)
        k[str(size)] = scenario_for(size, args, 0).k_paths
        print(f"{size} nodes done in {result['wall_s']:.0f} s", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "command": "PYTHONPATH=$PWD python scripts/diagnose_linkquality.py "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "args": vars(args),
        "k": k,
        "results": results,
        "wall_s": time.perf_counter() - started,
    }
    out.with_suffix(".json").write_text(json.dumps(report, indent=1, default=float) + "\n")
    out.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
