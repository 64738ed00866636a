"""The mission log: one JSON line per finished episode, then a done line (``"done": true``).

Lines are appended and flushed to disk one at a time, so a reader (the cloud orchestrator) that
tails the file never sees half a line. The log is append-only: a robot started again with the
same log (the next iteration of the flywheel, or a restart) appends its own episodes and its own
done line after the earlier ones; a reader tells runs apart by their done lines. A line that does
not parse (a crash mid-write on a filesystem that tore it) is skipped when the log is read back.
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

    def append(self, entry: dict[str, Any]) -> None:
        """Write one line and make it durable before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry, sort_keys=True, allow_nan=False) + "\n"
        with open(self.path, "a+b") as log:
            if log.tell() > 0:
                log.seek(-1, os.SEEK_END)
                if log.read(1) != b"\n":
                    line = "\n" + line  # after a torn line: never glued to it
            log.write(line.encode("utf-8"))
            log.flush()
            os.fsync(log.fileno())
