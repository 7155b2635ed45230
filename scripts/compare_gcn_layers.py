"""Compare the planning policy with 1, 2 and 4 GCN layers (QPLAN's Fig. 8) on one instance.

For every (layers, seed) the shared ``"gnn-transformer"`` policy is trained from scratch through
``scripts/train_planning.py``'s ``main`` with the ``abilene-v2`` recipe's settings (rounds 1,
levels 4, lr 3e-3, entropy 0.01, unmet penalty 4, 128 env steps per update, minibatch 32, IPPO,
one torch thread) in ``<run-dir>/layers<L>-seed<S>/0-<instance>/``. A run whose
newest checkpoint already has ``--steps`` steps is not retrained (shorter ones resume from
their checkpoints). Its final checkpoint is then evaluated deterministically on the instance's TEST
matrices with the first-stage rule (``scripts/eval_planning_policy.evaluate_instance``): cost /
LP bound, satisfied demand fraction (demand-weighted, 0..1) and
``objective = cost / LP + unmet_penalty * (1 - satisfied)`` (dimensionless, lower is better; the
env's per-step reward is this with the opposite sign, up to the imbalance term).

Writes ``<out>.json`` (every run's curve and evaluation), ``<out>.md`` (table: layers x
mean +- spread over seeds, then per-seed rows; spread = (max - min) / 2) and ``<out>.png``
(mean training curve per layer count with a min-max band; final satisfied and cost ratio).

    PYTHONPATH=$PWD nice python scripts/compare_gcn_layers.py --layers 1 2 4 --seeds 0 1 2 \\
        --steps 2560 --run-dir runs/gcnlayers --out docs/planning-gcn-layers
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

SCRIPTS = Path(__file__).resolve().parent
RECIPE = {"rounds": 1, "levels": 4, "lr": 3e-3, "entropy": 0.01, "unmet_penalty": 4.0}
RECIPE.update({"steps_per_batch": 128, "minibatch": 32})
METRICS = ("cost_over_lp", "satisfied", "objective")


def _script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _latest(stage: Path) -> Path | None:
    """The stage's newest checkpoint directory (``checkpoints/step-<12 digits>``), if any."""
    found = sorted((stage / "checkpoints").glob("step-*/progress.json"))
    return found[-1].parent if found else None


def _progress(stage: Path) -> dict | None:
    latest = _latest(stage)
    return None if latest is None else json.loads((latest / "progress.json").read_text())


def train_run(
    instance: str, layers: int, seed: int, steps: int, run_dir: Path, n_envs: int
) -> Path:
    """Train (or resume, or skip when finished) one run; return its stage directory."""
    base = run_dir / f"layers{layers}-seed{seed}"
    stage = base / f"0-{Path(instance).stem}"
    done = _progress(stage)
    if done is None or done["steps"] < steps:
        argv = [
            "--instances", instance, "--steps", str(steps), "--run-dir", str(base),
            "--gcn-layers", str(layers), "--seed", str(seed), "--n-envs", str(n_envs),
            "--rounds", str(RECIPE["rounds"]), "--levels", str(RECIPE["levels"]),
            "--lr", str(RECIPE["lr"]), "--entropy", str(RECIPE["entropy"]),
            "--unmet-penalty", str(RECIPE["unmet_penalty"]),
            "--steps-per-batch", str(RECIPE["steps_per_batch"]),
            "--minibatch", str(RECIPE["minibatch"]),
        ]  # fmt: skip
        _script("train_planning").main(argv)
    return stage


def evaluate_run(instance: str, stage: Path) -> dict[str, Any]:
    """Training curve and test-matrix evaluation of one finished run."""
    progress = _progress(stage)
    checkpoint = _latest(stage)
    rows = _script("eval_planning_policy").evaluate_instance(instance, checkpoint, None)
    cost = np.array([r["first_stage_cost_over_lp"] for r in rows])
    satisfied = np.array([r["first_stage_satisfied"] for r in rows])
    return {
        "checkpoint": str(checkpoint),
        "steps": progress["steps"],
        "train_wall_s": progress["wall_time_s"],
        "curve_steps": [h["steps"] for h in progress["history"]],
        "curve_mean_return": [h["mean_return"] for h in progress["history"]],
        "test_matrices": [r["matrix"] for r in rows],
        "cost_over_lp": float(cost.mean()),
        "satisfied": float(satisfied.mean()),
        "objective": float((cost + RECIPE["unmet_penalty"] * (1 - satisfied)).mean()),
    }


def summarise(runs: list[dict], layers: list[int]) -> dict[int, dict[str, list[float]]]:
    """Per layer count and metric: [mean, spread = (max - min) / 2] over the seeds."""
    out: dict[int, dict[str, list[float]]] = {}
    for count in layers:
        mine = [r for r in runs if r["layers"] == count]
        out[count] = {}
        for key in METRICS:
            values = np.array([r[key] for r in mine])
            out[count][key] = [float(values.mean()), float((values.max() - values.min()) / 2)]
    return out


def write_markdown(result: dict, path: Path) -> None:
    lines = [
        f"# Planning policy: GCN layers (QPLAN Fig. 8), {result['instance']}",
        "",
        f"Training: {result['steps']} env steps from scratch, abilene-v2 recipe {result['recipe']};"
        " evaluation: deterministic first stage on the TEST matrices (mean over them). "
        "Mean +- spread ((max - min) / 2) over seeds "
        f"{result['seeds']}. objective = cost/LP + {RECIPE['unmet_penalty']:g} x (1 - satisfied).",
        "",
        "| GCN layers | cost / LP | satisfied | objective |",
        "|---:|---:|---:|---:|",
    ]
    for count, stats in result["summary"].items():
        cells = " | ".join(f"{stats[k][0]:.4f} +- {stats[k][1]:.4f}" for k in METRICS)
        lines.append(f"| {count} | {cells} |")
    lines += ["", "| GCN layers | seed | cost / LP | satisfied | objective | train s |"]
    lines.append("|---:|---:|---:|---:|---:|---:|")
    for run in result["runs"]:
        cells = " | ".join(f"{run[k]:.4f}" for k in METRICS)
        lines.append(f"| {run['layers']} | {run['seed']} | {cells} | {run['train_wall_s']:.0f} |")
    lines += ["", "Command:", "", "```", result["command"], "```", ""]
    path.write_text("\n".join(lines))


def write_png(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (curve, final) = plt.subplots(1, 2, figsize=(11, 4))
    layers = [int(k) for k in result["summary"]]
    for count in layers:
        mine = [r for r in result["runs"] if r["layers"] == count]
        n = min(len(r["curve_mean_return"]) for r in mine)
        steps = np.array(mine[0]["curve_steps"][:n])
        values = np.array([r["curve_mean_return"][:n] for r in mine], dtype=float)
        (line,) = curve.plot(steps, values.mean(axis=0), label=f"{count} layer(s)")
        curve.fill_between(steps, values.min(0), values.max(0), color=line.get_color(), alpha=0.2)
    curve.set(xlabel="env steps", ylabel="mean episode reward", title="training (min-max band)")
    curve.legend()
    x = np.arange(len(layers))
    for offset, key, label in ((-0.2, "satisfied", "satisfied"), (0.2, "cost_over_lp", "cost/LP")):
        means = [result["summary"][c][key][0] for c in result["summary"]]
        spreads = [result["summary"][c][key][1] for c in result["summary"]]
        final.bar(x + offset, means, 0.4, yerr=spreads, capsize=4, label=label)
    final.set_xticks(x, [str(c) for c in layers])
    final.set(xlabel="GCN layers", title=f"test matrices, {result['instance']}")
    final.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=2560, help="env steps per run")
    parser.add_argument("--n-envs", type=int, default=8, help="env copies (training matrices)")
    parser.add_argument("--instance", default="abilene")
    parser.add_argument("--run-dir", type=Path, default=Path("runs/gcnlayers"))
    parser.add_argument("--out", type=Path, default=Path("docs/planning-gcn-layers"))
    args = parser.parse_args(argv)
    for count in args.layers:
        if count < 1:
            parser.error(f"--layers: every count must be >= 1, got {count}")
    if args.steps < RECIPE["steps_per_batch"]:
        parser.error(f"--steps must be >= {RECIPE['steps_per_batch']}, got {args.steps}")
    torch.set_num_threads(1)
    layers = list(dict.fromkeys(args.layers))
    runs = []
    for count in layers:
        for seed in args.seeds:
            stage = train_run(args.instance, count, seed, args.steps, args.run_dir, args.n_envs)
            runs.append({"layers": count, "seed": seed, **evaluate_run(args.instance, stage)})
    result = {
        "instance": args.instance,
        "steps": args.steps,
        "seeds": args.seeds,
        "recipe": RECIPE,
        "summary": summarise(runs, layers),
        "runs": runs,
        "command": "PYTHONPATH=$PWD nice python scripts/compare_gcn_layers.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1))
    write_markdown(result, args.out.with_suffix(".md"))
    write_png(result, args.out.with_suffix(".png"))
    return result


if __name__ == "__main__":
    main()
