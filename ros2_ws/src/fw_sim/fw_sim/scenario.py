"""Seeded scenarios: an arena with box and cylinder obstacles, a start pose and a goal.

A scenario is a pure description (no PyBullet): the world builds it, the expert plans on it, and
it travels as JSON on a latched topic and in episode metadata. The same seed and configuration
always give the same scenario.

Reachability: obstacles keep at least ``obstacle_gap`` between each other and there are no
walls, so when the gap is wider than the robot's turning diameter the robot's free space is
connected and every start reaches every goal.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from fw_common.profile.sim import ScenarioConfig
from fw_sim.errors import ScenarioError

__all__ = [
    "Obstacle",
    "Pose2D",
    "Scenario",
    "distance_to_obstacle",
    "distance_to_obstacles",
    "generate_scenario",
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
    """One episode's world: arena side (m), obstacles, start pose and goal position."""

    seed: int
    arena_size: float
    start: Pose2D
    goal: Pose2D
    obstacles: tuple[Obstacle, ...] = field(default_factory=tuple)

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


def _obstacle_gap(a: Obstacle, b: Obstacle) -> float:
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


def generate_scenario(config: ScenarioConfig, seed: int) -> Scenario:
    """Draw a scenario from ``seed`` (deterministic).

    Start and goal come first (at least ``min_start_goal_distance`` apart, 1 m inside the
    arena), then obstacles by rejection sampling: each keeps ``clearance`` from start and goal
    and ``obstacle_gap`` from every other obstacle. Raises :class:`ScenarioError` when the
    configuration cannot be satisfied within ``max_attempts`` per object.
    """
    rng = np.random.default_rng(seed)
    half = 0.5 * config.arena_size
    margin = min(1.0, 0.25 * config.arena_size)

    def uniform_xy() -> tuple[float, float]:
        x, y = rng.uniform(-half + margin, half - margin, size=2)
        return float(x), float(y)

    for _ in range(config.max_attempts):
        sx, sy = uniform_xy()
        gx, gy = uniform_xy()
        if math.hypot(gx - sx, gy - sy) >= config.min_start_goal_distance:
            break
    else:
        raise ScenarioError("no start/goal pair satisfies min_start_goal_distance")
    start = Pose2D(sx, sy, float(rng.uniform(-math.pi, math.pi)))
    goal = Pose2D(gx, gy, 0.0)
    anchors = np.array([[sx, sy], [gx, gy]])

    kinds = ["box"] * config.box_count + ["cylinder"] * config.cylinder_count
    rng.shuffle(kinds)
    obstacles: list[Obstacle] = []
    for kind in kinds:
        for _ in range(config.max_attempts):
            x, y = uniform_xy()
            if kind == "box":
                lo, hi = config.box_size_range
                sx_, sy_ = rng.uniform(lo, hi, size=2)
                candidate = Obstacle(
                    kind="box",
                    x=x,
                    y=y,
                    height=config.obstacle_height,
                    yaw=float(rng.uniform(-math.pi, math.pi)),
                    size_x=float(sx_),
                    size_y=float(sy_),
                )
            else:
                lo, hi = config.cylinder_radius_range
                candidate = Obstacle(
                    kind="cylinder",
                    x=x,
                    y=y,
                    height=config.obstacle_height,
                    radius=float(rng.uniform(lo, hi)),
                )
            if distance_to_obstacle(anchors, candidate).min() < config.clearance:
                continue
            if any(_obstacle_gap(candidate, other) < config.obstacle_gap for other in obstacles):
                continue
            obstacles.append(candidate)
            break
        else:
            raise ScenarioError(
                f"could not place obstacle {len(obstacles) + 1} of {len(kinds)}: the arena is too "
                "small for the requested counts, gap and clearance"
            )
    return Scenario(
        seed=seed,
        arena_size=config.arena_size,
        start=start,
        goal=goal,
        obstacles=tuple(obstacles),
    )
