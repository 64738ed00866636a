"""What a scenario is made of: planar poses, obstacles, the scenario itself, and distances to
obstacle footprints.

A scenario is a pure description (no PyBullet): the world builds it, the planner plans on it, and
it travels as JSON on a latched topic and in episode metadata.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "Obstacle",
    "Pose2D",
    "Scenario",
    "distance_to_obstacle",
    "distance_to_obstacles",
    "obstacle_gap",
]


@dataclass(frozen=True)
class Pose2D:
    """A planar pose in the world frame: position (m) and yaw (rad)."""

    x: float
    y: float
    yaw: float = 0.0


@dataclass(frozen=True)
class Obstacle:
    """A static obstacle standing on the ground.

    ``kind`` is ``"box"`` (sides ``size_x`` × ``size_y``, rotated by ``yaw``) or ``"cylinder"``
    (``radius``). Lengths in m, angles in rad.
    """

    kind: str
    x: float
    y: float
    height: float
    yaw: float = 0.0
    size_x: float = 0.0
    size_y: float = 0.0
    radius: float = 0.0

    @property
    def bounding_radius(self) -> float:
        """Radius of the circle around the footprint (m)."""
        if self.kind == "cylinder":
            return self.radius
        return 0.5 * math.hypot(self.size_x, self.size_y)


@dataclass(frozen=True)
class Scenario:
    """One episode's world: arena side (m), obstacles, start pose and goal position, and the
    family it was drawn from (see :mod:`fw_sim.scenario`)."""

    seed: int
    arena_size: float
    start: Pose2D
    goal: Pose2D
    obstacles: tuple[Obstacle, ...] = field(default_factory=tuple)
    family: str = "open"

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-ready)."""
        data = asdict(self)
        data["obstacles"] = [asdict(o) for o in self.obstacles]
        return data

    def to_json(self) -> str:
        """JSON text with sorted keys (stable for hashing and diffs)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        """Inverse of :meth:`to_dict`."""
        return cls(
            seed=int(data["seed"]),
            arena_size=float(data["arena_size"]),
            start=Pose2D(**data["start"]),
            goal=Pose2D(**data["goal"]),
            obstacles=tuple(Obstacle(**o) for o in data["obstacles"]),
            # Scenarios recorded before there were families are all of the open family.
            family=str(data.get("family", "open")),
        )

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))


def distance_to_obstacle(
    points: npt.NDArray[np.float64], obstacle: Obstacle
) -> npt.NDArray[np.float64]:
    """Distance (m) from each 2D point (N×2 array) to the obstacle's footprint; 0 inside."""
    dx = points[:, 0] - obstacle.x
    dy = points[:, 1] - obstacle.y
    if obstacle.kind == "cylinder":
        return np.maximum(np.hypot(dx, dy) - obstacle.radius, 0.0)
    c, s = math.cos(obstacle.yaw), math.sin(obstacle.yaw)
    local_x = np.abs(c * dx + s * dy) - 0.5 * obstacle.size_x
    local_y = np.abs(-s * dx + c * dy) - 0.5 * obstacle.size_y
    return np.hypot(np.maximum(local_x, 0.0), np.maximum(local_y, 0.0))


def distance_to_obstacles(
    points: npt.NDArray[np.float64], obstacles: tuple[Obstacle, ...] | list[Obstacle]
) -> npt.NDArray[np.float64]:
    """Distance (m) from each point (N×2) to the nearest obstacle; +inf with no obstacles."""
    result = np.full(points.shape[0], np.inf)
    for obstacle in obstacles:
        np.minimum(result, distance_to_obstacle(points, obstacle), out=result)
    return result


def obstacle_gap(a: Obstacle, b: Obstacle) -> float:
    """Free distance between two footprints (m), exact for cylinders, sampled for boxes."""
    if a.kind == "cylinder" and b.kind == "cylinder":
        return math.hypot(a.x - b.x, a.y - b.y) - a.radius - b.radius
    # The distance between convex footprints is reached at a boundary point of one of them:
    # sample both boundaries densely (2 cm) and measure to the other exactly.
    return min(
        float(distance_to_obstacle(_boundary(a), b).min()),
        float(distance_to_obstacle(_boundary(b), a).min()),
    )


def _boundary(o: Obstacle, step: float = 0.02) -> npt.NDArray[np.float64]:
    """Points along the footprint outline (N×2, m)."""
    if o.kind == "cylinder":
        n = max(8, int(2 * math.pi * o.radius / step))
        t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
        return np.stack([o.x + o.radius * np.cos(t), o.y + o.radius * np.sin(t)], axis=1)
    hx, hy = 0.5 * o.size_x, 0.5 * o.size_y
    corners = np.array([[hx, hy], [-hx, hy], [-hx, -hy], [hx, -hy], [hx, hy]])
    pieces = []
    for p0, p1 in itertools.pairwise(corners):
        n = max(2, int(np.linalg.norm(p1 - p0) / step))
        t = np.linspace(0.0, 1.0, n, endpoint=False)[:, None]
        pieces.append(p0 + t * (p1 - p0))
    local = np.concatenate(pieces)
    c, s = math.cos(o.yaw), math.sin(o.yaw)
    rot = np.array([[c, -s], [s, c]])
    return np.asarray(local @ rot.T + np.array([o.x, o.y]), dtype=np.float64)
