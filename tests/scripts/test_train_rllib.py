"""scripts/train_rllib.py: argument errors (in process, no Ray needed) and real RLlib runs.

The runs need Ray RLlib, which pins gymnasium 1.2.2 and so lives in its own virtual
environment (the ``[rllib]`` extra; ``.ci/run`` builds ``.venv-rllib``). They run
``scripts/train_rllib.py`` in a subprocess with the interpreter named by ``QNET_RLLIB_PYTHON``:
skipped when that is unset, but failed when ``CI`` is set, so CI can never skip them silently.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "train_rllib.py"
PYTHON_VAR = "QNET_RLLIB_PYTHON"
ROUTING = ["--env", "qnet_envs/SwapRouting-v0", "--env-kwargs", '{"scenario": "tiny"}']
ROUTING += ["--num-env-runners", "1"]
QVPN = ["--env", "qvpn_v0", "--env-kwargs", '{"instance": "tiny"}', "--policies", "per-agent"]
QVPN += ["--num-env-runners", "0"]
SMALL = ["--train-batch-size", "200", "--minibatch-size", "100", "--num-epochs", "2"]


def _module():
    spec = importlib.util.spec_from_file_location("train_rllib", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--env", "CartPole-v1"], "env: 'CartPole-v1' is not an env of the suite"),
        (["--env-kwargs", "{bad"], "--env-kwargs: not JSON"),
        (["--env-kwargs", "[1]"], "--env-kwargs: '[1]' (allowed: a JSON object)"),
        (["--policies", "each"], "--policies: 'each' (allowed: shared, per-agent)"),
        (["--policies", "per-agent"], "'per-agent' needs a PettingZoo env"),
        (["--num-env-runners", "-1"], "--num-env-runners: -1 (allowed: >= 0)"),
        (["--iterations", "-2"], "--iterations: -2 (allowed: >= 0)"),
        (["--hidden", "64,x"], "--hidden: '64,x'"),
        (["--hidden", "0"], "--hidden: '0'"),
        (["--minibatch-size", "2000"], "--minibatch-size: 2000 (allowed: <= --train-batch-size"),
        (["--lr", "0"], "--lr: 0.0 (allowed: > 0)"),
        (["--num-cpus", "2", "--address", "auto"], "only without --address"),
        (["--resume", "/nonexistent/ckpt"], "holds no train_rllib.json"),
    ],
)
def test_bad_arguments_exit_with_a_clear_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _module().parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_resume_refuses_arguments_that_differ_from_the_checkpoint(tmp_path, capsys):
    saved = {
        "env": "qvpn_v0",
        "env_kwargs": {"instance": "tiny"},
        "policies": "per-agent",
        "action_mask": True,
        "train_batch_size": 200,
        "minibatch_size": 100,
        "num_epochs": 2,
        "lr": 3e-4,
        "hidden": [64, 64],
        "seed": 0,
    }
    (tmp_path / "train_rllib.json").write_text(json.dumps(saved))
    args = _module().parse_args(["--resume", str(tmp_path)])
    assert (args.env, args.env_kwargs_dict, args.policies) == (
        "qvpn_v0",
        {"instance": "tiny"},
        "per-agent",
    )
    with pytest.raises(SystemExit):
        _module().parse_args(["--resume", str(tmp_path), "--env", "planning_v0"])
    assert "differs from the checkpoint's 'qvpn_v0'" in capsys.readouterr().err


def _rllib_python() -> str:
    python = os.environ.get(PYTHON_VAR)
    if not python:
        message = (
            f"{PYTHON_VAR} is unset: no interpreter with the [rllib] extra (see docs/rllib.md)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must build it (.ci/run)")
        pytest.skip(message)
    return python


def _train(python: str, args: list[str], tmp_path: Path) -> tuple[str, list[dict]]:
    out = tmp_path / f"result-{len(list(tmp_path.glob('result-*')))}.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_DEDUP_LOGS": "0"}
    completed = subprocess.run(
        [python, str(SCRIPT), *args, "--json", str(out), "--num-cpus", "2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-5000:]
    return completed.stdout, json.loads(out.read_text())["iterations"]


@pytest.mark.rllib
def test_ppo_trains_on_the_routing_env_checkpoints_and_resumes(tmp_path):
    python = _rllib_python()
    checkpoints = tmp_path / "checkpoints"
    common = ["--checkpoint-dir", str(checkpoints)]
    stdout, rows = _train(
        python,
        [*ROUTING, *SMALL, "--iterations", "2", "--checkpoint-every", "1", *common],
        tmp_path,
    )
    assert [r["iteration"] for r in rows] == [1, 2]
    assert [r["env_steps_lifetime"] for r in rows] == [200, 400]
    assert all(r["env_steps_per_s"] > 0 and math.isfinite(r["episode_return_mean"]) for r in rows)
    first = checkpoints / "iteration-0002"
    assert (first / "rllib_checkpoint.json").is_file() and (first / "train_rllib.json").is_file()
    assert f"checkpoint {first}" in stdout

    stdout, rows = _train(python, ["--resume", str(first), "--iterations", "1", *common], tmp_path)
    assert "resumed from" in stdout and "at iteration 2" in stdout
    assert [r["iteration"] for r in rows] == [3]
    assert rows[0]["env_steps_lifetime"] == 600  # RLlib's counters came back with the weights
    assert (checkpoints / "iteration-0003" / "rllib_checkpoint.json").is_file()


@pytest.mark.rllib
def test_ppo_trains_per_agent_policies_on_a_pettingzoo_env(tmp_path):
    python = _rllib_python()
    _, rows = _train(
        python,
        [*QVPN, *SMALL, "--iterations", "2", "--checkpoint-dir", str(tmp_path / "ck")],
        tmp_path,
    )
    assert [r["iteration"] for r in rows] == [1, 2]
    assert all(r["agent_steps_per_s"] > r["env_steps_per_s"] > 0 for r in rows)  # 2+ agents
    assert all(math.isfinite(r["episode_return_mean"]) for r in rows)
    modules = {p.name for p in (tmp_path / "ck" / "iteration-0002").rglob("*") if p.is_dir()}
    assert {"org_0", "org_1"} <= modules, modules
