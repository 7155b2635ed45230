"""qnet_envs.resources: where shipped scenario and topology files are found, and its errors."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from qnet_envs import resources
from qnet_envs.resources import UnknownNameError
from qnet_envs.routing.scenario import SCENARIO_DIR, Scenario

ROOT = Path(__file__).resolve().parents[1]


def test_a_source_checkout_reads_the_top_level_scenarios_folder():
    assert resources.scenarios_root() == ROOT / "scenarios"
    assert resources.scenario_dir("routing") == ROOT / "scenarios" / "routing" == SCENARIO_DIR
    assert "routing" in resources.scenario_families()


def test_shipped_names_are_the_scenario_files_of_the_family():
    on_disk = sorted(p.stem for p in (ROOT / "scenarios" / "routing").glob("*.toml"))
    assert resources.shipped_names("routing") == on_disk
    assert {"default", "tiny", "evolving"} <= set(on_disk)
    assert resources.scenario_file("routing", "tiny") == ROOT / "scenarios/routing/tiny.toml"


def test_unknown_scenario_name_lists_shipped_names_close_matches_first():
    with pytest.raises(UnknownNameError) as info:
        resources.scenario_file("routing", "white-nois-06")
    error = info.value
    assert isinstance(error, ValueError) and isinstance(error, FileNotFoundError)
    message = str(error)
    assert "unknown routing scenario 'white-nois-06'" in message
    assert "close matches: white-noise-06" in message
    listed = ast.literal_eval(re.search(r"shipped names: (\[.*\])", message).group(1))
    assert sorted(listed) == resources.shipped_names("routing")
    assert listed[0] == "white-noise-06"
    with pytest.raises(ValueError, match="shipped names"):
        Scenario.load("no-such-scenario")


@pytest.mark.parametrize("name", ["../routing/tiny", "routing/tiny", "tiny.toml", ""])
def test_a_scenario_name_is_a_file_stem_not_a_path(name):
    with pytest.raises(UnknownNameError, match="shipped names"):
        resources.scenario_file("routing", name)


def test_unknown_family_lists_the_families():
    with pytest.raises(UnknownNameError, match=r"unknown scenario family 'routin'.*routing"):
        resources.scenario_dir("routin")


def _fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    package = tmp_path / "site" / "qnet_envs"
    package.mkdir(parents=True)
    monkeypatch.setattr(resources, "_package_dir", lambda: package)
    return package


def test_an_installed_wheel_reads_its_own_copy(tmp_path, monkeypatch):
    package = _fake_package(tmp_path, monkeypatch)
    (package / "_scenarios" / "qvpn").mkdir(parents=True)
    (package / "_scenarios" / "qvpn" / "surfnet.toml").write_text("x = 1\n")
    (package / "_scenarios" / "qvpn" / "notes.md").write_text("not a scenario\n")
    (tmp_path / "site" / "scenarios").mkdir()  # some other top-level folder: never read
    assert resources.scenarios_root() == package / "_scenarios"
    assert resources.scenario_families() == ["qvpn"]
    assert resources.shipped_names("qvpn") == ["surfnet"]
    assert resources.scenario_file("qvpn", "surfnet") == package / "_scenarios/qvpn/surfnet.toml"


def test_a_source_tree_needs_its_pyproject(tmp_path, monkeypatch):
    _fake_package(tmp_path, monkeypatch)
    (tmp_path / "site" / "scenarios" / "routing").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no shipped scenarios"):
        resources.scenarios_root()
    (tmp_path / "site" / "pyproject.toml").write_text("")
    assert resources.scenarios_root() == tmp_path / "site" / "scenarios"


def test_shipped_topologies_ignore_letter_case_and_list_names_on_error():
    assert resources.shipped_topologies() == ["Abilene", "Ans", "Cogentco", "Kdl", "Surfnet"]
    assert resources.topology_file("kDL").name == "Kdl.json"
    assert resources.topology_file("kDL").is_file()
    assert (resources.topology_dir() / "README.md").is_file()
    assert (resources.topology_dir() / "LICENSE").is_file()
    with pytest.raises(UnknownNameError, match=r"close matches: Kdl; shipped names: \['Kdl'"):
        resources.topology_file("Kd1")


def test_library_code_never_names_the_shared_folder():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "qnet_envs").rglob("*.py")
        if re.search(r"""["'/\\]shared["'/\\]""", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
