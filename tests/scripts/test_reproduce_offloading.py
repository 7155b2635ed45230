"""scripts/reproduce_offloading.py end to end on the tiny scenario (--quick, one QoS setting):
the JSON and Markdown it writes agree with the heuristics recomputed here and with their own
pieces, a rerun from the cache rebuilds the same report, and the new MAPPO options reach the
trainer."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from agents.baselines import offloading as baselines

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "reproduce_offloading.py"
TAG = "d0.5-e0.5"


@pytest.fixture(scope="module")
def reproduce():
    spec = importlib.util.spec_from_file_location("reproduce_offloading", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick_run(reproduce, tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    work = tmp_path_factory.mktemp("offloading")
    argv = ["--quick", "--qos", "0.5,0.5", "--run-dir", str(work / "runs")]
    argv += ["--out", str(work / "report")]
    assert reproduce.main(argv) == 0
    report = json.loads((work / "report.json").read_text())
    return work, argv, report


def test_the_heuristics_match_a_fresh_evaluation(reproduce, quick_run):
    _, _, report = quick_run
    pieces = report["pieces"][TAG]
    env = reproduce.env_factory("tiny", (0.5, 0.5))()
    for name in ("all_local", "nearest_edge", "all_cloud", "greedy"):  # deterministic ones
        want = [
            baselines.run_episode(
                env, baselines.HEURISTICS[name], reproduce.EVAL_SEED + k
            ).mean_cost
            for k in range(2)
        ]
        np.testing.assert_allclose(pieces["heuristics"][name], want, rtol=1e-12)
        stat = report["summary"][TAG][name]
        assert stat["n"] == 2
        assert stat["mean"] == pytest.approx(np.mean(want))
        assert stat["std"] == pytest.approx(np.std(want, ddof=1))


def test_the_summary_is_computed_from_the_pieces(quick_run):
    _, _, report = quick_run
    row, pieces = report["summary"][TAG], report["pieces"][TAG]
    assert report["missing"] == []
    assert set(pieces) == {"heuristics", "optima", "mappo"}
    (run,) = pieces["mappo"].values()
    assert len(run["eval"]) == 2 and run["args"]["steps"] == 640
    assert run["curve"] and all(np.isfinite(c) for _, c in run["curve"])
    mappo = np.mean(run["eval"])
    assert row["mappo"] == {"mean": pytest.approx(mappo), "std": 0.0, "n": 1}
    targets = row["targets"]
    assert targets["cut_vs_random"] == pytest.approx(1 - mappo / row["random"]["mean"])
    heuristics = {k: row[k]["mean"] for k in ("all_local", "nearest_edge", "all_cloud", "greedy")}
    best = min(heuristics, key=heuristics.get)
    assert targets["best_heuristic"] == best
    assert targets["vs_best_heuristic"] == pytest.approx(mappo / heuristics[best] - 1)
    optima = pieces["optima"]
    for name in ("clairvoyant", "stochastic"):
        assert len(optima[name]) == 1
        want = run["eval"][0] / optima[name][0] - 1
        assert targets[f"vs_{name}"] == pytest.approx(want)
    # the clairvoyant MILP is a lower bound: no policy beats it on the same episode
    for name in ("random", "all_local", "nearest_edge", "all_cloud", "greedy"):
        assert pieces["heuristics"][name][0] >= optima["clairvoyant"][0] - 1e-6
    assert optima["stochastic"][0] >= optima["clairvoyant"][0] - 1e-6
    assert run["cost_on_bound_episodes"][0] >= run["bound_on_own_states"][0] - 1e-6


def test_the_markdown_shows_the_numbers_and_the_plot_exists(quick_run):
    work, argv, report = quick_run
    md = (work / "report.md").read_text()
    row = report["summary"][TAG]
    assert f"Command: `python scripts/reproduce_offloading.py {' '.join(argv)}`" in md
    for name in ("random", "nearest_edge", "greedy", "stochastic", "clairvoyant", "mappo"):
        stat = row[name]
        assert f"| {name} | {stat['mean']:.3f} ± {stat['std']:.3f} (n={stat['n']}) |" in md
    cut = row["targets"]["cut_vs_random"]
    assert f"| cut_vs_random | {100 * cut:+.1f}% |" in md
    assert f"| best_heuristic | {row['targets']['best_heuristic']} |" in md
    png = work / f"report-{TAG}.png"
    assert png.stat().st_size > 1000 and f"![{TAG}](report-{TAG}.png)" in md


def test_a_rerun_from_the_cache_rebuilds_the_same_report(reproduce, quick_run):
    work, argv, report = quick_run
    again = [*argv[:-1], str(work / "again"), "--parts", ""]
    assert reproduce.main(again) == 0
    rebuilt = json.loads((work / "again.json").read_text())
    assert rebuilt["summary"] == report["summary"]
    assert rebuilt["missing"] == []


def test_a_missing_piece_is_named_not_invented(reproduce, quick_run):
    work, argv, _ = quick_run
    other = [*argv[:-1], str(work / "hybrid"), "--parts", "", "--variant", "hybrid"]
    assert reproduce.main(other) == 0
    report = json.loads((work / "hybrid.json").read_text())
    assert report["missing"] == [f"{TAG} mappo seed 0"]
    assert "mappo" not in report["summary"][TAG]
    assert (
        "**Missing pieces** (not run): d0.5-e0.5 mappo seed 0" in (work / "hybrid.md").read_text()
    )


def test_the_mappo_cache_key_keeps_the_first_configuration(reproduce):
    assert reproduce.mappo_key("mlp", "discrete") == ""
    assert reproduce.mappo_key("target-scorer", "hybrid") == "hybrid-target-scorer-"
    assert reproduce.mappo_key("mlp", "discrete", "team") == ""
    assert reproduce.mappo_key("mlp", "discrete", 0.0) == ""
    assert reproduce.mappo_key("mlp", "discrete", "own") == "own-"
    assert reproduce.mappo_key("mlp", "discrete", 1.0) == "own-"
    assert reproduce.mappo_key("mlp", "discrete", 0.5) == "credit0.5-"
    assert reproduce.mappo_key("target-scorer", "hybrid", "own") == "hybrid-target-scorer-own-"


def test_credit_reaches_the_env_and_keeps_its_own_cache(reproduce, quick_run, monkeypatch):
    work, argv, report = quick_run
    (run,) = report["pieces"][TAG]["mappo"].values()
    assert run["args"]["credit"] == "team"
    factory = reproduce.env_factory("tiny", (0.5, 0.5), credit="own")
    assert factory().credit == 1.0
    calls = []

    def fake_run_mappo(*args):
        calls.append(args)
        return run

    monkeypatch.setattr(reproduce, "run_mappo", fake_run_mappo)
    out = [*argv[:-1], str(work / "own"), "--parts", "mappo", "--credit", "own"]
    assert reproduce.main(out) == 0
    (call,) = calls  # the team-credit run in the cache was not reused
    assert call[-1] == "own"
    assert (work / "runs" / "tiny" / f"{TAG}-mappo-own-640-seed0.json").exists()
    assert (work / "runs" / "tiny" / f"{TAG}-mappo-640-seed0.json").exists()
    assert reproduce.main(out) == 0
    assert len(calls) == 1  # now cached


@pytest.mark.parametrize("bad", ["mine", "1.5", "-0.1"])
def test_a_bad_credit_is_refused_by_the_parser(reproduce, bad, capsys):
    with pytest.raises(SystemExit):
        reproduce.main(["--credit", bad, "--parts", ""])
    assert "credit: " in capsys.readouterr().err


def test_credit_parses_names_and_weights(reproduce):
    assert reproduce.parse_credit("own") == "own"
    assert reproduce.parse_credit("team") == "team"
    assert reproduce.parse_credit("0.5") == 0.5
