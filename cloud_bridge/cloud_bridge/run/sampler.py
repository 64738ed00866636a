"""The run's view of the fleet over time: ``timeline.jsonl`` and ``uploads.jsonl``.

A :class:`StoreSampler` polls the store in a thread for the whole run:

- each robot's status object (``robots/<id>/status.json``): a line goes to ``timeline.jsonl``
  whenever what it runs, what it would roll back to, its channel or its problem changes, with
  ``event`` ``swap`` (a new active release), ``rollback`` (the release it ran is now among its
  rolled-back ones) or ``status`` (anything else, the first sighting included);
- the episode objects under ``episodes/``: one line in ``uploads.jsonl`` per object the first
  time it is seen, with its size and the store's write time.

It reads only the store, as an operator's dashboard would. On a resumed run it first reads
both files back, so nothing is logged twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from cloud_bridge.run.agents import AgentStatus, read_agent_status
from cloud_bridge.run.files import append_jsonl, read_jsonl
from cloud_bridge.run.layout import RunLayout
from cloud_bridge.store import ObjectStore, StoreError

__all__ = ["EPISODES_PREFIX", "StoreSampler", "timeline_event"]

_log = logging.getLogger(__name__)

EPISODES_PREFIX = "episodes/"
#: The status fields whose change makes a timeline line.
_WATCHED = ("active", "previous", "channel", "channel_release", "problem")


def timeline_event(before: dict[str, Any] | None, now: AgentStatus) -> str | None:
    """The timeline event for ``now`` after ``before`` (the last line logged for the robot),
    None when nothing watched changed."""
    if before is not None and all(before.get(k) == getattr(now, k) for k in _WATCHED):
        return None
    if before is None or before.get("active") == now.active:
        return "status"
    gone = before.get("active")
    if gone is not None and gone in now.rolled_back:
        return "rollback"
    return "swap"


class StoreSampler:
    """Poll ``store`` every ``period`` seconds for ``robot_ids``' status and every episode
    object (see the module docstring). A context manager: the thread runs inside it."""

    def __init__(
        self,
        store: ObjectStore,
        layout: RunLayout,
        robot_ids: Sequence[str],
        *,
        period: float = 1.0,
    ) -> None:
        self.store = store
        self.layout = layout
        self.robot_ids = list(robot_ids)
        self.period = period
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: dict[str, dict[str, Any]] = {}
        self._seen: set[str] = set()
        for record in read_jsonl(layout.timeline)[0]:
            self._last[str(record.get("robot_id"))] = record
        for record in read_jsonl(layout.uploads)[0]:
            self._seen.add(str(record.get("key")))

    def sample(self) -> None:
        """One poll (also called by stages that must not miss a change before they end)."""
        with self._lock:
            now = time.time()
            for robot_id in self.robot_ids:
                status = read_agent_status(self.store, robot_id)
                if status is None:
                    continue
                event = timeline_event(self._last.get(robot_id), status)
                if event is None:
                    continue
                record = {
                    "time": now,
                    "robot_id": robot_id,
                    "event": event,
                    **{k: getattr(status, k) for k in _WATCHED},
                    "rolled_back": sorted(status.rolled_back),
                    "agent_time": status.time,
                }
                append_jsonl(self.layout.timeline, record)
                self._last[robot_id] = record
            try:
                objects = list(self.store.list(EPISODES_PREFIX))
            except StoreError as exc:
                _log.warning("uploads not sampled: %s", exc)
                return
            for info in objects:
                if info.key in self._seen:
                    continue
                parts = info.key.split("/")
                if len(parts) < 4:
                    continue  # not episodes/<robot>/<episode>/<file>
                self._seen.add(info.key)
                append_jsonl(
                    self.layout.uploads,
                    {
                        "time": info.last_modified,
                        "robot_id": parts[1],
                        "key": info.key,
                        "bytes": info.size,
                    },
                )

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.sample()
            except Exception:  # a sampling bug must not end the run: the stages do the work
                _log.exception("sampling the store failed")

    def __enter__(self) -> StoreSampler:
        self._thread = threading.Thread(target=self._loop, name="store-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()
