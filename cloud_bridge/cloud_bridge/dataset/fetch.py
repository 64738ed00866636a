"""An episode's files from the store into a local cache folder, each checked against the
SHA-256 its manifest records.

The manifest is the uploader's (``episodes/<robot_id>/<episode>/manifest.json``): ``files`` maps
each relative path to its size and digest. A path that could leave the cache folder, a file the
store lacks, or bytes that do not hash to the manifest reject the episode
(:class:`EpisodeRejected`); a cached file with the right digest is not downloaded again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud_bridge.dataset.errors import EpisodeRejected
from cloud_bridge.store.base import ObjectStore
from cloud_bridge.store.errors import InvalidKey, ObjectNotFound
from cloud_bridge.store.keys import join_key, validate_key

__all__ = ["EpisodeFiles", "fetch_episode", "files_digest", "read_manifest"]

_CHUNK = 1 << 20


@dataclass(frozen=True)
class EpisodeFiles:
    """An episode on local disk, verified."""

    robot_id: str
    episode: str
    #: The folder holding the episode's files (``bag/`` ...).
    folder: Path
    #: The store's manifest.
    manifest: dict[str, Any]
    #: :func:`files_digest` of the manifest: what identifies this version of the episode.
    digest: str


def read_manifest(store: ObjectStore, robot_id: str, episode: str) -> dict[str, Any]:
    """The store's manifest of an episode; :class:`EpisodeRejected` when it is not one."""
    key = join_key("episodes", robot_id, episode, "manifest.json")
    try:
        data, _ = store.get_bytes(key)
        manifest = json.loads(data)
    except ObjectNotFound:
        raise EpisodeRejected(f"{key} is missing") from None
    except ValueError as exc:
        raise EpisodeRejected(f"{key} is not JSON: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise EpisodeRejected(f"{key} has no 'files' table")
    return manifest


def files_digest(manifest: dict[str, Any]) -> str:
    """SHA-256 over the manifest's ``(path, sha256)`` pairs in path order: changes when any
    file of the episode does."""
    files = manifest.get("files")
    pairs = sorted(
        (str(rel), str(entry.get("sha256")) if isinstance(entry, dict) else "")
        for rel, entry in (files.items() if isinstance(files, dict) else ())
    )
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _expected(rel: str, entry: Any) -> tuple[int, str]:
    if not isinstance(entry, dict):
        raise EpisodeRejected(f"manifest entry for {rel!r} is not an object")
    size, sha256 = entry.get("size"), entry.get("sha256")
    if not isinstance(size, int) or not isinstance(sha256, str) or len(sha256) != 64:
        raise EpisodeRejected(f"manifest entry for {rel!r} lacks a size or SHA-256")
    return size, sha256.lower()


def fetch_episode(
    store: ObjectStore,
    robot_id: str,
    episode: str,
    cache: Path,
    manifest: dict[str, Any] | None = None,
) -> EpisodeFiles:
    """Download (or reuse from ``cache``) every file of an episode and verify it against
    ``manifest`` (read from the store when not given)."""
    if manifest is None:
        manifest = read_manifest(store, robot_id, episode)
    folder = cache / robot_id / episode
    for rel, entry in sorted(manifest["files"].items()):
        size, sha256 = _expected(str(rel), entry)
        try:
            key = validate_key(join_key("episodes", robot_id, episode) + "/" + str(rel))
        except InvalidKey as exc:
            raise EpisodeRejected(f"file name {rel!r} is not a safe key: {exc}") from None
        path = folder / str(rel)
        if path.is_file() and path.stat().st_size == size and _sha256_of(path) == sha256:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        try:
            store.download_file(key, partial)
        except ObjectNotFound:
            raise EpisodeRejected(f"{rel} is in the manifest but not in the store") from None
        actual = _sha256_of(partial)
        if actual != sha256:
            partial.unlink()
            raise EpisodeRejected(
                f"{rel}: SHA-256 {actual[:16]}... differs from the manifest's {sha256[:16]}..."
            )
        partial.replace(path)
    return EpisodeFiles(robot_id, episode, folder, manifest, files_digest(manifest))
