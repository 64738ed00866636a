"""``EpisodeUploader``: the recorder's finished episodes to the store, on the robot, no ROS.

One pass (:meth:`EpisodeUploader.run_pass`):

1. **Scan** ``ready/``: each new episode is described (files hashed) and journalled; a damaged
   or hostile one is quarantined.
2. **Budget**: while the queued episodes hold more than ``queue_budget_bytes``, drop the oldest
   continuous one (then, only if nothing else is left, the oldest triggered one; see
   :mod:`~cloud_bridge.upload.disk_policy`); every drop is counted, logged and in the status.
3. **Upload** the queue in order (triggered first, then oldest first): each file to
   ``episodes/<robot_id>/<episode>/<path>`` (one conditional put, or a multipart upload that
   resumes from the last part the journal and the store agree on), each byte checked against
   the SHA-256 taken when the episode was first seen, then the episode's ``manifest.json`` last,
   so an episode is in the catalog only when all its files are. A file that no longer hashes to
   its manifest is quarantined with its episode, never uploaded as good.
4. **Retention**: a confirmed episode moves to ``uploaded/``; uploaded episodes older than
   ``retain_uploaded_s`` or beyond ``retain_uploaded_bytes`` are deleted, oldest first.

A store that cannot be reached ends the pass (:class:`StoreUnavailable`); :meth:`run` waits
with exponential backoff and full jitter, then tries again. Nothing is ever sent twice on
purpose: single puts are ``If-None-Match`` (an existing identical object counts as sent), parts
the store already lists are not re-sent, and a multipart upload the store forgot
(:class:`NoSuchUpload`, e.g. a server restarted empty) starts that file over.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cloud_bridge.store.base import ObjectInfo, ObjectStore, PartInfo
from cloud_bridge.store.errors import (
    IntegrityError,
    NoSuchUpload,
    PreconditionFailed,
    StoreError,
    StoreUnavailable,
)
from cloud_bridge.upload.backoff import Backoff
from cloud_bridge.upload.config import UploaderConfig
from cloud_bridge.upload.disk_policy import Waiting, choose_drops, choose_expired
from cloud_bridge.upload.journal import EpisodeRecord, FileRecord, Journal
from cloud_bridge.upload.ready import (
    MANIFEST_NAME,
    HostileEpisode,
    describe_episode,
    episode_prefix,
    hash_file,
    ready_folders,
)
from cloud_bridge.upload.throttle import TokenBucket

__all__ = ["JOURNAL_NAME", "QUARANTINE_NOTE", "EpisodeUploader", "FileChanged", "PassResult"]

_log = logging.getLogger(__name__)

#: The journal's file name, in the spool's root (beside ``ready/``).
JOURNAL_NAME = "uploader.sqlite"
#: Written into a quarantined episode's folder: why.
QUARANTINE_NOTE = "QUARANTINED.json"


class FileChanged(Exception):  # noqa: N818 - a verdict on a file
    """A file no longer matches what its manifest says (size or SHA-256)."""


class _ConflictError(Exception):
    """The store already holds something else at this episode's key."""


@dataclass
class PassResult:
    """What one pass did."""

    enqueued: int = 0
    uploaded: int = 0
    quarantined: int = 0
    dropped: int = 0
    #: Episodes still queued after the pass.
    queued: int = 0
    #: Set when the pass ended because the store failed.
    store_error: str | None = None


def _parts_of(size: int, part_size: int) -> int:
    return max(1, -(-size // part_size))


def _same_object(info: ObjectInfo | None, size: int, sha256: str) -> bool:
    return info is not None and info.size == size and info.sha256 == sha256


class EpisodeUploader:
    """Uploads the episodes of the spool at ``spool`` to ``store``."""

    def __init__(
        self,
        spool: Path,
        store: ObjectStore,
        config: UploaderConfig,
        *,
        journal_path: Path | None = None,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spool = Path(spool)
        self.ready = self.spool / "ready"
        self.uploaded_dir = self.spool / "uploaded"
        self.quarantine_dir = self.spool / "quarantine"
        for folder in (self.ready, self.uploaded_dir, self.quarantine_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.store = store
        self.config = config
        self.journal = Journal(journal_path or self.spool / JOURNAL_NAME)
        self.stop = stop or threading.Event()
        self._clock = clock
        self.backoff = Backoff(config.backoff_initial_s, config.backoff_max_s)
        self._throttle = (
            TokenBucket(config.max_bytes_per_s, config.part_size, stop=self.stop)
            if config.max_bytes_per_s
            else None
        )
        self._sent_parts: set[tuple[str, int]] = set()
        self._status_lock = threading.Lock()
        self._status: dict[str, Any] = {}
        self._last_error: str | None = None
        self._refresh_status()

    def close(self) -> None:
        self.journal.close()

    # -- status -------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """A snapshot for the agent's status topic (safe to call from another thread)."""
        with self._status_lock:
            return dict(self._status)

    def _refresh_status(self) -> None:
        queued = self.journal.queued()
        pending = 0
        for episode in queued:
            for record in self.journal.files(episode.name):
                if record.state == "done":
                    continue
                pending += record.size
                if record.upload_id:
                    pending -= sum(p.size for p in self.journal.parts(record.upload_id))
        counters = self.journal.counters()
        status = {
            "robot_id": self.config.robot_id,
            "store": self.store.url,
            "queue_episodes": len(queued),
            "queue_bytes": sum(e.total_bytes for e in queued),
            "bytes_pending": max(pending, 0),
            "uploaded_episodes": int(counters.get("uploaded_episodes", 0)),
            "uploaded_bytes": int(counters.get("uploaded_bytes", 0)),
            "sent_bytes": int(counters.get("sent_bytes", 0)),
            "resent_parts": int(counters.get("resent_parts", 0)),
            "restarted_files": int(counters.get("restarted_files", 0)),
            "store_failures": int(counters.get("store_failures", 0)),
            "drops": int(counters.get("drops", 0)),
            "drops_triggered": int(counters.get("drops_triggered", 0)),
            "dropped_bytes": int(counters.get("dropped_bytes", 0)),
            "quarantined": int(counters.get("quarantined", 0)),
            "retention_deleted": int(counters.get("retention_deleted", 0)),
            "last_upload_unix": counters.get("last_upload_unix"),
            "last_contact_unix": counters.get("last_contact_unix"),
            "last_error": self._last_error,
        }
        with self._status_lock:
            self._status = status

    def _contact(self) -> None:
        self.journal.put("last_contact_unix", self._clock())

    # -- the loop -----------------------------------------------------------------------------

    def run(self, *, until_empty: bool = False, max_failures: int | None = None) -> None:
        """Pass after pass until :attr:`stop` is set (or, with ``until_empty``, until the queue
        is empty, or after ``max_failures`` store failures in a row); after a store failure,
        wait with backoff."""
        while not self.stop.is_set():
            result = self.run_pass()
            if until_empty and result.queued == 0 and result.store_error is None:
                return
            if result.store_error is not None:
                self.journal.add("store_failures")
                if max_failures is not None and self.backoff.failures + 1 >= max_failures:
                    _log.error("giving up after %d store failures in a row", max_failures)
                    return
                delay = self.backoff.next_delay()
                _log.warning(
                    "store unavailable (%s); next try in %.1f s", result.store_error, delay
                )
            else:
                self.backoff.reset()
                delay = 0.0 if result.queued else self.config.poll_interval_s
            if delay:
                self.stop.wait(delay)

    def run_pass(self) -> PassResult:
        """Scan, enforce the budget, upload what is queued, apply retention."""
        result = PassResult()
        result.enqueued, result.quarantined = self.scan()
        result.dropped = self.enforce_budget()
        try:
            for episode in self.journal.queued():
                if self.stop.is_set():
                    break
                outcome = self.upload_episode(episode)
                if outcome == "done":
                    result.uploaded += 1
                elif outcome == "quarantined":
                    result.quarantined += 1
            self._last_error = None
        except StoreError as exc:
            # Unreachable, denied, or a server that lost the bucket: all wait for backoff.
            result.store_error = str(exc)
            self._last_error = str(exc)
        self.apply_retention()
        result.queued = len(self.journal.queued())
        self._refresh_status()
        return result

    # -- 1. scan ------------------------------------------------------------------------------

    def scan(self) -> tuple[int, int]:
        """Journal the new episodes in ``ready/``; (enqueued, quarantined)."""
        enqueued = quarantined = 0
        for folder in ready_folders(self.ready):
            if self.journal.known(folder.name):
                continue
            try:
                episode = describe_episode(folder, self.config.robot_id, self.config.part_size)
            except HostileEpisode as exc:
                self._quarantine_folder(folder, str(exc))
                quarantined += 1
                continue
            except FileNotFoundError:
                continue  # removed while we looked: nothing to send
            self.journal.add_episode(
                episode.name,
                episode.folder,
                episode.priority,
                episode.created_unix,
                episode.manifest,
                episode.files,
            )
            enqueued += 1
            _log.info(
                "queued %s (%s, %d files, %d bytes)",
                episode.name,
                "triggered" if episode.priority == 0 else "continuous",
                len(episode.files),
                sum(d.size for d in episode.files.values()),
            )
        return enqueued, quarantined

    # -- 2. budget ----------------------------------------------------------------------------

    def enforce_budget(self) -> int:
        """Drop queued episodes until they fit ``queue_budget_bytes``; how many were dropped."""
        queued = {e.name: e for e in self.journal.queued()}
        waiting = [
            Waiting(e.name, e.created_unix, e.total_bytes, e.priority) for e in queued.values()
        ]
        total = sum(w.size for w in waiting)
        drops = choose_drops(waiting, self.config.queue_budget_bytes)
        for drop in drops:
            episode = queued[drop.name]
            triggered = episode.priority == 0
            (_log.error if triggered else _log.warning)(
                "queue over its budget (%d > %d bytes): dropping %s episode %s (%d bytes)",
                total,
                self.config.queue_budget_bytes,
                "triggered" if triggered else "continuous",
                episode.name,
                episode.total_bytes,
            )
            total -= episode.total_bytes
            shutil.rmtree(episode.folder, ignore_errors=True)
            self.journal.set_episode_state(episode.name, "dropped", "queue over its disk budget")
            self.journal.add("drops")
            self.journal.add("dropped_bytes", episode.total_bytes)
            if triggered:
                self.journal.add("drops_triggered")
        return len(drops)

    # -- 3. upload ----------------------------------------------------------------------------

    def upload_episode(self, episode: EpisodeRecord) -> str:
        """Upload one queued episode: ``done``, ``quarantined`` or ``missing``. Store failures
        propagate (the journal keeps what was confirmed)."""
        prefix = episode_prefix(self.config.robot_id, episode.name)
        if not episode.folder.is_dir():
            _log.error("episode %s vanished from %s before upload", episode.name, self.ready)
            self.journal.set_episode_state(episode.name, "missing", "folder vanished")
            self.journal.add("missing")
            return "missing"
        try:
            for record in self.journal.files(episode.name):
                if record.state == "done":
                    continue
                key = f"{prefix}/{record.path}"
                local = episode.folder / record.path
                if record.size >= self.config.multipart_threshold:
                    self._upload_multipart(record, local, key)
                else:
                    self._upload_single(record, local, key)
                self.journal.set_file_state(episode.name, record.path, "done")
                self._refresh_status()
            self._put_manifest(episode, f"{prefix}/{MANIFEST_NAME}")
        except (FileChanged, _ConflictError, FileNotFoundError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            self._abort_uploads(episode, prefix)
            self._quarantine_folder(episode.folder, reason)
            self.journal.set_episode_state(episode.name, "quarantined", reason)
            return "quarantined"
        self.journal.set_episode_state(episode.name, "done")
        self.journal.add("uploaded_episodes")
        self.journal.add("uploaded_bytes", episode.total_bytes)
        self.journal.put("last_upload_unix", self._clock())
        self._move_uploaded(episode)
        _log.info("uploaded %s to %s/%s/", episode.name, self.store.url, prefix)
        return "done"

    def _send_allowance(self, size: int) -> None:
        if self._throttle is not None:
            self._throttle.take(size)
        if self.stop.is_set():
            raise StoreUnavailable("uploader stopping")

    def _upload_single(self, record: FileRecord, local: Path, key: str) -> None:
        data = local.read_bytes()
        if len(data) != record.size or hashlib.sha256(data).hexdigest() != record.sha256:
            raise FileChanged(f"{record.path} no longer matches its manifest")
        if record.state == "sending":
            # A put may have reached the store before a restart: ask before sending again.
            existing = self.store.head(key)
            self._contact()
            if _same_object(existing, record.size, record.sha256):
                return
        self.journal.set_file_state(record.episode, record.path, "sending")
        self._send_allowance(len(data))
        try:
            self.store.put_bytes(key, data, if_none_match=True)
        except PreconditionFailed:
            existing = self.store.head(key)
            if not _same_object(existing, record.size, record.sha256):
                raise _ConflictError(f"the store already holds another {key}") from None
        self._contact()
        self.journal.add("sent_bytes", len(data))

    def _upload_multipart(self, record: FileRecord, local: Path, key: str) -> None:
        count = _parts_of(record.size, record.part_size)
        if len(record.part_sha256) != count:
            raise FileChanged(f"{record.path}: the journal's part digests do not fit its size")
        in_flight_max = self.config.parts_in_flight
        with local.open("rb") as f:
            if os.fstat(f.fileno()).st_size != record.size:
                raise FileChanged(f"{record.path} changed size since it was queued")
            upload_id, confirmed = self._resume(record, f, key)
            if upload_id is None:
                return  # the store already holds the complete, identical object
            # Each part goes with the SHA-256 taken when the episode was first seen: the store
            # refuses bytes that differ, so a file that changed since is never stored as good.
            # Up to ``parts_in_flight`` parts are on the wire at once, each journalled by its
            # sender when confirmed.
            parts: dict[int, PartInfo] = dict(confirmed)
            in_flight: dict[Future[PartInfo], int] = {}
            try:
                with ThreadPoolExecutor(in_flight_max, thread_name_prefix="fw-upload") as pool:
                    try:
                        for number in range(1, count + 1):
                            if number in confirmed:
                                continue
                            data = self._read_part(f, record, number)
                            while len(in_flight) >= in_flight_max:
                                _collect(in_flight, parts, FIRST_COMPLETED)
                            self._send_allowance(len(data))
                            if (upload_id, number) in self._sent_parts:
                                self.journal.add("resent_parts")
                            self._sent_parts.add((upload_id, number))
                            sha256 = record.part_sha256[number - 1]
                            future = pool.submit(
                                self._send_part, key, upload_id, number, data, sha256
                            )
                            in_flight[future] = number
                        while in_flight:
                            _collect(in_flight, parts, ALL_COMPLETED)
                    finally:
                        # After a failure, parts already on the wire finish (and are journalled
                        # when confirmed); the rest are not sent.
                        for future in in_flight:
                            future.cancel()
            except IntegrityError:
                self._raise_if_changed(record, local)
                raise StoreUnavailable(f"the store refused a part of {key}; retrying") from None
        self._complete(record, local, key, upload_id, [parts[n] for n in sorted(parts)])

    def _raise_if_changed(self, record: FileRecord, local: Path) -> None:
        """:class:`FileChanged` when the file no longer hashes to its manifest."""
        if hash_file(local, record.part_size).sha256 != record.sha256:
            raise FileChanged(f"{record.path} no longer matches its manifest")

    def _read_part(self, f: BinaryIO, record: FileRecord, number: int) -> bytes:
        offset = (number - 1) * record.part_size
        f.seek(offset)
        expected = min(record.part_size, record.size - offset)
        data = f.read(expected)
        if len(data) != expected:
            raise FileChanged(f"{record.path} is shorter than when it was queued")
        return data

    def _send_part(
        self, key: str, upload_id: str, number: int, data: bytes, sha256: str
    ) -> PartInfo:
        """Send one part and journal it (runs on a sender thread)."""
        part = self.store.upload_part(key, upload_id, number, data, sha256=sha256)
        # Journalled as soon as confirmed: a restart does not send it again.
        self.journal.add_part(upload_id, part, contact_unix=self._clock())
        return part

    def _resume(
        self, record: FileRecord, f: BinaryIO, key: str
    ) -> tuple[str | None, dict[int, PartInfo]]:
        """The upload to continue and the parts both the journal and the store hold; a new
        upload when the store forgot the old one; ``(None, {})`` when the object is already
        complete in the store."""
        upload_id = record.upload_id
        if upload_id is not None:
            journalled = {p.part_number: p for p in self.journal.parts(upload_id)}
            try:
                listed = {p.part_number: p for p in self.store.list_parts(key, upload_id)}
            except NoSuchUpload:
                self._contact()
                self.journal.drop_parts(upload_id)
                if _same_object(self.store.head(key), record.size, record.sha256):
                    return None, {}
                _log.warning("the store forgot the upload of %s: starting that file over", key)
                self.journal.add("restarted_files")
                upload_id = None
            else:
                self._contact()
                confirmed = {
                    n: p
                    for n, p in journalled.items()
                    if n in listed and listed[n].etag == p.etag and listed[n].size == p.size
                }
                # Parts that reached the store while the journal did not hear back: adopt them
                # when they hold this file's bytes, rather than send them again.
                for number, held in listed.items():
                    if number in confirmed or number > len(record.part_sha256):
                        continue
                    data = self._read_part(f, record, number)
                    sha256 = record.part_sha256[number - 1]
                    if _store_holds(held, data, sha256):
                        part = PartInfo(number, held.etag, len(data), sha256)
                        self.journal.add_part(upload_id, part)
                        confirmed[number] = part
                if confirmed:
                    _log.info(
                        "resuming %s after part %d of %d",
                        key,
                        max(confirmed),
                        _parts_of(record.size, record.part_size),
                    )
                return upload_id, confirmed
        upload_id = self.store.create_multipart(key, sha256=record.sha256)
        self._contact()
        self.journal.set_file_state(record.episode, record.path, "multipart", upload_id)
        return upload_id, {}

    def _complete(
        self, record: FileRecord, local: Path, key: str, upload_id: str, parts: list[PartInfo]
    ) -> None:
        try:
            self.store.complete_multipart(key, upload_id, parts, if_none_match=True)
        except IntegrityError:
            # The store assembled other bytes than the digests say: a file that changed after
            # it was first seen (on a server that does not check part checksums), or damage on
            # the way. The bad object must not stay (a robot may lack the right to delete: then
            # it has no manifest, so no catalog lists it).
            _log.error("the store's copy of %s does not match its parts", key)
            with contextlib.suppress(StoreError):
                self.store.delete(key)
            self._raise_if_changed(record, local)
            self.journal.drop_parts(upload_id)
            self.journal.set_file_state(record.episode, record.path, "pending")
            self.journal.add("restarted_files")
            raise
        except (PreconditionFailed, NoSuchUpload) as exc:
            # Completed before (a lost answer or a restart), or someone else's object.
            existing = self.store.head(key)
            if not _same_object(existing, record.size, record.sha256):
                if isinstance(exc, NoSuchUpload):
                    self.journal.drop_parts(upload_id)
                    self.journal.set_file_state(record.episode, record.path, "pending")
                    self.journal.add("restarted_files")
                    raise StoreUnavailable(f"the store forgot the upload of {key}") from None
                raise _ConflictError(f"the store already holds another {key}") from None
        self._contact()
        self.journal.drop_parts(upload_id)
        # An upload of this key whose creation answer was lost (a cut) is an orphan: abort it,
        # so the store holds one copy and no stray parts.
        # Best effort: a robot's credentials may not list uploads (a bucket lifecycle rule
        # that aborts incomplete uploads cleans up after it then).
        with contextlib.suppress(StoreError):
            for orphan in self.store.list_multipart(key):
                if orphan.key == key and orphan.upload_id != upload_id:
                    self.store.abort_multipart(key, orphan.upload_id)

    def _put_manifest(self, episode: EpisodeRecord, key: str) -> None:
        manifest = {**episode.manifest, "uploaded_unix": self._clock()}
        data = json.dumps(manifest, indent=1, sort_keys=True).encode()
        try:
            self.store.put_bytes(key, data, if_none_match=True)
        except PreconditionFailed:
            held, _ = self.store.get_bytes(key)
            try:
                same = json.loads(held).get("files") == episode.manifest["files"]
            except (ValueError, AttributeError):
                same = False
            if not same:
                raise _ConflictError(f"the store already holds another {key}") from None
        self._contact()

    def _abort_uploads(self, episode: EpisodeRecord, prefix: str) -> None:
        for record in self.journal.files(episode.name):
            if record.upload_id and record.state == "multipart":
                try:
                    self.store.abort_multipart(f"{prefix}/{record.path}", record.upload_id)
                except StoreError as exc:
                    _log.info("could not abort the upload of %s: %s", record.path, exc)
                self.journal.drop_parts(record.upload_id)

    # -- quarantine and retention -------------------------------------------------------------

    def _quarantine_folder(self, folder: Path, reason: str) -> None:
        target = _free_name(self.quarantine_dir / folder.name)
        _log.error("quarantined %s: %s", folder.name, reason)
        if folder.is_dir():
            os.replace(folder, target)
            (target / QUARANTINE_NOTE).write_text(
                json.dumps({"reason": reason, "quarantined_unix": self._clock()}, indent=1)
            )
        if not self.journal.known(folder.name):
            # Never journalled (refused at scan): remember it so a rescan does not repeat.
            self.journal.add_episode(folder.name, target, 1, self._clock(), {}, {})
            self.journal.set_episode_state(folder.name, "quarantined", reason)
        self.journal.move_episode(folder.name, target)
        self.journal.add("quarantined")

    def _move_uploaded(self, episode: EpisodeRecord) -> None:
        target = _free_name(self.uploaded_dir / episode.name)
        os.replace(episode.folder, target)
        self.journal.move_episode(episode.name, target)

    def apply_retention(self) -> int:
        """Delete uploaded episodes past the age limit or beyond the byte budget; how many."""
        held = []
        for folder in self.uploaded_dir.iterdir():
            if folder.is_dir():
                record = self.journal.episode(folder.name)
                created = record.created_unix if record else folder.stat().st_mtime
                size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
                held.append(Waiting(folder.name, created, size))
        expired = choose_expired(
            held,
            self._clock(),
            self.config.retain_uploaded_s,
            self.config.retain_uploaded_bytes,
        )
        for episode in expired:
            shutil.rmtree(self.uploaded_dir / episode.name, ignore_errors=True)
            self.journal.add("retention_deleted")
        return len(expired)


def _collect(
    in_flight: dict[Future[PartInfo], int], parts: dict[int, PartInfo], return_when: str
) -> None:
    """Wait for sent parts; file the confirmed ones, raise the first failure."""
    done, _ = wait(in_flight, return_when=return_when)
    for future in done:
        number = in_flight.pop(future)
        parts[number] = future.result()


def _store_holds(held: PartInfo, data: bytes, sha256: str) -> bool:
    """Whether a part the store lists holds ``data`` (whose digest is ``sha256``): by the
    part's SHA-256 when the store lists one, otherwise by its ETag, which S3 makes the MD5 of a
    part (SSE-S3 or no encryption)."""
    if held.size != len(data) or hashlib.sha256(data).hexdigest() != sha256:
        return False
    if held.sha256:
        return held.sha256 == sha256
    return held.etag == hashlib.md5(data, usedforsecurity=False).hexdigest()


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.{n}")
        n += 1
    return candidate
