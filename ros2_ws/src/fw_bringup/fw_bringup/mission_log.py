"""The mission log: one JSON line per finished episode, then ``{"done": true, "episodes": N}``.

Lines are appended and flushed to disk one at a time, so a reader (the cloud orchestrator) that
tails the file never sees half a line, and a robot that restarts resumes its mission: the seeds
already logged are not driven again, and a log that says done stays done. A line that does not
parse (a crash mid-write on a filesystem that tore it) is skipped when the log is read back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["MissionLog"]


class MissionLog:
    """Appends to, and reads back, the JSON-lines file at ``path`` (its folder is created)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[dict[str, Any]]:
        """Every well-formed line written so far (objects only), in order."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        entries = []
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def logged_seeds(self) -> set[int]:
        """Seeds that already have an episode line."""
        return {e["seed"] for e in self.entries() if isinstance(e.get("seed"), int)}

    def done(self) -> bool:
        return any(e.get("done") is True for e in self.entries())

    def append(self, entry: dict[str, Any]) -> None:
        """Write one line and make it durable before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, sort_keys=True, allow_nan=False) + "\n"
        with open(self.path, "a", encoding="utf-8") as log:
            log.write(line)
            log.flush()
            os.fsync(log.fileno())
