"""The uploader's journal: a sqlite file beside the spool that makes restarts resume.

What it records, each change committed before the uploader acts on it:

- ``episodes``: every episode the uploader has seen, its priority, its state (``queued``,
  ``done``, ``quarantined``, ``dropped``) and the manifest it will upload (the SHA-256 and size
  of each file, taken when the episode was first seen: what the files must still hash to);
- ``files``: per file, ``pending`` → ``sending`` (a single put may have reached the store) or
  ``multipart`` (with its upload id) → ``done``;
- ``parts``: every part the store confirmed, so a multipart upload continues after the last one;
- ``counters``: totals for the status (drops, quarantines, bytes sent, parts re-sent, ...).

WAL mode with ``synchronous=FULL``: a SIGKILL or power loss loses at most the step in flight,
which the store itself then settles (listed parts, an existing object).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud_bridge.store.base import PartInfo
from cloud_bridge.upload.ready import FileDigest

__all__ = ["SCHEMA_VERSION", "EpisodeRecord", "FileRecord", "Journal"]

#: Bumped when the tables change; a journal of another version is refused, not misread.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS episodes (
    name TEXT PRIMARY KEY,
    folder TEXT NOT NULL,
    priority INTEGER NOT NULL,
    created_unix REAL NOT NULL,
    total_bytes INTEGER NOT NULL,
    state TEXT NOT NULL,
    manifest TEXT NOT NULL,
    reason TEXT,
    updated_unix REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    episode TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    part_size INTEGER NOT NULL,
    part_sha256 TEXT NOT NULL,
    state TEXT NOT NULL,
    upload_id TEXT,
    PRIMARY KEY (episode, path)
);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    etag TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value REAL NOT NULL
);
"""
_ADD = (
    "INSERT INTO counters VALUES (?, ?) "
    "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value"
)
_PUT = "INSERT OR REPLACE INTO counters VALUES (?, ?)"


@dataclass(frozen=True)
class FileRecord:
    """One file of an episode, as the journal knows it."""

    episode: str
    #: Relative to the episode folder, ``/``-separated.
    path: str
    size: int
    sha256: str
    #: Bytes per part, and each part's SHA-256, as first seen.
    part_size: int
    part_sha256: tuple[str, ...]
    #: ``pending``, ``sending``, ``multipart`` or ``done``.
    state: str
    upload_id: str | None


@dataclass(frozen=True)
class EpisodeRecord:
    """One episode, as the journal knows it."""

    name: str
    folder: Path
    #: 0 = triggered (sent first), 1 = continuous.
    priority: int
    created_unix: float
    total_bytes: int
    state: str
    manifest: dict[str, Any]
    reason: str | None


class Journal:
    """The sqlite journal at ``path`` (created if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            raise RuntimeError(
                f"journal {self.path} has schema version {version}, this uploader knows "
                f"{SCHEMA_VERSION}: move it aside (the store settles what was sent)"
            )
        self._db.executescript(_SCHEMA)
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        # One connection shared by the uploader's part senders: one statement at a time.
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _query(self, sql: str, *args: Any) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _write(self, sql: str, *args: Any) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(sql, args)

    # -- episodes -----------------------------------------------------------------------------

    def add_episode(
        self,
        name: str,
        folder: Path,
        priority: int,
        created_unix: float,
        manifest: dict[str, Any],
        files: dict[str, FileDigest],
    ) -> None:
        """Record a new episode and its files, in one transaction."""
        total = sum(d.size for d in files.values())
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO episodes VALUES (?, ?, ?, ?, ?, 'queued', ?, NULL, ?)",
                (name, str(folder), priority, created_unix, total, json.dumps(manifest), now()),
            )
            self._db.executemany(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, 'pending', NULL)",
                [
                    (name, path, d.size, d.sha256, d.part_size, json.dumps(d.part_sha256))
                    for path, d in files.items()
                ],
            )

    def known(self, name: str) -> bool:
        return bool(self._query("SELECT 1 FROM episodes WHERE name = ?", name))

    def episode(self, name: str) -> EpisodeRecord | None:
        rows = self._query("SELECT * FROM episodes WHERE name = ?", name)
        return _episode(rows[0]) if rows else None

    def queued(self) -> list[EpisodeRecord]:
        """Episodes still to upload, in upload order: triggered first, then oldest first."""
        rows = self._query(
            "SELECT * FROM episodes WHERE state = 'queued' ORDER BY priority, created_unix, name"
        )
        return [_episode(r) for r in rows]

    def episodes(self, state: str) -> list[EpisodeRecord]:
        rows = self._query("SELECT * FROM episodes WHERE state = ? ORDER BY created_unix", state)
        return [_episode(r) for r in rows]

    def set_episode_state(self, name: str, state: str, reason: str | None = None) -> None:
        self._write(
            "UPDATE episodes SET state = ?, reason = ?, updated_unix = ? WHERE name = ?",
            state,
            reason,
            now(),
            name,
        )

    def move_episode(self, name: str, folder: Path) -> None:
        self._write("UPDATE episodes SET folder = ? WHERE name = ?", str(folder), name)

    def forget_episode(self, name: str) -> None:
        """Remove an episode (whose folder is gone) and everything about it."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "DELETE FROM parts WHERE upload_id IN "
                "(SELECT upload_id FROM files WHERE episode = ? AND upload_id IS NOT NULL)",
                (name,),
            )
            self._db.execute("DELETE FROM files WHERE episode = ?", (name,))
            self._db.execute("DELETE FROM episodes WHERE name = ?", (name,))

    # -- files and parts ----------------------------------------------------------------------

    def files(self, episode: str) -> list[FileRecord]:
        rows = self._query(
            "SELECT episode, path, size, sha256, part_size, part_sha256, state, upload_id "
            "FROM files WHERE episode = ? ORDER BY path",
            episode,
        )
        return [
            FileRecord(e, p, size, sha, part_size, tuple(json.loads(parts)), state, upload_id)
            for e, p, size, sha, part_size, parts, state, upload_id in rows
        ]

    def set_file_state(
        self, episode: str, path: str, state: str, upload_id: str | None = None
    ) -> None:
        self._write(
            "UPDATE files SET state = ?, upload_id = ? WHERE episode = ? AND path = ?",
            state,
            upload_id,
            episode,
            path,
        )

    def parts(self, upload_id: str) -> list[PartInfo]:
        rows = self._query(
            "SELECT part_number, etag, size, sha256 FROM parts WHERE upload_id = ? "
            "ORDER BY part_number",
            upload_id,
        )
        return [PartInfo(*row) for row in rows]

    def add_part(self, upload_id: str, part: PartInfo, contact_unix: float | None = None) -> None:
        """Record a confirmed part, the bytes sent and the store's answer, in one commit."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?)",
                (upload_id, part.part_number, part.etag, part.size, part.sha256),
            )
            self._db.execute(_ADD, ("sent_bytes", part.size))
            if contact_unix is not None:
                self._db.execute(_PUT, ("last_contact_unix", contact_unix))

    def drop_parts(self, upload_id: str) -> None:
        self._write("DELETE FROM parts WHERE upload_id = ?", upload_id)

    # -- counters -----------------------------------------------------------------------------

    def add(self, name: str, amount: float = 1) -> None:
        self._write(_ADD, name, amount)

    def put(self, name: str, value: float) -> None:
        self._write(_PUT, name, value)

    def counters(self) -> dict[str, float]:
        return dict(self._query("SELECT name, value FROM counters"))

    def __iter__(self) -> Iterator[EpisodeRecord]:
        rows = self._query("SELECT * FROM episodes ORDER BY created_unix")
        return iter([_episode(r) for r in rows])


def now() -> float:
    return time.time()


def _episode(row: tuple[Any, ...]) -> EpisodeRecord:
    name, folder, priority, created, total, state, manifest, reason, _updated = row
    return EpisodeRecord(
        name,
        Path(folder),
        int(priority),
        float(created),
        int(total),
        state,
        json.loads(manifest),
        reason,
    )
