"""scripts/train_marl.py: argument errors (in process) and a run end to end in a subprocess,
resumed by running it again."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "train_marl.py"
SMALL = ["--total-steps", "256", "--steps-per-batch", "64", "--minibatch-size", "32"]


def _module():
    spec = importlib.util.spec_from_file_location("train_marl", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--env", "no_such_module_xyz:make"], "cannot import 'no_such_module_xyz'"),
        (["--env", "agents.marl.examples:missing"], "has no callable 'missing'"),
        (["--env", "qvpn-nonexistent"], "neither 'module:factory' nor a registered"),
        (["--env-kwargs", "[1, 2]"], "--env-kwargs must be a JSON object"),
        (["--env-kwargs", "{bad"], "--env-kwargs is not JSON"),
        (["--env-kwargs", '{"n_agents": 0}'], "DispersionGame.n_agents must be an integer >= 1"),
        (["--env-kwargs", '{"colour": 1}'], "colour"),
        (["--total-steps", "0"], "--total-steps must be a positive integer"),
        (["--steps-per-batch", "100"], "--minibatch-size (128) must divide --steps-per-batch"),
        (["--mappo", "--ippo"], "not allowed with argument"),
        (["--n-envs", "3"], "--n-envs (3) must divide --steps-per-batch (512)"),
        (["--eval-episodes", "0"], "--eval-episodes must be >= 1"),
        (["--gcn-layers", "0"], "--gcn-layers must be a positive integer, got 0"),
        (["--gcn-layers", "-2"], "--gcn-layers must be a positive integer, got -2"),
    ],
)
def test_argument_errors(argv, message, capsys) -> None:
    module = _module()
    with pytest.raises(SystemExit) as exit_info:
        module.parse_args(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err, err


def test_defaults_and_critic_flags() -> None:
    module = _module()
    assert module.parse_args([]).train_args.critic == "mappo"
    args = module.parse_args(["--ippo", "--per-agent-policies"])
    assert args.train_args.critic == "ippo" and args.train_args.per_agent_policies
    assert module.parse_args(["--state-critic"]).train_args.critic == "state"
    assert module.parse_args(["--n-envs", "8"]).train_args.n_envs == 8
    assert module.parse_args([]).train_args.gcn_layers == 2
    assert module.parse_args(["--gcn-layers", "4"]).train_args.gcn_layers == 4


def test_registered_names_resolve_to_their_parallel_env(monkeypatch) -> None:
    import qnet_envs.registration as registration
    from agents.marl.examples import parallel_env

    monkeypatch.setitem(registration.PARALLEL_ENVS, "dispersion", "agents.marl.examples")
    module = _module()
    assert module.resolve_env("dispersion") is parallel_env
    assert module.resolve_env("agents.marl.examples:batched_env").__name__ == "batched_env"


def _run(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_trains_prints_the_table_and_resumes(tmp_path) -> None:
    run_dir = tmp_path / "run"
    argv = [*SMALL, "--run-dir", str(run_dir), "--no-progress", "--eval-episodes", "2"]
    first = _run(*argv, "--env-kwargs", '{"rounds": 2}')
    assert first.returncode == 0, first.stderr
    assert "| agent_0 |" in first.stdout and "| **sum over agents** |" in first.stdout
    results = json.loads((run_dir / "results.json").read_text())
    assert results["steps"] == 256 and results["agent_steps"] == 768
    assert results["total_return"] == pytest.approx(sum(results["per_agent_return"].values()))
    second = _run(*argv, "--env-kwargs", '{"rounds": 2}', "--total-steps", "384")
    assert second.returncode == 0, second.stderr
    assert "resumed from the checkpoint at env step 256" in second.stdout
    assert json.loads((run_dir / "results.json").read_text())["steps"] == 384
