"""scripts/train_planning.py: the credit option reaches the env and is recorded."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from agents.planning import read_env_settings

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_planning.py"
_spec = importlib.util.spec_from_file_location("train_planning", SCRIPT)
assert _spec is not None and _spec.loader is not None
train_planning = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train_planning)


@pytest.mark.parametrize("bad", ["mine", "1.5", "-1"])
def test_bad_credit_is_refused_before_training(bad: str, tmp_path, capsys) -> None:
    with pytest.raises(SystemExit):
        train_planning.main(
            ["--instances", "tiny", "--steps", "32", "--credit", bad, "--run-dir", str(tmp_path)]
        )
    assert "--credit: " in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_credited_run_records_its_credit(tmp_path) -> None:
    checkpoint = train_planning.main(
        [
            "--instances",
            "tiny",
            "--steps",
            "64",
            "--steps-per-batch",
            "32",
            "--minibatch",
            "16",
            "--n-envs",
            "2",
            "--rounds",
            "1",
            "--credit",
            "0.5",
            "--run-dir",
            str(tmp_path),
        ]
    )
    assert checkpoint is not None and checkpoint.exists()
    settings = json.loads((tmp_path / "0-tiny" / "planning_env.json").read_text())
    assert settings["credit"] == 0.5
    assert read_env_settings(checkpoint)["credit"] == 0.5
