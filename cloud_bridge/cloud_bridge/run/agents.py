"""What the robots' cloud agents say in the store: ``robots/<robot_id>/status.json``.

The orchestrator learns that a robot swapped or rolled back a release only from the status
object its agent writes (the same one ``flywheel fleet status`` reads), never from inside the
robot. A status that is missing, not JSON or not an object reads as "nothing said yet".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cloud_bridge.fleet.status import status_key
from cloud_bridge.store import ObjectNotFound, ObjectStore, StoreError

__all__ = ["AgentStatus", "read_agent_status", "read_agents"]


@dataclass(frozen=True)
class AgentStatus:
    """The fields of one status object the run follows."""

    robot_id: str
    #: The release the robot runs (None: its profile's ``classic`` policy).
    active: str | None
    #: The release it would roll back to.
    previous: str | None
    #: The channel it follows and the release that channel names.
    channel: str | None
    channel_release: str | None
    #: Releases it rolled back on its own, with the reason.
    rolled_back: dict[str, str]
    problem: str | None
    #: The agent's clock when it wrote the status (s since the epoch).
    time: float | None
    #: The agent's upload figures (``uploads`` of the status object).
    uploads: dict[str, Any]

    @property
    def running(self) -> str:
        """The release, or ``classic`` before the first swap."""
        return self.active or "classic"


def _text(doc: dict[str, Any], key: str) -> str | None:
    value = doc.get(key)
    return value if isinstance(value, str) else None


def read_agent_status(store: ObjectStore, robot_id: str) -> AgentStatus | None:
    """``robot_id``'s status, None when it wrote none (or none that reads)."""
    try:
        data, _ = store.get_bytes(status_key(robot_id))
        doc = json.loads(data)
    except (ObjectNotFound, ValueError, UnicodeDecodeError):
        return None
    except StoreError:
        return None  # a store hiccup: the next poll asks again
    if not isinstance(doc, dict):
        return None
    rolled_back = doc.get("rolled_back")
    uploads = doc.get("uploads")
    when = doc.get("time")
    return AgentStatus(
        robot_id=robot_id,
        active=_text(doc, "active"),
        previous=_text(doc, "previous"),
        channel=_text(doc, "channel"),
        channel_release=_text(doc, "channel_release"),
        rolled_back=(
            {str(k): str(v) for k, v in rolled_back.items()}
            if isinstance(rolled_back, dict)
            else {}
        ),
        problem=_text(doc, "problem"),
        time=float(when) if isinstance(when, int | float) and not isinstance(when, bool) else None,
        uploads=uploads if isinstance(uploads, dict) else {},
    )


def read_agents(store: ObjectStore, robot_ids: Sequence[str]) -> dict[str, AgentStatus | None]:
    return {robot_id: read_agent_status(store, robot_id) for robot_id in robot_ids}
