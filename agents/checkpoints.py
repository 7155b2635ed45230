"""Atomic checkpoint directories of a resumable training run, shared by the trainers.

A run directory holds ``checkpoints/step-<timesteps>/``: the files a trainer writes (its
payload) and ``progress.json``, which is written last. A trainer describes its checkpoints with a
:class:`CheckpointFormat` (the version its ``progress.json`` carries and the payload file it
loads from); what a checkpoint holds beyond that is the trainer's business.

Usage::

    FORMAT = CheckpointFormat(version=1, payload="state.pt")
    FORMAT.write_checkpoint(run_dir, timesteps, lambda tmp: torch.save(state, tmp / "state.pt"),
                            {"format": 1, "timesteps": timesteps})
    latest = FORMAT.latest_checkpoint(run_dir)  # None before the first checkpoint
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHECKPOINTS = "checkpoints"
PROGRESS_FILE = "progress.json"
KEEP_CHECKPOINTS = 2
_CHECKPOINT_NAME = re.compile(r"^step-(\d{12})$")


@dataclasses.dataclass(frozen=True)
class CheckpointFormat:
    """What makes a trainer's checkpoint directory complete, and how many to keep.

    A directory counts as a complete checkpoint when it has its final name ``step-<timesteps>``,
    a readable ``progress.json`` that is a JSON object with ``"format": version``, and the
    ``payload`` file; temporary directories of an interrupted write never count.
    """

    version: int
    """The ``"format"`` field of ``progress.json``."""
    payload: str
    """The file a complete checkpoint must hold besides ``progress.json``, e.g. ``model.zip``."""
    keep: int = KEEP_CHECKPOINTS
    """How many of the newest complete checkpoints :meth:`write_checkpoint` keeps."""

    def __post_init__(self) -> None:
        if self.keep < 1:
            raise ValueError(f"CheckpointFormat.keep must be >= 1, got {self.keep}")

    def checkpoint_dirs(self, run_dir: str | Path) -> list[tuple[int, Path]]:
        """Complete checkpoints of a run as ``(timesteps, directory)``, oldest first."""
        root = Path(run_dir) / CHECKPOINTS
        if not root.is_dir():
            return []
        found = []
        for path in root.iterdir():
            match = _CHECKPOINT_NAME.match(path.name)
            if match and path.is_dir() and self._progress(path) is not None:
                found.append((int(match.group(1)), path))
        return sorted(found)

    def latest_checkpoint(self, run_dir: str | Path) -> Path | None:
        """The most advanced complete checkpoint of a run, or ``None``."""
        found = self.checkpoint_dirs(run_dir)
        return found[-1][1] if found else None

    def read_progress(self, checkpoint: str | Path) -> dict[str, Any]:
        """The ``progress.json`` of a complete checkpoint directory."""
        progress = self._progress(Path(checkpoint))
        if progress is None:
            raise FileNotFoundError(f"{checkpoint} is not a complete checkpoint")
        return progress

    def resolve(self, path: str | Path) -> Path:
        """``path`` if it is a complete checkpoint, else the latest complete checkpoint of the run
        directory ``path``; ``FileNotFoundError`` if there is none."""
        path = Path(path)
        if self._progress(path) is not None:
            return path
        latest = self.latest_checkpoint(path)
        if latest is None:
            raise FileNotFoundError(f"no complete checkpoint in {path}")
        return latest

    def write_checkpoint(
        self,
        run_dir: str | Path,
        timesteps: int,
        write_payload: Callable[[Path], None],
        progress: dict[str, Any],
    ) -> Path:
        """Write one checkpoint atomically; returns its directory ``step-<timesteps>``.

        ``write_payload(directory)`` writes the trainer's files into a temporary directory; each
        file is then flushed to disk, ``progress.json`` written and flushed last, and one
        ``os.replace`` gives the directory its final name. A kill at any point leaves either the
        new checkpoint complete or the previous one untouched. Only the newest ``keep``
        complete checkpoints are kept.
        """
        root = Path(run_dir) / CHECKPOINTS
        root.mkdir(parents=True, exist_ok=True)
        final = root / f"step-{timesteps:012d}"
        tmp = root / f".tmp-{final.name}-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        write_payload(tmp)
        for path in sorted(tmp.iterdir()):
            if path.is_file():
                _fsync(path)
        with (tmp / PROGRESS_FILE).open("w") as handle:
            json.dump(progress, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        if final.exists():  # re-saving the same step: move the old copy aside first
            stale = root / f".stale-{final.name}-{os.getpid()}"
            os.replace(final, stale)
            os.replace(tmp, final)
            shutil.rmtree(stale)
        else:
            os.replace(tmp, final)
        _fsync_dir(root)
        for _, old in self.checkpoint_dirs(run_dir)[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def _progress(self, checkpoint: Path) -> dict[str, Any] | None:
        """``progress.json`` of a complete checkpoint, ``None`` for anything else."""
        try:
            with (checkpoint / PROGRESS_FILE).open() as handle:
                progress = json.load(handle)
        except (OSError, ValueError):
            return None
        if not isinstance(progress, dict) or progress.get("format") != self.version:
            return None
        return progress if (checkpoint / self.payload).is_file() else None


def remove_stale_temporaries(run_dir: str | Path) -> None:
    """Delete leftovers of interrupted checkpoint writes (``.tmp-*``, ``.stale-*``)."""
    root = Path(run_dir) / CHECKPOINTS
    if root.is_dir():
        for path in root.glob(".*-step-*"):
            shutil.rmtree(path, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems do not fsync directories
        _fsync(path)
