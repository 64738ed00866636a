"""The fleet state file: which robots ``fleet up`` started, so ``fleet down`` (another process,
later) can stop exactly those.

``<run_dir>/fleet.json`` holds, per robot, the keeper's pid (also the process group id: each
robot has its own session), the process's start time as the kernel counts it (so a pid reused
by an unrelated process after a reboot is never signalled), the command line, the log and the
file its exit status goes to. Written atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cloud_bridge.fleet.errors import FleetError

__all__ = ["STATE_FILE", "FleetState", "RobotProcess"]

#: The state file's name in the run folder.
STATE_FILE = "fleet.json"
_VERSION = 1


@dataclass(frozen=True)
class RobotProcess:
    """One robot's process group."""

    robot_id: str
    namespace: str
    seed: int
    #: The keeper's pid, which is also the group's id (its own session).
    pid: int
    pgid: int
    #: The pid's start time in clock ticks since boot (/proc/<pid>/stat field 22); None where
    #: /proc is absent.
    start_ticks: int | None
    command: list[str]
    log_path: str
    exit_file: str
    #: Wall time it was started (s since the epoch).
    started_unix: float


@dataclass
class FleetState:
    """What one ``fleet up`` started."""

    run_dir: Path
    robots: list[RobotProcess] = field(default_factory=list)
    #: The store the agents write to (None: no agents).
    store_url: str | None = None

    @property
    def path(self) -> Path:
        return self.run_dir / STATE_FILE

    def save(self) -> None:
        doc: dict[str, Any] = {
            "version": _VERSION,
            "store_url": self.store_url,
            "robots": [asdict(r) for r in self.robots],
        }
        self.run_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.run_dir, prefix=STATE_FILE, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(doc, f, indent=1)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, run_dir: Path) -> FleetState | None:
        """The state in ``run_dir``; None when no fleet was started there. A file that is not
        this format is an error that names it (never guessed at: it says which pids to
        signal)."""
        path = Path(run_dir) / STATE_FILE
        try:
            text = path.read_text()
        except FileNotFoundError:
            return None
        try:
            doc = json.loads(text)
            if doc.get("version") != _VERSION:
                raise ValueError(f"version {doc.get('version')!r}, expected {_VERSION}")
            robots = [RobotProcess(**r) for r in doc["robots"]]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problem = f"{path} is not a fleet state file ({exc}); not touching it"
            raise FleetError(problem) from None
        return cls(Path(run_dir), robots, doc.get("store_url"))

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
