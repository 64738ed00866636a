"""The spool: the folders episodes live in, free-space levels, and what may be deleted.

``incomplete/``  episodes being written (or left by a crash; see :mod:`fw_recorder.recovery`)
``ready/``       closed episodes; the only folder the uploader reads
``uploaded/``    episodes the uploader has confirmed (it moves them here, or leaves an
                 ``UPLOADED`` marker file inside ``ready/<name>/``)
``quarantine/``  partial bags that could not be salvaged

Disk policy: below ``min_free`` free bytes the recorder drops low-priority topics; below
``critical_free`` it writes nothing. To climb back it deletes only episodes that are already
uploaded (oldest first). A triggered episode that is not uploaded is never deleted.
Separately, the episodes not yet uploaded (``incomplete/`` and ``ready/``) are held to a budget
(``spool_budget_mb``), measured here and enforced by the recorder core.

Where: ``spool_dir`` when set, else :func:`default_spool_dir`, a persistent folder of the robot's
own (``$XDG_STATE_HOME/flywheel/<robot_id>/spool``), never shared by two robots on one host.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fw_recorder.manifest import read_manifest

__all__ = ["UPLOADED_MARKER", "DiskLevel", "Spool", "default_spool_dir", "folder_bytes"]

UPLOADED_MARKER = "UPLOADED"
_ROBOT_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def default_spool_dir(robot_id: str, environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/flywheel/<robot_id>/spool`` (XDG default ``~/.local/state``).

    State, not cache or /tmp: episodes waiting for upload must survive a reboot. Raises
    ValueError for a robot id that is not a plain folder name (``..``, ``a/b``, empty).
    """
    if not _ROBOT_ID.fullmatch(robot_id) or robot_id in (".", ".."):
        raise ValueError(f"robot id {robot_id!r} cannot name a spool folder")
    env = os.environ if environ is None else environ
    state = env.get("XDG_STATE_HOME", "")
    # The XDG spec says to ignore a relative value.
    base = Path(state) if os.path.isabs(state) else Path(env.get("HOME", "~")) / ".local/state"
    return base.expanduser() / "flywheel" / robot_id / "spool"


def folder_bytes(folder: Path) -> int:
    """Apparent size of every file under ``folder`` (bytes); vanished files count 0."""
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):  # removed meanwhile (an upload finished)
                total += os.lstat(os.path.join(root, name)).st_size
    return total


class DiskLevel(enum.IntEnum):
    """How much the recorder may write, from free space on the spool's filesystem."""

    OK = 0
    #: Below ``min_free``: low-priority topics are dropped.
    LOW = 1
    #: Below ``critical_free``: nothing is written.
    CRITICAL = 2


@dataclass(frozen=True)
class SpoolPaths:
    root: Path

    @property
    def incomplete(self) -> Path:
        return self.root / "incomplete"

    @property
    def ready(self) -> Path:
        return self.root / "ready"

    @property
    def uploaded(self) -> Path:
        return self.root / "uploaded"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"


class Spool:
    """The spool folders of one recorder, and the free-space policy over them."""

    def __init__(self, root: Path, min_free_bytes: int, critical_free_bytes: int) -> None:
        self.paths = SpoolPaths(Path(root))
        self.min_free_bytes = min_free_bytes
        self.critical_free_bytes = critical_free_bytes
        for folder in (
            self.paths.incomplete,
            self.paths.ready,
            self.paths.uploaded,
            self.paths.quarantine,
        ):
            folder.mkdir(parents=True, exist_ok=True)
        #: Episodes deleted to make room (all of them uploaded).
        self.deleted: list[str] = []

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.paths.root).free

    def level(self, free: int | None = None) -> DiskLevel:
        free = self.free_bytes() if free is None else free
        if free < self.critical_free_bytes:
            return DiskLevel.CRITICAL
        if free < self.min_free_bytes:
            return DiskLevel.LOW
        return DiskLevel.OK

    def pending_bytes(self, skip: Path | None = None) -> int:
        """Bytes of the episodes not yet uploaded (``incomplete/``, ``ready/`` without the
        ``UPLOADED`` marker), leaving out the folder ``skip`` (the one being written)."""
        total = 0
        for parent in (self.paths.incomplete, self.paths.ready):
            for path in parent.iterdir():
                if path == skip or (path / UPLOADED_MARKER).exists():
                    continue
                total += folder_bytes(path) if path.is_dir() else path.stat().st_size
        return total

    def deletable(self) -> list[Path]:
        """Episodes that may be deleted to make room, oldest first: uploaded ones only."""
        candidates = [p for p in self.paths.uploaded.iterdir() if p.is_dir()]
        candidates += [
            p for p in self.paths.ready.iterdir() if p.is_dir() and (p / UPLOADED_MARKER).exists()
        ]

        def created(path: Path) -> float:
            manifest = read_manifest(path) or {}
            value = manifest.get("created_unix")
            return float(value) if isinstance(value, int | float) else path.stat().st_mtime

        return sorted(candidates, key=created)

    def make_room(self) -> DiskLevel:
        """Delete uploaded episodes (oldest first) until the level is OK or none are left."""
        level = self.level()
        if level == DiskLevel.OK:
            return level
        for path in self.deletable():
            shutil.rmtree(path, ignore_errors=True)
            self.deleted.append(path.name)
            level = self.level()
            if level == DiskLevel.OK:
                break
        return level
