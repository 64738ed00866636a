"""The walled scenario families: what a reactive controller gets wrong.

Every family encloses the arena with four walls (the robot cannot drive around anything) and
builds, in a canonical frame where the start is on the left (-x) and the goal on the right (+x):

* ``walls``: one or two long free-standing walls across the way, open at both ends;
* ``corridor``: two walls from opposite sides, so the way bends through a corridor that first
  leads away from the goal;
* ``cul_de_sac``: the start inside a U open away from the goal, whose back wall (with flanges)
  stands between the robot and the goal;
* ``narrow_gap``: a wall across the whole arena with one gap a little wider than the robot;
* ``clutter``: many small boxes and cylinders with gaps below the robot's turning diameter.

The layout is then turned by a multiple of 90° and maybe mirrored (the enclosure is square, so
it stays the same), and kept only if the robot fits from start to goal: on a 0.1 m grid, the
cells with at least :data:`PASSABLE_CLEARANCE` to every obstacle must connect them. Walls are
boxes, which the world builds and the lidar sees like any other obstacle.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from fw_common.profile.sim import ScenarioConfig
from fw_sim.errors import ScenarioError
from fw_sim.layout import Obstacle, Pose2D, Scenario, distance_to_obstacles, obstacle_gap

__all__ = [
    "PASSABLE_CLEARANCE",
    "START_CLEARANCE",
    "WALLED_FAMILIES",
    "generate_walled",
    "passable",
]

#: A grid cell is passable when every obstacle is at least this far (m): the Husky's half
#: width (0.335 m) and a margin for the body's length when it is not perfectly aligned.
PASSABLE_CLEARANCE = 0.55
#: Start and goal keep at least this far from obstacles (m): the Husky's half diagonal (0.6 m)
#: and a margin, so the robot can turn in place where it starts.
START_CLEARANCE = 0.75
#: Whole layouts drawn per scenario before the generator gives up.
_LAYOUT_ATTEMPTS = 200
_GRID = 0.1  # m, passability grid

Layout = tuple[Pose2D, Pose2D, list[Obstacle]]
_Builder = Callable[[ScenarioConfig, np.random.Generator], Layout]


def _draw(rng: np.random.Generator, bounds: list[float]) -> float:
    """A uniform draw within ``[low, high]`` (a profile range)."""
    return float(rng.uniform(bounds[0], bounds[1]))


def _wall(x0: float, y0: float, x1: float, y1: float, config: ScenarioConfig) -> Obstacle:
    """A box wall along the segment (x0, y0)-(x1, y1), extended by half its thickness at both
    ends so that walls meeting at a corner close it."""
    t = config.wall_thickness
    return Obstacle(
        kind="box",
        x=0.5 * (x0 + x1),
        y=0.5 * (y0 + y1),
        height=config.obstacle_height,
        yaw=math.atan2(y1 - y0, x1 - x0),
        size_x=math.hypot(x1 - x0, y1 - y0) + t,
        size_y=t,
    )


def _enclosure(config: ScenarioConfig) -> list[Obstacle]:
    """Four walls just outside the arena's edges."""
    h = 0.5 * config.arena_size + 0.5 * config.wall_thickness
    return [
        _wall(-h, -h, h, -h, config),
        _wall(-h, h, h, h, config),
        _wall(-h, -h, -h, h, config),
        _wall(h, -h, h, h, config),
    ]


def _walls(config: ScenarioConfig, rng: np.random.Generator) -> Layout:
    h = 0.5 * config.arena_size
    start = Pose2D(-h + 1.0, float(rng.uniform(-h + 1.5, h - 1.5)), float(rng.uniform(-3, 3)))
    goal = Pose2D(h - 1.0, float(rng.uniform(-h + 1.5, h - 1.5)))
    count = int(rng.integers(1, 3))
    xs = np.linspace(-0.25 * h, 0.25 * h, count) if count > 1 else np.zeros(1)
    obstacles = []
    for x in xs:
        # Centred near the straight line from start to goal, with at least 1.5 m at each end.
        centre = float(rng.uniform(-1.0, 1.0)) + 0.5 * (start.y + goal.y)
        half = float(rng.uniform(0.3, 0.4)) * config.arena_size
        low, high = max(centre - half, -h + 1.5), min(centre + half, h - 1.5)
        x = float(x + rng.uniform(-0.5, 0.5))
        obstacles.append(_wall(x, low, x, high, config))
    return start, goal, obstacles


def _corridor(config: ScenarioConfig, rng: np.random.Generator) -> Layout:
    h = 0.5 * config.arena_size
    t = config.wall_thickness
    width = _draw(rng, config.corridor_width_range)
    centre = float(rng.uniform(-0.5, 0.5))
    left, right = centre - 0.5 * width - 0.5 * t, centre + 0.5 * width + 0.5 * t
    # The left wall hangs from the top and leaves the way open at the bottom; the right wall
    # stands on the bottom and leaves it open at the top: start bottom-left, goal bottom-right,
    # so the straight line to the goal runs into a wall and the way leads away from it first.
    obstacles = [
        _wall(left, h, left, -h + width, config),
        _wall(right, -h, right, h - width, config),
    ]
    start = Pose2D(
        float(rng.uniform(-h + 1.0, left - 1.5)),
        float(rng.uniform(0.0, h - 1.5)),
        float(rng.uniform(-3, 3)),
    )
    goal = Pose2D(float(rng.uniform(right + 1.5, h - 1.0)), float(rng.uniform(-h + 1.5, h - 1.5)))
    return start, goal, obstacles


def _cul_de_sac(config: ScenarioConfig, rng: np.random.Generator) -> Layout:
    h = 0.5 * config.arena_size
    t = config.wall_thickness
    width = _draw(rng, config.corridor_width_range)
    depth = float(rng.uniform(2.5, 3.5))
    flange = float(rng.uniform(0.3, 1.0))
    back = float(rng.uniform(-0.5, 0.5))
    centre = float(rng.uniform(-1.0, 1.0))
    side = 0.5 * width + 0.5 * t
    obstacles = [
        _wall(back, centre - side - flange, back, centre + side + flange, config),
        _wall(back - depth, centre - side, back, centre - side, config),
        _wall(back - depth, centre + side, back, centre + side, config),
    ]
    # Inside the U, facing its back wall and the goal behind it.
    start = Pose2D(
        back - 0.5 * t - float(rng.uniform(1.0, 1.5)), centre, float(rng.uniform(-0.3, 0.3))
    )
    goal = Pose2D(float(rng.uniform(back + 2.0, h - 1.0)), centre + float(rng.uniform(-1.0, 1.0)))
    return start, goal, obstacles


def _narrow_gap(config: ScenarioConfig, rng: np.random.Generator) -> Layout:
    h = 0.5 * config.arena_size
    x = float(rng.uniform(-1.0, 1.0))
    gap = _draw(rng, config.gap_width_range)
    gap_y = float(rng.uniform(-h + 1.5, h - 1.5))
    obstacles = [
        _wall(x, -h, x, gap_y - 0.5 * gap - 0.5 * config.wall_thickness, config),
        _wall(x, gap_y + 0.5 * gap + 0.5 * config.wall_thickness, x, h, config),
    ]
    start = Pose2D(
        float(rng.uniform(-h + 1.0, x - 1.5)),
        float(rng.uniform(-h + 1.0, h - 1.0)),
        float(rng.uniform(-3, 3)),
    )
    goal = Pose2D(float(rng.uniform(x + 1.5, h - 1.0)), float(rng.uniform(-h + 1.0, h - 1.0)))
    return start, goal, obstacles


def _clutter(config: ScenarioConfig, rng: np.random.Generator) -> Layout:
    h = 0.5 * config.arena_size
    start = Pose2D(-h + 1.0, float(rng.uniform(-h + 1.0, h - 1.0)), float(rng.uniform(-3, 3)))
    goal = Pose2D(h - 1.0, float(rng.uniform(-h + 1.0, h - 1.0)))
    anchors = np.array([[start.x, start.y], [goal.x, goal.y]])
    obstacles: list[Obstacle] = []
    for _ in range(config.clutter_count):
        for _ in range(config.max_attempts):
            x, y = (float(v) for v in rng.uniform(-h + 0.3, h - 0.3, size=2))
            if rng.uniform() < 0.5:
                sx, sy = rng.uniform(0.3, 0.9, size=2)
                candidate = Obstacle(
                    "box", x, y, config.obstacle_height, float(rng.uniform(-3, 3)), sx, sy
                )
            else:
                radius = float(rng.uniform(0.15, 0.35))
                candidate = Obstacle("cylinder", x, y, config.obstacle_height, radius=radius)
            if distance_to_obstacles(anchors, [candidate]).min() < 1.0:
                continue
            if any(obstacle_gap(candidate, o) < config.clutter_gap for o in obstacles):
                continue
            obstacles.append(candidate)
            break
    return start, goal, obstacles


_BUILDERS: dict[str, _Builder] = {
    "walls": _walls,
    "corridor": _corridor,
    "cul_de_sac": _cul_de_sac,
    "narrow_gap": _narrow_gap,
    "clutter": _clutter,
}
#: The families built here, in a fixed order (it numbers their random streams).
WALLED_FAMILIES = tuple(_BUILDERS)


def _turned(layout: Layout, quarter_turns: int, mirror: bool) -> Layout:
    """The layout turned by ``quarter_turns`` × 90° about the origin, then mirrored in x."""
    angle = 0.5 * math.pi * quarter_turns
    c, s = round(math.cos(angle)), round(math.sin(angle))
    sign = -1.0 if mirror else 1.0

    def xy(x: float, y: float) -> tuple[float, float]:
        return c * x - s * y, sign * (s * x + c * y)

    def yaw(a: float) -> float:
        return math.remainder(sign * (a + angle), 2.0 * math.pi)

    start, goal, obstacles = layout
    turned = [
        Obstacle(o.kind, *xy(o.x, o.y), o.height, yaw(o.yaw), o.size_x, o.size_y, o.radius)
        for o in obstacles
    ]
    return (
        Pose2D(*xy(start.x, start.y), yaw(start.yaw)),
        Pose2D(*xy(goal.x, goal.y), 0.0),
        turned,
    )


def passable(
    arena_size: float,
    start: Pose2D,
    goal: Pose2D,
    obstacles: tuple[Obstacle, ...] | list[Obstacle],
    clearance: float = PASSABLE_CLEARANCE,
) -> bool:
    """Whether the cells of the arena at least ``clearance`` (m) from every obstacle connect
    ``start`` to ``goal`` (8-connected, 0.1 m cells)."""
    half = 0.5 * arena_size
    n = math.ceil(arena_size / _GRID)
    centres = -half + (np.arange(n) + 0.5) * _GRID
    xs, ys = np.meshgrid(centres, centres)
    points = np.stack([xs.ravel(), ys.ravel()], axis=1)
    free: npt.NDArray[np.bool_] = (
        distance_to_obstacles(points, obstacles).reshape(xs.shape) >= clearance
    )
    labels, _ = ndimage.label(free, structure=np.ones((3, 3)))

    def label_at(pose: Pose2D) -> int:
        col = min(max(int((pose.x + half) / _GRID), 0), n - 1)
        row = min(max(int((pose.y + half) / _GRID), 0), n - 1)
        return int(labels[row, col])

    a, b = label_at(start), label_at(goal)
    return a != 0 and a == b


def generate_walled(config: ScenarioConfig, family: str, seed: int) -> Scenario:
    """Draw a scenario of a walled ``family`` from ``seed`` (deterministic); raises
    :class:`ScenarioError` when no reachable layout turns up within the attempts."""
    if family not in _BUILDERS:
        raise ScenarioError(f"unknown walled family {family!r}; known: {WALLED_FAMILIES}")
    rng = np.random.default_rng([seed, 1 + WALLED_FAMILIES.index(family)])
    enclosure = _enclosure(config)
    for _ in range(_LAYOUT_ATTEMPTS):
        try:
            layout = _BUILDERS[family](config, rng)
        except ValueError as exc:  # a range with its ends swapped: the arena is too small
            raise ScenarioError(
                f"a {family} layout does not fit in a {config.arena_size:g} m arena: {exc}"
            ) from exc
        start, goal, inner = _turned(layout, int(rng.integers(4)), bool(rng.integers(2)))
        obstacles = inner + enclosure
        ends = np.array([[start.x, start.y], [goal.x, goal.y]])
        if distance_to_obstacles(ends, obstacles).min() < START_CLEARANCE:
            continue
        if not passable(config.arena_size, start, goal, obstacles):
            continue
        return Scenario(
            seed=seed,
            arena_size=config.arena_size,
            start=start,
            goal=goal,
            obstacles=tuple(obstacles),
            family=family,
        )
    raise ScenarioError(
        f"no reachable {family} layout in {_LAYOUT_ATTEMPTS} draws for seed {seed}: the arena "
        "is too small for the configured widths"
    )
