"""The fleet as its robots last reported it: the ``robots/<robot_id>/status.json`` objects.

Each robot's cloud agent (``fw_cloud_agent``) writes its status object every poll: its release
and channel, the upload queue (from ``cloud_bridge.upload``), its last contact with the store,
and the watch of a newly swapped release (the rate of safety interventions per minute). This
module reads them back without trusting them: an object that is not JSON, or a field of the
wrong type, gives a row that says so, and a status older than ``stale_after`` seconds (the
agent's own ``time``, else the object's write time) marks the robot stale: it stopped writing,
lost the store, or is off.

Keys read (the agent's ``CloudAgent.status()``): ``robot_id``, ``fleet``, ``channel``,
``channel_release``, ``active``, ``problem``, ``last_contact``, ``time``,
``watching.rate_per_min``, ``safety_events_per_min`` (the whole active release's rate, when
the agent reports it), and from ``uploads``: ``queue_episodes``, ``queue_bytes``,
``uploaded_episodes``, ``last_upload_unix``, ``last_contact_unix``, ``error``, ``last_error``.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from typing import Any

from cloud_bridge.store import ObjectStore, StoreError

__all__ = ["STATUS_PREFIX", "RobotStatus", "parse_status", "read_fleet_status", "status_key"]

#: Where robots write their status objects: ``robots/<robot_id>/status.json``.
STATUS_PREFIX = "robots/"
_STATUS_NAME = "status.json"


def status_key(robot_id: str) -> str:
    return f"{STATUS_PREFIX}{robot_id}/{_STATUS_NAME}"


@dataclass(frozen=True)
class RobotStatus:
    """One robot's last status, as far as it could be read."""

    robot_id: str
    #: Release the robot runs (None: its profile's own policy, no release yet).
    release: str | None = None
    #: ``fleet/channel`` it follows, and the release that channel names now.
    fleet: str | None = None
    channel: str | None = None
    channel_release: str | None = None
    #: Episodes (and bytes) waiting for upload.
    queue_episodes: int | None = None
    queue_bytes: int | None = None
    uploaded_episodes: int | None = None
    #: Wall times (s since the epoch): last episode uploaded, last contact with the store
    #: (channel check or upload, whichever is later), when the status was written.
    last_upload: float | None = None
    last_contact: float | None = None
    written: float | None = None
    #: Safety interventions per minute (of the release being watched after a swap, or of the
    #: active release when the agent reports it); None: not reported.
    safety_events_per_min: float | None = None
    #: What the agent (or the reading) says is wrong, if anything.
    problem: str | None = None
    #: The status is older than the staleness limit (or could not be read at all).
    stale: bool = False

    def age(self, now: float) -> float | None:
        return None if self.written is None else max(0.0, now - self.written)


def _number(doc: dict[str, Any], key: str, problems: list[str]) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(f"{key} is not a number: {value!r}")
        return None
    return float(value)


def _count(doc: dict[str, Any], key: str, problems: list[str]) -> int | None:
    value = _number(doc, key, problems)
    if value is None:
        return None
    if value < 0 or value != int(value):
        problems.append(f"{key} is not a count: {value!r}")
        return None
    return int(value)


def _text(doc: dict[str, Any], key: str, problems: list[str]) -> str | None:
    value = doc.get(key)
    if value is None or isinstance(value, str):
        return value
    problems.append(f"{key} is not a string: {value!r}")
    return None


def _section(doc: dict[str, Any], key: str, problems: list[str]) -> dict[str, Any]:
    value = doc.get(key)
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    problems.append(f"{key} is not an object")
    return {}


def _latest(*values: float | None) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def parse_status(
    robot_id: str, data: bytes, *, written: float | None, now: float, stale_after: float
) -> RobotStatus:
    """A :class:`RobotStatus` from one status object's bytes (``written``: the object's write
    time, used when the document has no ``time``)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        return RobotStatus(robot_id, problem=f"unreadable status object: {exc}", stale=True)
    if not isinstance(doc, dict):
        return RobotStatus(robot_id, problem="status object is not a JSON object", stale=True)
    problems: list[str] = []
    uploads = _section(doc, "uploads", problems)
    watching = _section(doc, "watching", problems)
    said = _text(doc, "robot_id", problems)
    if said is not None and said != robot_id:
        problems.append(f"written under {robot_id} but says it is {said}")
    rate = _number(doc, "safety_events_per_min", problems)
    if rate is None:
        rate = _number(watching, "rate_per_min", problems)
    written_at = _number(doc, "time", problems)
    if written_at is None:
        written_at = written
    fields: dict[str, Any] = {
        "release": _text(doc, "active", problems),
        "fleet": _text(doc, "fleet", problems),
        "channel": _text(doc, "channel", problems),
        "channel_release": _text(doc, "channel_release", problems),
        "queue_episodes": _count(uploads, "queue_episodes", problems),
        "queue_bytes": _count(uploads, "queue_bytes", problems),
        "uploaded_episodes": _count(uploads, "uploaded_episodes", problems),
        "last_upload": _number(uploads, "last_upload_unix", problems),
        "last_contact": _latest(
            _number(doc, "last_contact", problems), _number(uploads, "last_contact_unix", problems)
        ),
    }
    # After every field is read, so that each one's problem is listed.
    said_wrong = [
        _text(doc, "problem", problems),
        _text(uploads, "error", problems) or _text(uploads, "last_error", problems),
    ]
    problem = "; ".join(p for p in [*said_wrong, *problems] if p) or None
    return RobotStatus(
        robot_id=robot_id,
        **fields,
        written=written_at,
        safety_events_per_min=rate,
        problem=problem,
        stale=written_at is None or now - written_at > stale_after,
    )


def _natural(robot_id: str) -> list[Any]:
    # robot_2 before robot_10.
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", robot_id)]


def read_fleet_status(
    store: ObjectStore, *, stale_after: float = 120.0, now: float | None = None
) -> list[RobotStatus]:
    """Every robot's status in ``store``, in robot order. A status object that vanished or
    cannot be read gives a stale row with the reason; a store that cannot be listed raises
    :class:`cloud_bridge.store.StoreError`."""
    now = time.time() if now is None else now
    rows = []
    for info in store.list(STATUS_PREFIX):
        robot_id, _, name = info.key[len(STATUS_PREFIX) :].partition("/")
        if name != _STATUS_NAME or not robot_id:
            continue
        try:
            data, current = store.get_bytes(info.key)
        except StoreError as exc:
            rows.append(RobotStatus(robot_id, problem=f"status not readable: {exc}", stale=True))
            continue
        rows.append(
            parse_status(
                robot_id, data, written=current.last_modified, now=now, stale_after=stale_after
            )
        )
    return sorted(rows, key=lambda row: _natural(row.robot_id))
