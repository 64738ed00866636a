"""One episode on disk: a rosbag2 bag (rosbags writer) and its ``manifest.json``.

Layout: ``<spool>/incomplete/<name>/{manifest.json, bag/}`` while it is written; on close the
whole folder is renamed (atomically, same filesystem) to ``<spool>/ready/<name>``. The episode's
metadata also goes into the bag's ``custom_data`` (keys prefixed ``fw.``), so a bag that travels
without its manifest still says where it came from.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rosbags.interfaces import Connection, Qos
from rosbags.rosbag2 import StoragePlugin, Writer

from fw_recorder.manifest import write_manifest
from fw_recorder.mcap_writer import LeanWriter

__all__ = ["BAG_DIR", "EMPTY_EPISODE_BYTES", "EpisodeBag", "TopicInfo"]

BAG_DIR = "bag"
_PLUGINS = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}
#: Upper bounds (bytes) of what a bag stores besides the payloads, for the spool budget: per
#: message (MCAP: a 31-byte record header and a 16-byte index entry; sqlite3: a row and its
#: timestamp index entry), per topic (schema and channel records, written twice in MCAP, or
#: table rows), and once (file header and summary, metadata.yaml, manifest.json).
_PER_MESSAGE = {"mcap": 64, "sqlite3": 192}
_PER_TOPIC = 4096
_FIXED = 128 * 1024
#: Most bytes an episode without messages takes.
EMPTY_EPISODE_BYTES = _FIXED


class TopicInfo:
    """What a bag needs to know about a recorded topic."""

    __slots__ = ("msgdef", "msgtype", "name", "offered_qos", "rihs01")

    def __init__(
        self, name: str, msgtype: str, msgdef: str, rihs01: str, offered_qos: list[Qos]
    ) -> None:
        self.name = name
        self.msgtype = msgtype
        self.msgdef = msgdef
        self.rihs01 = rihs01
        self.offered_qos = offered_qos


class EpisodeBag:
    """An open episode: add messages with :meth:`write`, then :meth:`close` to publish it."""

    def __init__(
        self,
        incomplete_dir: Path,
        ready_dir: Path,
        name: str,
        storage: str,
        manifest: dict[str, Any],
        topic_lookup: Callable[[int], TopicInfo],
    ) -> None:
        self.name = name
        self.folder = incomplete_dir / name
        self.ready_dir = ready_dir
        self.folder.mkdir(parents=True)
        self.manifest = dict(manifest)
        self.manifest.update(
            name=name,
            status="recording",
            complete=False,
            storage=storage,
            created_unix=time.time(),
            writer_pid=os.getpid(),
        )
        write_manifest(self.folder, self.manifest)
        # rosbags' writer with a lean MCAP storage (same file, fewer payload copies; see
        # fw_recorder.mcap_writer): what makes large messages as cheap to record as to write.
        self._writer = LeanWriter(
            self.folder / BAG_DIR, version=Writer.VERSION_LATEST, storage_plugin=_PLUGINS[storage]
        )
        self._writer.open()
        self._lookup = topic_lookup
        self._connections: dict[int, Connection] = {}
        #: Payload bytes written (what split-by-size counts).
        self.bytes = 0
        self.messages = 0
        self.first_ns: int | None = None
        self.last_ns: int | None = None
        self._per_message = _PER_MESSAGE[storage]
        self._topics_bytes = 0

    def _connection(self, topic_id: int) -> Connection:
        info = self._lookup(topic_id)
        conn = self._writer.add_connection(
            info.name,
            info.msgtype,
            msgdef=info.msgdef,
            rihs01=info.rihs01,
            offered_qos_profiles=info.offered_qos,
        )
        self._connections[topic_id] = conn
        self._topics_bytes += self._topic_cost(topic_id)
        return conn

    def _topic_cost(self, topic_id: int) -> int:
        return _PER_TOPIC + 2 * len(self._lookup(topic_id).msgdef)

    def size_bound(self, topic_id: int | None = None, payload: int = 0) -> int:
        """Most bytes this episode's folder takes once closed, after one more message of
        ``payload`` bytes on ``topic_id`` when given."""
        bound = _FIXED + self.bytes + self.messages * self._per_message + self._topics_bytes
        if topic_id is not None:
            bound += payload + self._per_message
            if topic_id not in self._connections:
                bound += self._topic_cost(topic_id)
        return bound

    def write(self, t_ns: int, topic_id: int, data: bytes) -> None:
        """Append one serialized message received at ``t_ns`` (ns)."""
        conn = self._connections.get(topic_id)
        if conn is None:
            conn = self._connection(topic_id)
        self._writer.write(conn, t_ns, data)
        self.bytes += len(data)
        self.messages += 1
        if self.first_ns is None:
            self.first_ns = t_ns
        self.last_ns = t_ns

    def flush(self) -> None:
        """Push what is buffered to the file so a crash loses at most this much.

        MCAP: close the pending chunk (rosbags keeps up to 1 MiB in memory) and flush the file;
        sqlite3: commit (rosbags otherwise commits once, at close). Uses rosbags' storage
        objects, which is why rosbags is pinned.
        """
        storage: Any = self._writer.storage
        if storage is None:
            return
        chunk = getattr(storage, "chunk", None)
        if chunk is not None and hasattr(storage, "close_chunk"):
            if chunk.msgs:
                storage.close_chunk()
            storage.bio.flush()
        conn = getattr(storage, "conn", None)
        if conn is not None:
            conn.commit()

    def set_metadata(self, **fields: Any) -> None:
        """Add or change manifest fields (written at close)."""
        self.manifest.update(fields)

    def close(self, status: str = "complete") -> Path:
        """Finish the bag, write the manifest, move the episode to ``ready/``; its new path."""
        topics = {conn.topic: self._writer.counts[conn.id] for conn in self._connections.values()}
        self.manifest.update(
            status=status,
            complete=status == "complete",
            message_count=self.messages,
            bytes=self.bytes,
            topics=topics,
            first_ns=self.first_ns,
            last_ns=self.last_ns,
            closed_unix=time.time(),
        )
        for key, value in self.manifest.items():
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            self._writer.set_custom_data(f"fw.{key}", text)
        self._writer.close()
        write_manifest(self.folder, self.manifest)
        self.ready_dir.mkdir(parents=True, exist_ok=True)
        target = self.ready_dir / self.name
        os.rename(self.folder, target)
        return target

    def abort(self) -> None:
        """Stop writing without publishing: the folder stays in ``incomplete/`` for recovery."""
        self._writer.abort()
