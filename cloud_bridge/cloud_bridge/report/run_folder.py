"""Reading a run folder for the report: every file may be missing (a run stopped early) or
damaged, and every value is untrusted.

:class:`RunFolder` reads JSON and JSON-lines files and keeps a note of what it could not read,
instead of raising: the report shows what there is and says what is missing. The value helpers
(:func:`as_float`, :func:`as_timestamp`, ...) turn a field into the type a section needs, or
``None`` when it is not one.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "RunFolder",
    "as_float",
    "as_int",
    "as_str",
    "as_timestamp",
    "release_order",
    "time_origin",
]

_RELEASE_NUMBER = re.compile(r"^v(\d+)$")


@dataclass
class RunFolder:
    """A run folder (see the run folder layout of ``flywheel run``) opened for reading."""

    root: Path
    #: Files that exist but could not be read, each with the reason.
    problems: list[str] = field(default_factory=list)
    #: JSON files read so far (each is read, and its problem noted, once).
    _json: dict[str, Any] = field(default_factory=dict, repr=False)

    def has(self, relative: str) -> bool:
        return (self.root / relative).is_file()

    def files(self, pattern: str) -> list[Path]:
        """Files matching ``pattern`` (a glob relative to the root), sorted by name."""
        return sorted(p for p in self.root.glob(pattern) if p.is_file())

    def read_json(self, relative: str | Path) -> Any:
        """The JSON value in ``relative``; ``None`` when the file is missing or unreadable
        (noted in :attr:`problems`)."""
        key = Path(relative).as_posix()
        if key not in self._json:
            self._json[key] = self._load_json(self.root / relative)
        return self._json[key]

    def _load_json(self, path: Path) -> Any:
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        # ValueError covers bad JSON and what json.loads refuses beyond it (an integer of more
        # digits than Python converts); RecursionError is JSON nested deeper than it parses.
        except (OSError, ValueError, RecursionError) as exc:
            self.problems.append(f"{self._name(path)}: not readable JSON ({exc})")
            return None

    def read_jsonl(self, relative: str) -> list[dict[str, Any]] | None:
        """The objects of a JSON-lines file, in order; ``None`` when it is missing. Lines that
        are not JSON objects (a line cut by a crash) are skipped and counted in
        :attr:`problems`."""
        path = self.root / relative
        if not path.is_file():
            return None
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            self.problems.append(f"{relative}: not readable ({exc})")
            return None
        rows: list[dict[str, Any]] = []
        bad = 0
        for line in lines:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (ValueError, RecursionError):  # as in _load_json
                bad += 1
                continue
            if isinstance(row, dict):
                rows.append(row)
            else:
                bad += 1
        if bad:
            self.problems.append(f"{relative}: {bad} line(s) skipped (not JSON objects)")
        return rows

    def _name(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def as_float(value: Any) -> float | None:
    """``value`` as a finite float; ``None`` for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def as_int(value: Any) -> int | None:
    """``value`` as an int (a whole float counts); ``None`` for anything else."""
    number = as_float(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def as_str(value: Any, default: str = "") -> str:
    """``value`` as text: strings as they are, numbers and booleans spelled out, anything
    else ``default``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return default


def as_timestamp(value: Any) -> float | None:
    """A time as Unix seconds: a number of seconds, or ISO 8601 text (UTC unless it says)."""
    number = as_float(value)
    if number is not None:
        return number
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def release_order(name: str) -> tuple[int, int, str]:
    """Sort key of release names: ``classic`` first, then ``v1``, ``v2``, ... by number, then
    anything else by name."""
    if name == "classic":
        return (0, 0, name)
    number = _RELEASE_NUMBER.match(name)
    if number:
        return (1, int(number.group(1)), name)
    return (2, 0, name)


def time_origin(run: RunFolder, times: list[float]) -> float | None:
    """Where the report's time axes start (Unix s): the run's start (``run.json``), else the
    first of ``times``."""
    meta = run.read_json("run.json")
    started = as_timestamp(meta.get("started")) if isinstance(meta, dict) else None
    if started is not None:
        return started
    return min(times) if times else None
