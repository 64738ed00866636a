"""Contact-begin events between the robot and the obstacles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pybullet as p

__all__ = ["ContactEvent", "ContactMonitor"]


@dataclass(frozen=True)
class ContactEvent:
    """The robot started touching an obstacle.

    ``obstacle_index`` indexes ``Scenario.obstacles``; ``position`` is the first contact point
    on the obstacle in the world frame (m); ``stamp_ns`` is sim time.
    """

    stamp_ns: int
    obstacle_index: int
    body_id: int
    robot_link: int
    position: tuple[float, float, float]


class ContactMonitor:
    """Reports each obstacle once when contact begins, again only after contact ended."""

    def __init__(
        self,
        client: int,
        robot: int,
        link: int = -1,
        margin: float = 0.2,
        far_interval_ns: int = 33_000_000,
    ) -> None:
        """``link`` is the robot link whose bounding box, grown by ``margin`` (m) sideways,
        encloses every part of the robot that can touch an obstacle.

        While no obstacle is within the margin, the next check looks again only
        ``far_interval_ns`` of sim time later: in the default 33 ms the robot would have to move
        at 6 m/s to cross the margin (the Husky tops out at 1 m/s).
        """
        self._client = client
        self._robot = robot
        self._link = link
        self._margin = margin
        self._far_interval_ns = far_interval_ns
        self._next_look_ns: int | None = None
        self._obstacles: Mapping[int, int] = {}
        self._touching: set[int] = set()

    def watch(self, obstacles: Mapping[int, int]) -> None:
        """Watch these obstacles, ``{PyBullet body id: scenario obstacle index}``."""
        self._obstacles = dict(obstacles)
        self._touching = set()
        self._next_look_ns = None

    @property
    def touching(self) -> frozenset[int]:
        """Scenario indices of the obstacles in contact now."""
        return frozenset(self._obstacles[b] for b in self._touching)

    def check(self, now_ns: int) -> list[ContactEvent]:
        """Contact begins since the last check (call after a physics step)."""
        obstacles = self._obstacles
        now: dict[int, tuple[int, tuple[float, float, float]]] = {}
        if not self._touching:
            if self._next_look_ns is not None and now_ns < self._next_look_ns:
                return []
            # Broad phase first: most steps no obstacle is anywhere near the chassis, and an
            # AABB query is several times cheaper than listing the wheels' ground contacts.
            low, high = p.getAABB(self._robot, self._link, physicsClientId=self._client)
            m = self._margin
            near = p.getOverlappingObjects(
                [low[0] - m, low[1] - m, low[2]],
                [high[0] + m, high[1] + m, high[2]],
                physicsClientId=self._client,
            )
            if not near or not any(body in obstacles for body, _ in near):
                self._next_look_ns = now_ns + self._far_interval_ns
                return []
        for c in p.getContactPoints(bodyA=self._robot, physicsClientId=self._client):
            body = c[2]
            if body in obstacles and body not in now:
                now[body] = (c[3], c[6])
        events = [
            ContactEvent(now_ns, obstacles[body], body, link, position)
            for body, (link, position) in now.items()
            if body not in self._touching
        ]
        self._touching = set(now)
        return events
