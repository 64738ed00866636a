"""The run folder's JSON files, written so that an interrupted run never leaves one half written.

A JSON document goes to a temporary file beside its target, is flushed to disk and renamed
over it. A JSON-lines file is appended one whole line per ``write`` and flushed; a reader skips
a last line without its newline (the append a crash cut short) and any line that is not JSON.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["append_jsonl", "read_json", "read_jsonl", "write_json", "write_text"]


def _finite(value: Any) -> Any:
    """NaN and infinities as ``null``: JSON has neither."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def write_text(path: Path, text: str) -> None:
    """``text`` at ``path``, atomically (folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON at ``path``, atomically (folders created)."""
    write_text(path, json.dumps(_finite(data), indent=1, sort_keys=False, allow_nan=False) + "\n")


def read_json(path: Path, default: Any = None) -> Any:
    """The JSON document at ``path``; ``default`` when there is none. A file that is not JSON
    raises ``ValueError`` naming it: a run folder's own files are never guessed at."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return default
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON ({exc}): remove it to redo what wrote it") from None


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` as one line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(_finite(record), sort_keys=True, allow_nan=False) + "\n"
    with path.open("a", encoding="utf-8") as f:
        f.write(line)
        f.flush()


def read_jsonl(path: Path, start: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The whole-line JSON objects of ``path`` from byte ``start`` on, and the offset after
    the last whole line (where the next read starts). Lines that are not JSON objects are
    skipped: a robot's log is read, not trusted."""
    try:
        with path.open("rb") as f:
            f.seek(start)
            data = f.read()
    except FileNotFoundError:
        return [], start
    end = data.rfind(b"\n") + 1
    records = []
    for line in data[:end].splitlines():
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(record, dict):
            records.append(record)
    return records, start + end
