"""Reproduce QPLAN's Fig. 4-9 (Gan et al.) for the suite's planning instances.

For every instance: Greedy, the plain ILP (HiGHS, ``--time-limit`` s, one thread), First-stage
(a split of every demand played as ``planning_v0`` plays it, fibres ``ceil(load / C)``) and
QPLAN (the ILP under caps ``alpha * x_p`` of the first stage, warm-started from it) at
``alpha`` 1.5 and the ``--alphas`` sweep. The first stage is the trained policy of
``agents.planning.first_stage`` when ``--checkpoint`` is given, else the fixed-rule stand-in
``agents.baselines.planning.spread_levels`` (Greedy's split plus one level on every other
usable path); both are kept in the JSON under their own ``source`` key.

Figures (``<out>-fig4.png`` ... ``-fig9.png``): cost normalised to the best proven bound of
the instance (the larger of the LP-relaxation bound and the plain ILP's best bound: QPLAN's own
bound is of its restricted problem and proves nothing about the full one), computation time,
First-stage satisfied demand, satisfied demand under 5/10/15/20% random link failures
(``qnet_envs.planning.qplan.satisfied_under_failures``, ``--failure-draws`` draws per fraction,
the same failed edges for every method), First-stage cost per GNN depth (only with
``--layer-checkpoint``), and QPLAN per ``alpha``.

Resumable: results live in ``<out>.json``, one row per (instance, method, first-stage source),
and a row is reused when its settings (time limit, alpha, checkpoint) match; ``--redo``
recomputes. ``--render`` only rewrites the Markdown and the plots from the JSON.

Usage::

    python scripts/reproduce_planning.py --instances abilene cogentco --time-limit 120
    python scripts/reproduce_planning.py --instances kdl waxman850 --time-limit 600 \
        --alpha-time-limit 120 --checkpoint /path/to/policy.pt
    python scripts/reproduce_planning.py --render
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from agents.baselines.planning import greedy_plan, spread_levels
from qnet_envs.planning import Instance, evaluate, plan_to_json, relaxation_bound, solve_ilp
from qnet_envs.planning.plan import Plan
from qnet_envs.planning.qplan import first_stage_plan, satisfied_under_failures, solve_qplan

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "docs" / "planning-reproduction"
FAILURES = (0.05, 0.10, 0.15, 0.20)
ALPHAS = (1.0, 1.25, 1.5)
STANDIN = "spread stand-in"
WARMUP: dict[str, float] = {}  # checkpoint -> seconds of the untimed warm-up call
METHOD_ORDER = ("greedy", "ilp", "first-stage", "qplan")
COLORS = {
    "greedy": "tab:gray",
    "ilp": "tab:blue",
    "first-stage": "tab:orange",
    "qplan": "tab:green",
}


# ---------------------------------------------------------------- running


def first_stage_levels(
    instance: Instance, checkpoint: str | None, rounds: int | None
) -> tuple[np.ndarray, int, float]:
    """The first stage's levels, resolution and the seconds it took in a warm process: the
    one-off start-up (importing torch and torchrl, the first torch operations: 30-50 s on the
    loaded 2-core machine) is paid by an untimed warm-up call on ``tiny``, kept in ``WARMUP``."""
    if checkpoint is None:
        started = time.perf_counter()
        levels, resolution = spread_levels(instance, 4), 4
    else:
        import torch

        from agents.planning.first_stage import first_stage_levels as policy_levels

        torch.set_num_threads(1)
        if checkpoint not in WARMUP:
            tic = time.perf_counter()
            policy_levels(Instance.load("tiny"), checkpoint, rounds=rounds)
            WARMUP[checkpoint] = time.perf_counter() - tic
        started = time.perf_counter()
        levels, resolution = policy_levels(instance, checkpoint, rounds=rounds)
    return np.asarray(levels), int(resolution), time.perf_counter() - started


def failure_rows(instance: Instance, plan: Plan, draws: int, seed: int) -> dict[str, Any]:
    """Mean and standard deviation of the overall satisfied demand per failure fraction."""
    out: dict[str, Any] = {}
    for fraction in FAILURES:
        values = [
            satisfied_under_failures(
                instance, plan, fraction, np.random.default_rng([seed, round(fraction * 100), i])
            ).satisfied_overall
            for i in range(draws)
        ]
        out[f"{fraction:.2f}"] = {"mean": float(np.mean(values)), "std": float(np.std(values))}
    return out


def plan_row(instance: Instance, plan: Plan | None, draws: int, seed: int) -> dict[str, Any]:
    if plan is None:
        return {"cost": None, "satisfied": None, "feasible": False, "failures": None}
    evaluation = evaluate(instance, plan)
    summary = evaluation.summary()
    return {
        "cost": evaluation.total_cost,
        "capacity_cost": evaluation.capacity_cost,
        "fiber_cost": evaluation.fiber_cost,
        "satisfied": evaluation.satisfied_overall,
        "feasible": evaluation.feasible,
        "violations": summary["violations"],
        "failures": failure_rows(instance, plan, draws, seed),
    }


def ilp_fields(result: Any) -> dict[str, Any]:
    return {
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "solver_s": result.time_s,
    }


class Runner:
    """Runs what the JSON lacks for one instance and stores rows as they finish."""

    def __init__(
        self, args: argparse.Namespace, results: dict[str, Any], fresh: dict[str, Any], save
    ) -> None:
        self.args, self.results, self.fresh, self.save = args, results, fresh, save

    def source(self) -> str:
        return STANDIN if self.args.checkpoint is None else "policy"

    def wanted(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(bucket, method, settings) rows this run asks for."""
        a = self.args
        src = self.source()
        ckpt = a.checkpoint
        rows = [
            ("common", "greedy", {}),
            ("common", "ilp", {"time_limit": a.time_limit}),
            (src, "first-stage", {"checkpoint": ckpt}),
            (src, "qplan", {"checkpoint": ckpt, "alpha": 1.5, "time_limit": a.time_limit}),
        ]
        sweep_limit = a.alpha_time_limit or a.time_limit
        for alpha in a.alphas:
            if alpha != 1.5:
                settings = {"checkpoint": ckpt, "alpha": alpha, "time_limit": sweep_limit}
                rows.append((src, f"qplan-a{alpha:g}", settings))
        for layers, path in a.layer_checkpoint:
            rows.append(("layers", f"first-stage-L{layers}", {"checkpoint": path}))
        keep = set(a.methods)
        return [r for r in rows if r[1].split("-a")[0].split("-L")[0] in keep]

    def missing(self, name: str) -> list[tuple[str, str, dict[str, Any]]]:
        record = self.results.get(name, {})
        todo = []
        for bucket, method, settings in self.wanted():
            row = record.get(bucket, {}).get(method)
            if self.args.redo or row is None or row.get("settings") != settings:
                todo.append((bucket, method, settings))
        return todo

    def run_instance(self, name: str) -> None:
        todo = self.missing(name)
        if not todo:
            print(f"{name}: every requested row is in the JSON (use --redo to recompute)")
            return
        started = time.perf_counter()
        instance = Instance.load(name)
        _ = instance.paths
        load_s = time.perf_counter() - started
        record = self.results.setdefault(name, {})
        new = self.fresh.setdefault(name, {})
        record["info"] = new["info"] = {
            "nodes": instance.n_nodes,
            "edges": instance.n_edges,
            "demands": instance.n_demands,
            "paths": instance.paths.n_paths,
            "matrix": instance.matrix_index,
            "load_s": load_s,
            "lp_bound": relaxation_bound(instance),
        }
        print(f"{name}: loaded in {load_s:.1f} s; to run: {[m for _, m, _ in todo]}", flush=True)
        firsts: dict[str | None, tuple[Plan, float]] = {}

        def first(checkpoint: str | None) -> tuple[Plan, float]:
            if checkpoint not in firsts:
                levels, resolution, seconds = first_stage_levels(
                    instance, checkpoint, self.args.rounds
                )
                tic = time.perf_counter()
                plan = first_stage_plan(instance, levels, resolution)
                firsts[checkpoint] = (plan, seconds + time.perf_counter() - tic)
                if checkpoint is not None:
                    warm = WARMUP[checkpoint]
                    record["info"]["policy_warmup_s"] = new["info"]["policy_warmup_s"] = warm
            return firsts[checkpoint]

        draws, seed = self.args.failure_draws, self.args.seed
        for bucket, method, settings in todo:
            if method == "greedy":
                plan, seconds = greedy_plan(instance)
                row = {"time_s": seconds, **plan_row(instance, plan, draws, seed)}
            elif method == "ilp":
                result = solve_ilp(instance, time_limit=self.args.time_limit)
                row = {"time_s": result.time_s, **ilp_fields(result)}
                row.update(plan_row(instance, result.plan, draws, seed))
                plan = result.plan
            elif method.startswith("first-stage"):
                plan, seconds = first(settings["checkpoint"])
                row = {"time_s": seconds, **plan_row(instance, plan, draws, seed)}
            else:
                start, first_s = first(settings["checkpoint"])
                result = solve_qplan(
                    instance, start, settings["alpha"], time_limit=settings["time_limit"]
                )
                row = {"time_s": first_s + result.time_s, "first_stage_s": first_s}
                row.update(ilp_fields(result))
                row.update(
                    restricted_bound=result.bound,
                    uncapped_demands=result.info["uncapped_demands"],
                    start_cost=result.info["start_cost"],
                )
                row.update(plan_row(instance, result.plan, draws, seed))
                plan = result.plan
            row["settings"] = settings
            record.setdefault(bucket, {})[method] = row
            new.setdefault(bucket, {})[method] = row
            cost = row["cost"]
            text = "-" if cost is None else f"{cost:,.2f}"
            print(
                f"  {bucket}/{method}: cost {text}, {row['time_s']:.1f} s, "
                f"status {row.get('status', 'heuristic')}, satisfied {row['satisfied']}",
                flush=True,
            )
            if self.args.plans is not None and plan is not None:
                self.args.plans.mkdir(parents=True, exist_ok=True)
                tag = method if bucket == "common" else f"{method}-{bucket.replace(' ', '-')}"
                path = self.args.plans / f"{name}-{tag}.json"
                path.write_text(plan_to_json(instance, plan, method=method, **settings))
            self.save()


# ---------------------------------------------------------------- reporting


def best_bound(record: dict[str, Any]) -> float:
    """The larger proven lower bound: LP relaxation or the plain ILP's best bound."""
    bound = record["info"]["lp_bound"]
    ilp = record.get("common", {}).get("ilp")
    if ilp is not None and ilp.get("bound") is not None and np.isfinite(ilp["bound"]):
        bound = max(bound, ilp["bound"])
    return float(bound)


def primary(record: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The first-stage source the figures use: the policy when it ran, else the stand-in."""
    for source in ("policy", STANDIN):
        if source in record:
            return source, record[source]
    return None, {}


def tick_label(name: str, record: dict[str, Any]) -> str:
    """The instance's name, with the policy checkpoint's folder name when the policy ran."""
    source, rows = primary(record)
    checkpoint = rows.get("first-stage", {}).get("settings", {}).get("checkpoint")
    if source != "policy" or not checkpoint:
        return name
    return f"{name}\n({Path(checkpoint).name})"


def method_rows(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    _, rows = primary(record)
    out = dict(record.get("common", {}))
    for method in ("first-stage", "qplan"):
        if method in rows:
            out[method] = rows[method]
    return out


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    return format(value, spec)


def markdown(results: dict[str, Any], command: str, source: str) -> str:
    lines = [
        "# QPLAN reproduction (Fig. 4-9): Greedy, ILP, First-stage, QPLAN",
        "",
        f"Generated by `scripts/reproduce_planning.py` from `{source}`; "
        "see `docs/planning-qplan.md` for the method, the definitions and the discussion.",
        "",
        f"Last command: `{command}`",
        "",
        "Cost is normalised to the instance's **best proven bound** (the larger of the "
        "LP-relaxation bound and the plain ILP's best bound). `gap` is HiGHS's own gap (for "
        "QPLAN: of the capped, restricted problem). `LP gap` is cost / LP bound - 1. QPLAN's "
        "time includes its first stage.",
        "",
    ]
    for name, record in results.items():
        info = record["info"]
        bound = best_bound(record)
        lines += [
            f"## {name}",
            "",
            f"{info['nodes']} nodes, {info['edges']} edges, {info['demands']} demands, "
            f"{info['paths']} candidate paths, matrix {info['matrix']}, loaded in "
            f"{info['load_s']:.1f} s. LP bound {info['lp_bound']:,.2f}; best proven bound "
            f"{bound:,.2f}.",
            "",
            "| first stage | method | settings | status | cost | cost / best bound | LP gap "
            "| solver gap | time (s) | satisfied | feasible |",
            "|---|---|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for bucket, rows in record.items():
            if bucket == "info":
                continue
            for method, row in rows.items():
                cost = row.get("cost")
                settings = ", ".join(
                    f"{k} {v}" for k, v in row["settings"].items() if v is not None
                )
                label = "-" if bucket == "common" else bucket
                lines.append(
                    f"| {label} | {method} | {settings or '-'} | {row.get('status', 'heuristic')} "
                    f"| {_fmt(cost, ',.2f')} | {_fmt(cost and cost / bound, '.4f')} "
                    f"| {_fmt(cost and cost / info['lp_bound'] - 1, '.2%')} "
                    f"| {_fmt(row.get('gap'), '.3%')} | {_fmt(row.get('time_s'), '.2f')} "
                    f"| {_fmt(row.get('satisfied'), '.4f')} | {row.get('feasible')} |"
                )
        lines += ["", "Satisfied demand under random link failures (mean over draws):", ""]
        lines += ["| first stage | method | " + " | ".join(f"{f:.0%}" for f in FAILURES) + " |"]
        lines += ["|---|---|" + "---:|" * len(FAILURES)]
        for bucket, rows in record.items():
            if bucket == "info":
                continue
            for method, row in rows.items():
                fail = row.get("failures")
                if not fail:
                    continue
                cells = " | ".join(
                    f"{fail[f'{f:.2f}']['mean']:.4f} +- {fail[f'{f:.2f}']['std']:.4f}"
                    for f in FAILURES
                )
                label = "-" if bucket == "common" else bucket
                lines.append(f"| {label} | {method} | {cells} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def plots(results: dict[str, Any], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    ticks = [tick_label(name, results[name]) for name in names]
    written: list[Path] = []
    width = 0.8 / len(METHOD_ORDER)

    def bars(ax, value, methods=METHOD_ORDER, label: str = "%.3f") -> None:
        for j, method in enumerate(methods):
            heights = []
            for name in names:
                row = method_rows(results[name]).get(method)
                heights.append(np.nan if row is None else value(results[name], row))
            xs = np.arange(len(names)) + (j - (len(methods) - 1) / 2) * width
            drawn = ax.bar(xs, heights, width, label=method, color=COLORS.get(method))
            ax.bar_label(drawn, fmt=label, fontsize=6, rotation=90, padding=2)
        ax.set_xticks(np.arange(len(names)), ticks, fontsize=7)

    def save(fig, tag: str) -> None:
        path = out.with_name(f"{out.name}-{tag}.png")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    def norm(record, row):
        return np.nan if row.get("cost") is None else row["cost"] / best_bound(record)

    fig, ax = plt.subplots(figsize=(7, 4))
    bars(ax, norm)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_ylabel("cost / best proven bound")
    ax.set_title("Fig. 4: plan cost (first stage: " + _sources(results) + ")")
    ax.legend(fontsize=8)
    save(fig, "fig4")

    fig, ax = plt.subplots(figsize=(7, 4))
    bars(ax, lambda record, row: max(row.get("time_s") or np.nan, 1e-4), label="%.2g")
    ax.set_yscale("log")
    ax.set_ylabel("computation time (s, log)")
    ax.set_title("Fig. 5: computation time (instance loading excluded)")
    ax.legend(fontsize=8)
    save(fig, "fig5")

    fig, ax = plt.subplots(figsize=(7, 4))
    sat = [method_rows(results[n]).get("first-stage", {}).get("satisfied", np.nan) for n in names]
    ax.bar(ticks, [np.nan if s is None else 100 * s for s in sat], color=COLORS["first-stage"])
    ax.tick_params(axis="x", labelsize=7)
    ax.axhline(85, color="red", ls="--", lw=0.8, label="85% target")
    ax.set_ylim(0, 105)
    ax.set_ylabel("satisfied demand (%)")
    ax.set_title("Fig. 6: First-stage satisfied demand (" + _sources(results) + ")")
    ax.legend(fontsize=8)
    save(fig, "fig6")

    failing = [n for n in ("cogentco",) if n in results] or names[:1]
    for name in failing:
        fig, ax = plt.subplots(figsize=(7, 4))
        rows = method_rows(results[name])
        for j, method in enumerate(METHOD_ORDER):
            row = rows.get(method)
            if row is None or not row.get("failures"):
                continue
            shift = 0.25 * (j - 1.5)  # side by side: the lines of similar plans overlap
            means = [100 * row["failures"][f"{f:.2f}"]["mean"] for f in FAILURES]
            stds = [100 * row["failures"][f"{f:.2f}"]["std"] for f in FAILURES]
            xs = [100 * f + shift for f in FAILURES]
            ax.errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=method,
                        color=COLORS[method])  # fmt: skip
        ax.set_xlabel("failed links (%)")
        ax.set_ylabel("satisfied demand (%)")
        ax.set_title(
            "Fig. 7: satisfied demand under random link failures\n"
            + tick_label(name, results[name]),
            fontsize=10,
        )
        ax.legend(fontsize=8)
        save(fig, "fig7")

    layer_names = [n for n in names if results[n].get("layers")]
    if layer_names:
        fig, ax = plt.subplots(figsize=(7, 4))
        depths = sorted({m for n in layer_names for m in results[n]["layers"]})
        for j, depth in enumerate(depths):
            values = [
                norm(results[n], results[n]["layers"][depth])
                if depth in results[n]["layers"]
                else np.nan
                for n in layer_names
            ]
            xs = np.arange(len(layer_names)) + (j - (len(depths) - 1) / 2) * (0.8 / len(depths))
            ax.bar(xs, values, 0.8 / len(depths), label=depth)
        ax.set_xticks(np.arange(len(layer_names)), layer_names)
        ax.axhline(1.0, color="black", lw=0.8)
        ax.set_ylabel("First-stage cost / best proven bound")
        ax.set_title("Fig. 8: GNN layers")
        ax.legend(fontsize=8)
        save(fig, "fig8")

    fig, ax = plt.subplots(figsize=(7, 4))
    for j, alpha in enumerate(ALPHAS):
        method = "qplan" if alpha == 1.5 else f"qplan-a{alpha:g}"
        values = []
        for name in names:
            _, rows = primary(results[name])
            row = rows.get(method)
            values.append(np.nan if row is None else norm(results[name], row))
        xs = np.arange(len(names)) + (j - 1) * 0.25
        drawn = ax.bar(xs, values, 0.25, label=f"alpha {alpha:g}")
        ax.bar_label(drawn, fmt="%.4f", fontsize=6, rotation=90, padding=2)
    ax.set_xticks(np.arange(len(names)), ticks, fontsize=7)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.set_ylim(0, 1.25 * np.nanmax([ax.get_ylim()[1], 1.0]))
    ax.set_ylabel("QPLAN cost / best proven bound")
    ax.set_title("Fig. 9: QPLAN per scale factor alpha")
    ax.legend(fontsize=8)
    save(fig, "fig9")
    return written


def _sources(results: dict[str, Any]) -> str:
    return "/".join(sorted({primary(r)[0] or "-" for r in results.values()}))


# ---------------------------------------------------------------- main


def _display(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def merge_into(target: dict[str, Any], other: dict[str, Any]) -> None:
    """Overlay ``other``'s rows on ``target`` (per instance, first-stage bucket and method)."""
    for name, record in other.items():
        mine = target.setdefault(name, {})
        for bucket, rows in record.items():
            if bucket == "info":
                mine["info"] = rows
            else:
                mine.setdefault(bucket, {}).update(rows)


def parse_layer(text: str) -> tuple[int, str]:
    layers, _, path = text.partition("=")
    if not layers.isdigit() or not path:
        raise argparse.ArgumentTypeError(f"--layer-checkpoint: got {text!r} (allowed: L=PATH)")
    return int(layers), path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", nargs="+", default=["abilene", "cogentco"])
    parser.add_argument("--time-limit", type=float, default=120.0, help="ILP and QPLAN seconds")
    parser.add_argument(
        "--alpha-time-limit", type=float, default=None, help="QPLAN seconds for alpha != 1.5"
    )
    parser.add_argument("--alphas", type=float, nargs="+", default=list(ALPHAS))
    parser.add_argument("--checkpoint", default=None, help="trained first-stage policy")
    parser.add_argument("--rounds", type=int, default=None, help="policy refinement rounds")
    parser.add_argument("--layer-checkpoint", type=parse_layer, nargs="*", default=[],
                        help="L=PATH policies with L GNN layers (Fig. 8)")  # fmt: skip
    parser.add_argument("--methods", nargs="+", default=list(METHOD_ORDER), choices=METHOD_ORDER,
                        help="run only these (qplan includes its alpha sweep)")  # fmt: skip
    parser.add_argument("--failure-draws", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="prefix of .json/.md/.png")
    parser.add_argument("--plans", type=Path, default=None, help="folder for the plans' JSON")
    parser.add_argument("--merge", type=Path, nargs="*", default=[],
                        help="other runs' JSON to merge in first")  # fmt: skip
    parser.add_argument("--redo", action="store_true", help="recompute the requested rows")
    parser.add_argument("--render", action="store_true", help="only rewrite Markdown and plots")
    args = parser.parse_args(argv)
    json_path = args.out.with_suffix(".json")
    results: dict[str, Any] = json.loads(json_path.read_text()) if json_path.exists() else {}
    command = "python scripts/reproduce_planning.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )

    for other in args.merge:
        merge_into(results, json.loads(other.read_text()))
    fresh: dict[str, Any] = {}  # the rows this run computed (and the merged ones)
    for other in args.merge:
        merge_into(fresh, json.loads(other.read_text()))

    def save() -> None:
        # rows another run wrote to the file meanwhile are kept: only this run's rows overlay
        on_disk = json.loads(json_path.read_text()) if json_path.exists() else {}
        merge_into(on_disk, fresh)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = json_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(on_disk, indent=1, allow_nan=True))
        tmp.replace(json_path)

    if not args.render:
        runner = Runner(args, results, fresh, save)
        for name in args.instances:
            runner.run_instance(name)
    if not args.render or args.merge:
        save()
        results = json.loads(json_path.read_text())
    if not results:
        print("nothing to report")
        return
    args.out.with_suffix(".md").write_text(
        markdown(results, command, _display(args.out.with_suffix(".json")))
    )
    for path in plots(results, args.out):
        print(f"wrote {path}")
    print(f"wrote {json_path} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
