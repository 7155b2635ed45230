"""The library never depends on the trainers: no module of ``qnet_envs`` imports ``agents``.

``agents`` is a generic top-level name that other distributions also install (the OpenAI Agents
SDK, ``openai-agents``, is imported as ``agents``), so ``qnet_envs`` must work whichever
``agents`` an environment holds. Checked statically, on the source, so a lazy import inside a
function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = sorted((ROOT / "qnet_envs").rglob("*.py"))


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` of every import in ``path``, and of ``import_module("...")`` calls."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def test_the_scan_sees_every_kind_of_import(tmp_path: Path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import agents\nfrom agents.ppo import train\n"
        "def f():\n    import agents.baselines as b\n"
        "importlib.import_module('agents.rollout')\n"
    )
    assert [m for _, m in _imported_modules(probe)] == [
        "agents",
        "agents.ppo",
        "agents.baselines",
        "agents.rollout",
    ]


@pytest.mark.parametrize("path", LIBRARY, ids=[str(p.relative_to(ROOT)) for p in LIBRARY])
def test_qnet_envs_never_imports_agents(path: Path):
    bad = [
        f"line {line}: {module}"
        for line, module in _imported_modules(path)
        if module == "agents" or module.startswith("agents.")
    ]
    assert not bad, f"{path.relative_to(ROOT)} imports the agents package: {bad}"
