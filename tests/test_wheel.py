"""The built wheel works on its own: installed into a fresh virtual environment, run elsewhere.

Builds the wheel from a copy of this checkout, installs it with its (core) dependencies into a
new virtual environment without system site packages, and from a folder outside the checkout
makes and steps every registered env, loads every shipped scenario of every family and every
shipped topology by name. pip's cache makes the install fast after the first run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from qnet_envs import resources
from qnet_envs.registration import GYMNASIUM_ENVS, PARALLEL_ENVS
from qnet_envs.topology import load

ROOT = Path(__file__).resolve().parents[1]
IGNORED = (".git", ".venv", "venv", "build", "dist", "runs", "*.egg-info", "__pycache__")
IGNORED += (".pytest_cache", ".ruff_cache", ".hypothesis", "*.pyc")

# Run inside the fresh environment. Every family with a scenarios/<family>/ folder needs a loader
# here: add one line to LOADERS when a family ships scenario files.
CHECK = r"""
import importlib
import importlib.util
import json
import tomllib

import gymnasium as gym

import qnet_envs
from qnet_envs import resources
from qnet_envs.registration import GYMNASIUM_ENVS, NAMESPACE, PARALLEL_ENVS
from qnet_envs.topology import load


def load_routing(name):
    from qnet_envs.routing.evolving import EvolvingScenario, is_evolving
    from qnet_envs.routing.scenario import Scenario

    with resources.scenario_file("routing", name).open("rb") as handle:
        evolving = is_evolving(tomllib.load(handle))
    scenario = (EvolvingScenario if evolving else Scenario).load(name)
    return [type(scenario).__name__, scenario.name]


def load_qvpn(name):
    from qnet_envs.qvpn import Instance

    instance = Instance.load(name)
    return ["Instance", instance.name, instance.n_pairs, instance.versions.n_total]


def load_linkquality(name):
    from qnet_envs.linkquality import LinkQualityScenario

    scenario = LinkQualityScenario.load(name)
    return ["LinkQualityScenario", scenario.name, scenario.topology.kind]


def load_planning(name):
    from qnet_envs.planning import Instance

    instance = Instance.load(name)  # validation and the graph; paths stay lazy (Yen is slow)
    return ["Instance", instance.name, instance.n_nodes, instance.n_edges]


def load_offloading(name):
    from qnet_envs.offloading import Scenario

    scenario = Scenario.load(name)
    return ["Scenario", scenario.name, scenario.n_mobile, scenario.n_remote]


LOADERS = {
    "routing": load_routing,
    "qvpn": load_qvpn,
    "linkquality": load_linkquality,
    "planning": load_planning,
    "offloading": load_offloading,
}

report = {
    "package": qnet_envs.__file__,
    "scenarios_root": str(resources.scenarios_root()),
    "torch_installed": importlib.util.find_spec("torch") is not None,
    "envs": {},
    "parallel_envs": {},
    "scenarios": {},
    "topologies": {},
}
for name in GYMNASIUM_ENVS:
    env = gym.make(f"{NAMESPACE}/{name}")
    env.action_space.seed(0)
    env.reset(seed=0)
    steps = episodes = 0
    for _ in range(30):
        _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        steps += 1
        if terminated or truncated:
            episodes += 1
            env.reset()
    env.close()
    report["envs"][name] = [steps, episodes]
for name, module_name in PARALLEL_ENVS.items():
    env = importlib.import_module(module_name).parallel_env()
    env.reset(seed=0)
    rounds = 0
    while env.agents and rounds < 30:
        env.step({agent: env.action_space(agent).sample() for agent in env.agents})
        rounds += 1
    report["parallel_envs"][name] = [rounds, len(env.possible_agents)]
for family in resources.scenario_families():
    if family not in LOADERS:
        raise SystemExit(f"tests/test_wheel.py: add a loader for scenario family {family!r}")
    report["scenarios"][family] = {
        name: LOADERS[family](name) for name in resources.shipped_names(family)
    }
for name in resources.shipped_topologies():
    graph = load(name.lower())
    report["topologies"][name] = [
        graph.graph["source"], graph.number_of_nodes(), graph.number_of_edges()
    ]
print("REPORT " + json.dumps(report))
"""


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_wheel_installs_and_works_outside_the_checkout(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.pop("QNET_ENVS_DATA", None)
    source = tmp_path / "source"  # a copy, so stale build/ output never reaches the wheel
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*IGNORED))
    wheels = tmp_path / "wheels"
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(wheels), str(source)],
        tmp_path,
        env,
    )
    (wheel,) = wheels.glob("qnet_envs-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, env)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], tmp_path, env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "check.py").write_text(CHECK)
    out = _run([str(python), "check.py"], elsewhere, env)
    print(out)
    report = json.loads(next(line for line in out.splitlines() if line.startswith("REPORT "))[7:])

    site = Path(report["package"]).resolve()
    assert site.is_relative_to(venv.resolve()), f"qnet_envs imported from {site}"
    assert Path(report["scenarios_root"]).resolve() == site.parent / "_scenarios"
    assert not report["torch_installed"]

    assert set(report["envs"]) == set(GYMNASIUM_ENVS)
    assert all(steps == 30 for steps, _ in report["envs"].values())

    assert set(report["parallel_envs"]) == set(PARALLEL_ENVS)
    assert all(rounds >= 1 for rounds, _ in report["parallel_envs"].values())

    assert sorted(report["scenarios"]) == resources.scenario_families()
    for family, loaded in report["scenarios"].items():
        assert sorted(loaded) == resources.shipped_names(family)
        assert all(name == kind_and_name[1] for name, kind_and_name in loaded.items())
    routing = report["scenarios"]["routing"]
    for name, (kind, _) in routing.items():
        with resources.scenario_file("routing", name).open("rb") as handle:
            evolving = "stages" in tomllib.load(handle)
        assert kind == ("EvolvingScenario" if evolving else "Scenario")

    assert sorted(report["topologies"]) == ["Abilene", "Ans", "Cogentco", "Kdl", "Surfnet"]
    for name, (source_label, nodes, edges) in report["topologies"].items():
        here = load(name)
        assert source_label == f"shipped:{name}.json"
        assert (nodes, edges) == (here.number_of_nodes(), here.number_of_edges())
