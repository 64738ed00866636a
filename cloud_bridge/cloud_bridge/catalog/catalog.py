"""The episode catalog: every episode whose manifest is in the store, filtered.

Built from ``episodes/<robot_id>/<episode>/manifest.json`` alone (the uploader writes it last,
so a listed episode has all its files). A manifest that does not parse, names another robot or
episode than its key, or is implausibly large is skipped with a warning, never trusted.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from cloud_bridge.store.base import ObjectStore
from cloud_bridge.store.errors import ObjectNotFound
from cloud_bridge.store.keys import join_key

__all__ = ["MAX_MANIFEST_BYTES", "EpisodeEntry", "filter_episodes", "list_episodes", "parse_time"]

_log = logging.getLogger(__name__)

#: Larger manifests are skipped: a real one is a few kB.
MAX_MANIFEST_BYTES = 4 << 20


@dataclass(frozen=True)
class EpisodeEntry:
    """One episode in the store."""

    robot_id: str
    episode: str
    triggered: bool
    trigger_kinds: tuple[str, ...]
    #: The release (policy version) that was driving, when the recorder knew it.
    release: str | None
    #: Recording start and end (epoch s).
    start_unix: float
    end_unix: float | None
    status: str | None
    #: Total bytes of the episode's files.
    size: int
    files: int
    #: The manifest's key.
    key: str

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "trigger_kinds": list(self.trigger_kinds)}


def _entry(key: str, robot_id: str, episode: str, manifest: Any) -> EpisodeEntry | None:
    if not isinstance(manifest, dict):
        return None
    if manifest.get("robot_id") != robot_id or manifest.get("episode") != episode:
        return None
    files = manifest.get("files")
    start = manifest.get("start_unix")
    if not isinstance(files, dict) or not isinstance(start, int | float):
        return None
    end = manifest.get("end_unix")
    kinds = manifest.get("trigger_kinds") or []
    release = manifest.get("release")
    status = manifest.get("status")
    try:
        size = sum(int(f["size"]) for f in files.values())
    except (TypeError, KeyError, ValueError):
        return None
    return EpisodeEntry(
        robot_id=robot_id,
        episode=episode,
        triggered=bool(manifest.get("triggered")),
        trigger_kinds=tuple(str(k) for k in kinds) if isinstance(kinds, list) else (),
        release=str(release) if release is not None else None,
        start_unix=float(start),
        end_unix=float(end) if isinstance(end, int | float) else None,
        status=str(status) if status is not None else None,
        size=size,
        files=len(files),
        key=key,
    )


def list_episodes(store: ObjectStore, robot: str | None = None) -> Iterator[EpisodeEntry]:
    """Every episode in the store (of one robot), in key order."""
    prefix = join_key("episodes", robot) + "/" if robot else "episodes/"
    for info in store.list(prefix):
        parts = info.key.split("/")
        if len(parts) != 4 or parts[3] != "manifest.json":
            continue
        if info.size > MAX_MANIFEST_BYTES:
            _log.warning("skipping %s: %d bytes is too large for a manifest", info.key, info.size)
            continue
        try:
            data, _ = store.get_bytes(info.key)
            manifest = json.loads(data)
        except ObjectNotFound:
            continue  # deleted since the listing
        except ValueError:
            manifest = None
        entry = _entry(info.key, parts[1], parts[2], manifest)
        if entry is None:
            _log.warning("skipping %s: not a valid episode manifest for its key", info.key)
            continue
        yield entry


def filter_episodes(
    entries: Iterable[EpisodeEntry],
    *,
    trigger: str | None = None,
    since: float | None = None,
    until: float | None = None,
    release: str | None = None,
) -> list[EpisodeEntry]:
    """Episodes with that trigger kind, that overlap ``[since, until]`` (epoch s), recorded
    under that release; sorted by start time."""
    selected = []
    for entry in entries:
        if trigger is not None and trigger not in entry.trigger_kinds:
            continue
        if release is not None and entry.release != release:
            continue
        end = entry.end_unix if entry.end_unix is not None else entry.start_unix
        if since is not None and end < since:
            continue
        if until is not None and entry.start_unix > until:
            continue
        selected.append(entry)
    return sorted(selected, key=lambda e: (e.start_unix, e.robot_id, e.episode))


_UNITS_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_time(text: str, now: float | None = None) -> float:
    """Epoch seconds from ``1765000000``, an ISO 8601 date or time (UTC unless it says), or an
    age such as ``90m``, ``24h``, ``7d`` (that long before now)."""
    text = text.strip()
    if text and text[-1] in _UNITS_S:
        try:
            return (time.time() if now is None else now) - float(text[:-1]) * _UNITS_S[text[-1]]
        except ValueError:
            pass
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"time {text!r}: use epoch seconds, ISO 8601 (2026-12-05T10:00Z) or an age (24h)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
