"""Reproduce paper 002's Fig. 3 on the suite: offloading cost over MAPPO training, per QoS.

"Generative AI-enabled Quantum Computing Networks and Intelligent Resource Allocation",
Sec. IV: mobile nodes offload quantum-autoencoder jobs to edge and cloud nodes; multi-agent RL
lowers the cost ``d * latency + e * energy`` under the QoS settings ``(d, e)`` = (0.5, 0.5),
(0.8, 0.2), (0.2, 0.8). For every setting this script measures, as mean step cost over the
same evaluation episodes (seeds ``10_000 + k``):

* the five heuristics of :mod:`agents.baselines.offloading` (random, all-local, nearest-edge,
  all-cloud, greedy least-expected-cost) on ``--eval-episodes`` episodes;
* the two optima as policies on ``--optimum-episodes`` episodes: ``clairvoyant`` (the per-step
  MILP that sees the realised links) and ``stochastic`` (the two-stage stochastic program over
  ``--scenarios`` sampled draws, extensive form), both on HiGHS;
* MAPPO (``agents.marl``: parameter sharing, centralised critic) on the discrete variant,
  ``--seeds`` training seeds of ``--steps`` env steps each; its training curve (the stochastic
  policy's cost per update) and its greedy policy's cost on the evaluation episodes, and on
  those episodes the clairvoyant MILP's cost from the very states the policy visits (a lower
  bound on each of its steps). ``--credit own`` (or a weight in ``[0, 1]``) trains it on the
  env's per-agent credit instead of the team reward (``credit`` in
  ``docs/envs/offloading_v0.md``); those runs are cached apart from the team-credit ones.

Every piece is cached as JSON under ``--run-dir`` (default ``runs/offloading``), so a stopped
run resumes and ``--parts`` can split the work across processes (``heuristics``, ``optima``,
``mappo``); the report (``--out`` stem: ``.json``, ``.md``, ``-<qos>.png``) is written from
whatever pieces exist, naming the missing ones. ``--quick`` is a seconds-long smoke run on the
``tiny`` scenario.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QOS = ((0.5, 0.5), (0.8, 0.2), (0.2, 0.8))
EVAL_SEED = 10_000
REWARD_SCALE = 10.0
PARTS = ("heuristics", "optima", "mappo")


def qos_tag(qos: tuple[float, float]) -> str:
    return f"d{qos[0]:g}-e{qos[1]:g}"


def env_factory(
    scenario: str, qos: tuple[float, float], variant: str = "discrete", credit: str | float = "team"
):
    from qnet_envs.offloading.env import parallel_env

    return functools.partial(
        parallel_env,
        scenario=scenario,
        qos=tuple(qos),
        variant=variant,
        reward_scale=REWARD_SCALE,
        credit=credit,
    )


def parse_credit(text: str) -> str | float:
    """``--credit``: ``"team"``, ``"own"`` or a weight in ``[0, 1]`` (the env's ``credit``)."""
    from qnet_envs.offloading.env import resolve_credit

    value: str | float = text
    with contextlib.suppress(ValueError):
        value = float(text)
    try:
        resolve_credit(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def _cached(path: Path, compute) -> Any:
    if path.exists():
        return json.loads(path.read_text())
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=1))
    tmp.replace(path)
    return value


def run_heuristics(scenario: str, qos, episodes: int) -> dict:
    from agents.baselines import offloading as baselines

    env = env_factory(scenario, qos)()
    out = {}
    for name, policy in baselines.HEURISTICS.items():
        env.action_space(env.possible_agents[0]).seed(0)
        for agent in env.possible_agents:
            env.action_space(agent).seed(hash((name, agent)) % 2**31)
        out[name] = [
            baselines.run_episode(env, policy, EVAL_SEED + k).mean_cost for k in range(episodes)
        ]
    return out


def run_optima(scenario: str, qos, episodes: int, n_scenarios: int) -> dict:
    from agents.baselines import offloading as baselines

    out: dict[str, Any] = {}
    for variant in ("hybrid",):
        env = env_factory(scenario, qos, variant)()
        started = time.perf_counter()
        out["clairvoyant"] = [
            baselines.run_episode(env, baselines.clairvoyant, EVAL_SEED + k).mean_cost
            for k in range(episodes)
        ]
        out["clairvoyant_s"] = time.perf_counter() - started
        started = time.perf_counter()
        out["stochastic"] = [
            baselines.run_episode(
                env, baselines.stochastic_policy(n_scenarios, seed=k), EVAL_SEED + k
            ).mean_cost
            for k in range(episodes)
        ]
        out["stochastic_s"] = time.perf_counter() - started
    return out


def actor_policy(actor):
    """The greedy action of a trained MAPPO actor as a :mod:`agents.baselines.offloading`
    policy (observations and masks rebuilt from the env's state, as the env hands them out;
    the hybrid variant's ``[target, share]`` rows become its dict actions)."""
    import torch
    from tensordict import TensorDict
    from torchrl.envs.utils import ExplorationType, set_exploration_type

    from agents.marl.act import greedy_actions
    from qnet_envs.offloading import core

    def act(env) -> dict:
        obs = core.observe(env.layout, env.current)
        live = [(i, a) for i, a in enumerate(env.possible_agents) if a in env.agents]
        if env.variant == "discrete":
            action = greedy_actions(actor, obs, env.action_mask())
            return {a: action[i] for i, a in live}
        td = TensorDict(
            {
                "agents": TensorDict(
                    {"observation": torch.as_tensor(obs, dtype=torch.float32)},
                    batch_size=[obs.shape[0]],
                )
            },
            batch_size=[],
        )
        with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
            rows = actor(td).get(("agents", "action")).numpy()
        return {
            a: {
                "target": round(float(rows[i, 0])),
                "share": np.clip(rows[i, 1:2], 0.0, 1.0).astype(np.float32),
            }
            for i, a in live
        }

    return act


def mappo_key(actor: str, variant: str, credit: str | float = "team") -> str:
    """The cache-file infix of a MAPPO configuration (empty for the first one recorded: the
    MLP actor on the discrete variant with the team reward, so its cached runs stay valid;
    ``own-`` or ``credit<w>-`` for per-agent credit, ``w`` its weight)."""
    from qnet_envs.offloading.env import resolve_credit

    key = "" if (actor, variant) == ("mlp", "discrete") else f"{variant}-{actor}-"
    weight = resolve_credit(credit)
    if weight == 1.0:
        key += "own-"
    elif weight > 0.0:
        key += f"credit{weight:g}-"
    return key


def run_mappo(
    scenario: str,
    qos,
    seed: int,
    steps: int,
    episodes: int,
    bound_episodes: int,
    run_dir: Path,
    actor: str = "mlp",
    variant: str = "discrete",
    credit: str | float = "team",
) -> dict:
    import torch

    from agents.baselines import offloading as baselines
    from agents.marl import TrainArgs, train

    torch.set_num_threads(1)
    factory = env_factory(scenario, qos, variant, credit)
    horizon = factory().scenario.horizon
    args = TrainArgs(
        total_steps=steps,
        n_envs=8,
        steps_per_batch=640,
        minibatch_size=160,
        learning_rate=3e-3,
        entropy_coef=0.003,
        gamma=0.9,
        seed=seed,
        actor=actor,
        run_dir=str(
            run_dir / f"mappo-{mappo_key(actor, variant, credit)}{qos_tag(qos)}-seed{seed}"
        ),
        checkpoint_every=10,
    )
    result = train(factory, args)
    curve = [
        [h.steps, -h.mean_return * REWARD_SCALE / horizon]
        for h in result.history
        if h.mean_return is not None
    ]
    env = factory()
    policy = actor_policy(result.policy)
    evals = [
        baselines.run_episode(env, policy, EVAL_SEED + k, with_bound=k < bound_episodes)
        for k in range(episodes)
    ]
    return {
        "curve": curve,
        "eval": [e.mean_cost for e in evals],
        "bound_on_own_states": [
            float(np.mean(e.step_bounds)) for e in evals if e.step_bounds is not None
        ],
        "cost_on_bound_episodes": [e.mean_cost for e in evals if e.step_bounds is not None],
        "train_s": result.wall_time_s,
        "args": {
            "steps": steps,
            "n_envs": 8,
            "steps_per_batch": 640,
            "minibatch_size": 160,
            "learning_rate": 3e-3,
            "entropy_coef": 0.003,
            "gamma": 0.9,
            "reward_scale": REWARD_SCALE,
            "actor": actor,
            "variant": variant,
            "credit": credit,
        },
    }


# ----------------------------------------------------------------------------------- report
def _stats(values) -> dict:
    a = np.asarray(values, dtype=float)
    if a.size == 0:
        return {"mean": None, "std": None, "n": 0}
    return {
        "mean": float(a.mean()),
        "std": float(a.std(ddof=1)) if a.size > 1 else 0.0,
        "n": int(a.size),
    }


def summarise(pieces: dict) -> dict:
    summary = {}
    for tag, parts in pieces.items():
        row: dict[str, Any] = {}
        for name, values in parts.get("heuristics", {}).items():
            row[name] = _stats(values)
        optima = parts.get("optima", {})
        for name in ("clairvoyant", "stochastic"):
            if name in optima:
                row[name] = _stats(optima[name])
        runs = parts.get("mappo", {})
        if runs:
            per_seed = [float(np.mean(r["eval"])) for r in runs.values()]
            row["mappo"] = _stats(per_seed)
            bounds = [b for r in runs.values() for b in r["bound_on_own_states"]]
            own = [c for r in runs.values() for c in r["cost_on_bound_episodes"]]
            if bounds:
                row["mappo_vs_own_bound"] = float(np.mean(own) / np.mean(bounds) - 1.0)
        targets: dict[str, Any] = {}
        m = row.get("mappo", {}).get("mean")
        if m is not None:
            if row.get("random", {}).get("mean"):
                targets["cut_vs_random"] = 1.0 - m / row["random"]["mean"]
            heuristics = {
                k: row[k]["mean"]
                for k in ("all_local", "nearest_edge", "all_cloud", "greedy")
                if k in row
            }
            if heuristics:
                best = min(heuristics, key=heuristics.get)
                targets["best_heuristic"] = best
                targets["vs_best_heuristic"] = m / heuristics[best] - 1.0
            # the optima ran on the first n evaluation episodes only: compare on those
            for opt in ("stochastic", "clairvoyant"):
                if optima.get(opt):
                    n_opt = len(optima[opt])
                    same = np.mean([np.mean(r["eval"][:n_opt]) for r in runs.values()])
                    targets[f"vs_{opt}"] = float(same / np.mean(optima[opt]) - 1.0)
                    heur = parts.get("heuristics", {})
                    if "random" in heur:
                        targets[f"{opt}_cut_vs_random"] = float(
                            1.0 - np.mean(optima[opt]) / np.mean(heur["random"][:n_opt])
                        )
        row["targets"] = targets
        summary[tag] = row
    return summary


def _fmt(stat: dict | None) -> str:
    if not stat or stat.get("mean") is None:
        return "—"
    return f"{stat['mean']:.3f} ± {stat['std']:.3f} (n={stat['n']})"


def write_report(out: Path, pieces: dict, summary: dict, command: str, missing: list[str]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"command": command, "summary": summary, "pieces": pieces, "missing": missing}
    out.with_suffix(".json").write_text(json.dumps(report, indent=1))
    lines = [
        "# Offloading reproduction (paper 002, Fig. 3)",
        "",
        "<!-- written by scripts/reproduce_offloading.py -->",
        "",
        f"Command: `{command}`",
        "",
        "Mean step cost (`d * latency / 0.1 s + e * energy / 1 J + 20 * dropped jobs`, summed "
        "over the 10 mobile nodes' jobs) over the evaluation episodes, ± the standard "
        "deviation over episodes (heuristics, optima) or over training seeds (MAPPO, each "
        "seed's mean over the evaluation episodes). Model: `docs/offloading-model.md`.",
        "",
    ]
    if missing:
        lines += ["**Missing pieces** (not run): " + ", ".join(missing), ""]
    names = [
        "random",
        "all_local",
        "nearest_edge",
        "all_cloud",
        "greedy",
        "stochastic",
        "clairvoyant",
        "mappo",
    ]
    lines += ["| policy | " + " | ".join(summary) + " |", "|---|" + "---:|" * len(summary)]
    for name in names:
        lines.append(
            f"| {name} | " + " | ".join(_fmt(summary[t].get(name)) for t in summary) + " |"
        )
    lines += [
        "",
        "Targets: MAPPO's mean against the others' means. The optima ran on the first `n` "
        "evaluation episodes only (solve times: `docs/offloading-model.md`), so `vs_stochastic`, "
        "`vs_clairvoyant` and `*_cut_vs_random` compare on those episodes only (MAPPO's mean "
        "over seeds of its first `n` episodes); the last row is the clairvoyant MILP solved "
        "at the very states MAPPO's greedy policy visits in evaluation episode 0 of each seed.",
        "",
    ]
    lines += ["| measure | " + " | ".join(summary) + " |", "|---|" + "---:|" * len(summary)]
    keys = [
        "cut_vs_random",
        "best_heuristic",
        "vs_best_heuristic",
        "vs_stochastic",
        "vs_clairvoyant",
        "stochastic_cut_vs_random",
        "clairvoyant_cut_vs_random",
    ]
    for key in keys:
        cells = []
        for tag in summary:
            v = summary[tag]["targets"].get(key)
            cells.append("—" if v is None else (v if isinstance(v, str) else f"{100 * v:+.1f}%"))
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    cells = []
    for tag in summary:
        v = summary[tag].get("mappo_vs_own_bound")
        cells.append("—" if v is None else f"{100 * v:+.1f}%")
    lines.append("| mappo_vs_clairvoyant_bound_on_its_own_states | " + " | ".join(cells) + " |")
    lines.append("")
    for tag, parts in pieces.items():
        runs = parts.get("mappo", {})
        fig, ax = plt.subplots(figsize=(6.5, 4.0))
        if runs:
            grid = sorted({s for r in runs.values() for s, _ in r["curve"]})
            curves = np.array(
                [
                    np.interp(grid, [s for s, _ in r["curve"]], [c for _, c in r["curve"]])
                    for r in runs.values()
                ]
            )
            mean, std = curves.mean(axis=0), curves.std(axis=0)
            ax.plot(grid, mean, color="black", label=f"MAPPO (training, {len(runs)} seeds)")
            ax.fill_between(grid, mean - std, mean + std, color="black", alpha=0.15)
        row = summary[tag]
        colours = {
            "random": "tab:red",
            "all_local": "tab:brown",
            "nearest_edge": "tab:orange",
            "all_cloud": "tab:purple",
            "greedy": "tab:olive",
            "stochastic": "tab:blue",
            "clairvoyant": "tab:green",
            "mappo": "grey",
        }
        for name, colour in colours.items():
            stat = row.get(name)
            if stat and stat.get("mean") is not None:
                style = "--" if name in ("stochastic", "clairvoyant") else ":"
                label = "MAPPO greedy (eval)" if name == "mappo" else name
                ax.axhline(stat["mean"], color=colour, linestyle=style, label=label)
        ax.set_xlabel("env steps")
        ax.set_ylabel("mean step cost")
        ax.set_yscale("log")
        ax.set_title(f"QoS {tag}")
        ax.legend(fontsize=7, loc="upper right")
        fig.tight_layout()
        png = out.parent / f"{out.name}-{tag}.png"
        fig.savefig(png, dpi=100)
        plt.close(fig)
        lines += [f"![{tag}]({png.name})", ""]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="default")
    parser.add_argument("--seeds", type=int, default=5, help="MAPPO training seeds")
    parser.add_argument("--steps", type=int, default=20_480, help="env steps per MAPPO run")
    parser.add_argument("--eval-episodes", type=int, default=5)
    parser.add_argument("--optimum-episodes", type=int, default=3)
    parser.add_argument(
        "--bound-episodes",
        type=int,
        default=1,
        help="evaluation episodes per MAPPO seed with the per-state bound",
    )
    parser.add_argument("--scenarios", type=int, default=8, help="stochastic-program draws")
    parser.add_argument("--qos", default="all", help="'all' or e.g. '0.5,0.5'")
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--run-dir", type=Path, default=Path("runs/offloading"))
    parser.add_argument("--out", type=Path, default=Path("runs/offloading/report"))
    parser.add_argument(
        "--actor", default="mlp", help="MAPPO actor network (agents.marl.networks.ACTORS)"
    )
    parser.add_argument("--variant", default="discrete", choices=("discrete", "hybrid"))
    parser.add_argument(
        "--credit",
        type=parse_credit,
        default="team",
        help='MAPPO reward credit: "team" (default), "own" or a weight in [0, 1] (env docs)',
    )
    parser.add_argument("--quick", action="store_true", help="seconds-long smoke run (tiny)")
    args = parser.parse_args(argv)
    if args.quick:
        args.scenario, args.seeds, args.steps = "tiny", 1, 640
        args.eval_episodes, args.optimum_episodes, args.scenarios = 2, 1, 2
    parts = [p for p in args.parts.split(",") if p]
    bad = sorted(set(parts) - set(PARTS))
    if bad:
        parser.error(f"--parts: unknown {bad} (allowed: {list(PARTS)})")
    qos_list = QOS if args.qos == "all" else (tuple(float(x) for x in args.qos.split(",")),)
    base = args.run_dir / args.scenario
    pieces: dict[str, dict] = {}
    missing: list[str] = []
    for qos in qos_list:
        tag = qos_tag(qos)
        here: dict[str, Any] = {}
        key = f"{args.eval_episodes}ep"
        path = base / f"{tag}-heuristics-{key}.json"
        if "heuristics" in parts or path.exists():
            here["heuristics"] = _cached(
                path, lambda q=qos: run_heuristics(args.scenario, q, args.eval_episodes)
            )
        else:
            missing.append(f"{tag} heuristics")
        path = base / f"{tag}-optima-{args.optimum_episodes}ep-{args.scenarios}s.json"
        if "optima" not in parts and not path.exists():  # report what another run left
            found = sorted(
                base.glob(f"{tag}-optima-*ep-{args.scenarios}s.json"),
                key=lambda p: int(p.name.split("-optima-")[1].split("ep")[0]),
            )
            path = found[-1] if found else path
        if "optima" in parts or path.exists():
            here["optima"] = _cached(
                path,
                lambda q=qos: run_optima(args.scenario, q, args.optimum_episodes, args.scenarios),
            )
        else:
            missing.append(f"{tag} optima")
        runs = {}
        for seed in range(args.seeds):
            key = mappo_key(args.actor, args.variant, args.credit)
            path = base / f"{tag}-mappo-{key}{args.steps}-seed{seed}.json"
            if "mappo" in parts or path.exists():
                runs[str(seed)] = _cached(
                    path,
                    lambda q=qos, s=seed: run_mappo(
                        args.scenario,
                        q,
                        s,
                        args.steps,
                        args.eval_episodes,
                        args.bound_episodes,
                        base,
                        args.actor,
                        args.variant,
                        args.credit,
                    ),
                )
            else:
                missing.append(f"{tag} mappo seed {seed}")
        if runs:
            here["mappo"] = runs
        pieces[tag] = here
        print(f"{tag}: {sorted(here)}", flush=True)
    summary = summarise(pieces)
    command = "python scripts/reproduce_offloading.py " + shlex.join(
        argv if argv is not None else sys.argv[1:]
    )
    write_report(args.out, pieces, summary, command.strip(), missing)
    print(f"wrote {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
