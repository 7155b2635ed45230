"""Write the shipped topology files from the Topology Zoo GML files, or check them.

Usage (from the project root, with ``qnet_envs`` importable)::

    python scripts/make_topology_data.py --zoo DIR           # write qnet_envs/topology/zoo-data/
    python scripts/make_topology_data.py --zoo DIR --check   # verify; write nothing

``DIR`` holds ``Abilene.gml``, ``Ans.gml``, ``Cogentco.gml``, ``Kdl.gml`` and ``Surfnet.gml``
(Internet Topology Zoo). Without ``--zoo`` it is ``$QNET_ENVS_DATA/topology-zoo``, else the
repository's reference copy ``../shared/data/topology-zoo``. Each file is read with the
library's own GML reader (:func:`qnet_envs.topology.loaders.read_gml`) and written in the format
of :mod:`qnet_envs.topology.shipped`, so loading the shipped file runs the same repairs as
loading the GML. ``--check`` exits 1 if a shipped file is missing, differs from what this script
writes, or is not shipped but should be (and if a shipped file has no GML here).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from qnet_envs import resources
from qnet_envs.topology import shipped
from qnet_envs.topology.loaders import DATA_ENV_VAR, read_gml

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("Abilene", "Ans", "Cogentco", "Kdl", "Surfnet")


def default_zoo() -> Path:
    """``$QNET_ENVS_DATA/topology-zoo`` (first entry) if set, else the repository's reference."""
    entries = [e for e in os.environ.get(DATA_ENV_VAR, "").split(os.pathsep) if e]
    if entries:
        return Path(entries[0]) / "topology-zoo"
    return (ROOT / ".." / "shared" / "data" / "topology-zoo").resolve()


def expected_files(zoo: Path) -> dict[str, str]:
    """File name -> text of every shipped topology file, made from the GML files in ``zoo``."""
    texts = {}
    for name in NAMES:
        gml = zoo / f"{name}.gml"
        raw = read_gml(gml)
        texts[f"{name}{resources.TOPOLOGY_SUFFIX}"] = shipped.dumps(
            raw, source_file=gml.name, source_bytes=gml.read_bytes()
        )
    return texts


def check(zoo: Path, out: Path) -> list[str]:
    """What differs between the files in ``out`` and what the GML files in ``zoo`` give."""
    problems = []
    texts = expected_files(zoo)
    for file_name, text in texts.items():
        path = out / file_name
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif path.read_text(encoding="utf-8") != text:
            gml = zoo / f"{Path(file_name).stem}.gml"
            problems.append(f"{path} differs from what {gml} gives")
    present = {p.name for p in out.glob(f"*{resources.TOPOLOGY_SUFFIX}")} if out.is_dir() else set()
    problems += [
        f"{out / name} is shipped but made by nothing" for name in sorted(present - set(texts))
    ]
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zoo", type=Path, default=None, help="folder of the GML files")
    parser.add_argument(
        "--out", type=Path, default=resources.topology_dir(), help="folder of the shipped files"
    )
    parser.add_argument("--check", action="store_true", help="verify the files; write nothing")
    args = parser.parse_args(argv)
    zoo = args.zoo if args.zoo is not None else default_zoo()
    missing = [name for name in NAMES if not (zoo / f"{name}.gml").is_file()]
    if missing:
        print(f"no {', '.join(f'{n}.gml' for n in missing)} in {zoo}; pass --zoo", file=sys.stderr)
        return 2
    if args.check:
        problems = check(zoo, args.out)
        if problems:
            print("FAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        print(f"{len(NAMES)} shipped topology files in {args.out} match {zoo}")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for file_name, text in expected_files(zoo).items():
        (args.out / file_name).write_text(text, encoding="utf-8")
    print(f"wrote {len(NAMES)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
