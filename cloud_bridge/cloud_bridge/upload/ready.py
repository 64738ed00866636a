"""Episodes in the recorder's ``ready/`` folder, and the manifest the store gets for each.

The recorder renames a finished episode folder into ``ready/`` in one step, with its
``manifest.json`` already written, so a folder there without a readable manifest is damaged,
not in progress. Only regular files are uploaded: a symlink or a special file in an episode
makes it hostile (it could read anything on the robot) and it is quarantined. The SHA-256 of
each file, and of each of its parts, is taken in one read when the uploader first sees the
episode: what the store must receive, however long the episode waits for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud_bridge.store.errors import InvalidKey
from cloud_bridge.store.keys import join_key, validate_key

__all__ = [
    "EPISODE_FORMAT",
    "MANIFEST_NAME",
    "SKIPPED_NAMES",
    "FileDigest",
    "HostileEpisode",
    "ReadyEpisode",
    "describe_episode",
    "episode_prefix",
    "hash_file",
    "ready_folders",
]

#: The recorder's manifest (also the name of the manifest in the store).
MANIFEST_NAME = "manifest.json"
#: The format tag of the store's episode manifest.
EPISODE_FORMAT = "flywheel.episode/1"
#: Files in an episode folder that are not uploaded as files: the recorder's manifest (its
#: content goes into the store's manifest), the recorder's uploaded marker, temporaries.
SKIPPED_NAMES = {MANIFEST_NAME, MANIFEST_NAME + ".tmp", "UPLOADED"}


class HostileEpisode(Exception):  # noqa: N818 - it is a verdict, not a failure
    """An episode folder that must not be uploaded (the reason is the message)."""


@dataclass(frozen=True)
class ReadyEpisode:
    """A closed episode in ``ready/``, described for the journal."""

    name: str
    folder: Path
    #: 0 = triggered (a safety event, a service call...), 1 = continuous.
    priority: int
    #: When the recording started (epoch s).
    created_unix: float
    #: What the store's ``manifest.json`` will say (without ``uploaded_unix``).
    manifest: dict[str, Any]
    #: ``relative path -> digest``.
    files: dict[str, FileDigest]


@dataclass(frozen=True)
class FileDigest:
    """What a file held when it was first seen."""

    #: Bytes.
    size: int
    #: Hex SHA-256 of the whole file.
    sha256: str
    #: Bytes per part, and the hex SHA-256 of each part (the last one may be shorter).
    part_size: int
    part_sha256: tuple[str, ...]


def hash_file(path: Path, part_size: int) -> FileDigest:
    """Size and SHA-256 of a file, whole and per ``part_size`` bytes, in one read. The two
    digests of a chunk are computed on two threads (hashlib releases the GIL on large
    buffers), so this takes about one pass's time where a second core is free."""
    whole = hashlib.sha256()
    parts: list[str] = []
    size = 0
    with path.open("rb") as f, ThreadPoolExecutor(1, thread_name_prefix="fw-hash") as pool:
        while chunk := f.read(part_size):
            whole_done = pool.submit(whole.update, chunk)
            parts.append(hashlib.sha256(chunk).hexdigest())
            whole_done.result()
            size += len(chunk)
    if not parts:
        parts.append(hashlib.sha256(b"").hexdigest())
    return FileDigest(size, whole.hexdigest(), part_size, tuple(parts))


def episode_prefix(robot_id: str, name: str) -> str:
    """Where an episode's objects go: ``episodes/<robot_id>/<name>``."""
    return join_key("episodes", robot_id, name)


def ready_folders(ready: Path) -> list[Path]:
    """Episode folders in ``ready/`` not yet marked uploaded (hidden names skipped)."""
    if not ready.is_dir():
        return []
    return sorted(
        p
        for p in ready.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        if not (p / "UPLOADED").exists()
    )


def _read_recorder_manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MANIFEST_NAME).read_text())
    except (OSError, ValueError) as exc:
        raise HostileEpisode(
            f"manifest.json missing or unreadable ({type(exc).__name__})"
        ) from None
    if not isinstance(data, dict):
        raise HostileEpisode("manifest.json is not a JSON object")
    return data


def _trigger_kinds(manifest: dict[str, Any]) -> list[str]:
    kinds = set()
    triggers = manifest.get("triggers")
    if isinstance(triggers, list):
        kinds |= {str(t["kind"]) for t in triggers if isinstance(t, dict) and "kind" in t}
    trigger = manifest.get("trigger")
    if isinstance(trigger, dict) and "kind" in trigger:
        kinds.add(str(trigger["kind"]))
    if not kinds and isinstance(manifest.get("mode"), str):
        kinds.add(str(manifest["mode"]))
    return sorted(kinds)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def describe_episode(folder: Path, robot_id: str, part_size: int) -> ReadyEpisode:
    """Read and hash an episode folder; :class:`HostileEpisode` when it must not be uploaded."""
    name = folder.name
    try:
        prefix = episode_prefix(robot_id, name)
    except InvalidKey as exc:
        raise HostileEpisode(f"episode name {name!r} is not a safe key: {exc}") from None
    recorder = _read_recorder_manifest(folder)
    if recorder.get("status") == "recording":
        raise HostileEpisode("manifest says it is still recording, yet it is in ready/")
    files: dict[str, FileDigest] = {}
    for directory, dirs, names in os.walk(folder):
        for entry in sorted(dirs + names):
            path = Path(directory) / entry
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise HostileEpisode(f"{path.relative_to(folder)} is not a regular file")
        for entry in names:
            path = Path(directory) / entry
            rel = path.relative_to(folder).as_posix()
            if rel in SKIPPED_NAMES:
                continue
            try:
                validate_key(f"{prefix}/{rel}")
            except InvalidKey as exc:
                raise HostileEpisode(f"file name {rel!r} is not a safe key: {exc}") from None
            files[rel] = hash_file(path, part_size)
    if not files:
        raise HostileEpisode("no files besides the manifest")
    created = _number(recorder.get("created_unix")) or folder.stat().st_mtime
    kinds = _trigger_kinds(recorder)
    triggered = bool(recorder.get("triggered", kinds != ["continuous"]))
    manifest: dict[str, Any] = {
        "format": EPISODE_FORMAT,
        "robot_id": robot_id,
        "episode": name,
        "triggered": triggered,
        "trigger_kinds": kinds,
        # The release (policy version) that was driving, as the recorder saw it.
        "release": recorder.get("policy_version"),
        "start_unix": created,
        "end_unix": _number(recorder.get("closed_unix")),
        "status": recorder.get("status"),
        "files": {rel: {"size": d.size, "sha256": d.sha256} for rel, d in files.items()},
        "recorder": recorder,
    }
    return ReadyEpisode(name, folder, 0 if triggered else 1, created, manifest, files)
