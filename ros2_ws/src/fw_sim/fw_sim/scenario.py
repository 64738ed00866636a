"""Seeded scenarios: an arena with obstacles, a start pose and a goal, in several families.

``ScenarioConfig.family`` chooses what to build: ``open`` (below: scattered boxes and cylinders,
no walls), the walled families of :mod:`fw_sim.walled` (``walls``, ``corridor``,
``cul_de_sac``, ``narrow_gap``, ``clutter``), or ``mixed``, which draws one of those six from
the seed. The same seed and configuration always give the same scenario; the named seed sets
that keep training and evaluation apart are in :mod:`fw_sim.seed_sets`.

Reachability of ``open``: obstacles keep at least ``obstacle_gap`` between each other and there
are no walls, so when the gap is wider than the robot's turning diameter the robot's free space
is connected and every start reaches every goal. The walled families check it (see
:func:`fw_sim.walled.passable`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from fw_common.profile.sim import SCENARIO_FAMILIES, ScenarioConfig
from fw_sim.errors import ScenarioError
from fw_sim.layout import (
    Obstacle,
    Pose2D,
    Scenario,
    distance_to_obstacle,
    distance_to_obstacles,
    obstacle_gap,
)
from fw_sim.seed_sets import SeedSetName, seed_set
from fw_sim.walled import WALLED_FAMILIES, generate_walled

__all__ = [
    "CONCRETE_FAMILIES",
    "FAMILIES",
    "Obstacle",
    "Pose2D",
    "Scenario",
    "SeedSetName",
    "distance_to_obstacle",
    "distance_to_obstacles",
    "family_of",
    "generate_scenario",
    "seed_set",
]

#: Every value of ``ScenarioConfig.family``.
FAMILIES: tuple[str, ...] = SCENARIO_FAMILIES
#: The families ``mixed`` draws from.
CONCRETE_FAMILIES: tuple[str, ...] = ("open", *WALLED_FAMILIES)
#: Mixed into the seed to draw the family of a ``mixed`` scenario.
_MIXED_STREAM = 0x4D49
#: Obstacle layouts an ``open`` scenario draws before its configuration counts as impossible.
_OPEN_LAYOUTS = 20


def family_of(family: str, seed: int) -> str:
    """The concrete family a scenario of ``family`` and ``seed`` is built from."""
    if family == "mixed":
        draw = np.random.default_rng([seed, _MIXED_STREAM]).integers(len(CONCRETE_FAMILIES))
        return CONCRETE_FAMILIES[int(draw)]
    if family not in CONCRETE_FAMILIES:
        raise ScenarioError(f"unknown scenario family {family!r}; known: {FAMILIES}")
    return family


def generate_scenario(config: ScenarioConfig, seed: int) -> Scenario:
    """Draw a scenario of ``config.family`` from ``seed`` (deterministic)."""
    family = family_of(config.family, seed)
    if family == "open":
        return _generate_open(config, seed)
    return generate_walled(config, family, seed)


def _generate_open(config: ScenarioConfig, seed: int) -> Scenario:
    """The ``open`` family.

    Start and goal come first (at least ``min_start_goal_distance`` apart, 1 m inside the
    arena), then obstacles by rejection sampling: each keeps ``clearance`` from start and goal
    and ``obstacle_gap`` from every other obstacle. Obstacles placed early can leave no room
    for a later one (about one seed in 800 with the default counts): then the obstacles are
    drawn afresh, from the same generator, so a seed that places them all at once keeps its
    scenario. Raises :class:`ScenarioError` when no layout of :data:`_OPEN_LAYOUTS` can be
    completed within ``max_attempts`` per object.
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
    for _ in range(_OPEN_LAYOUTS):
        placed = _place_obstacles(config, kinds, anchors, uniform_xy, rng)
        if placed is not None:
            return Scenario(
                seed=seed,
                arena_size=config.arena_size,
                start=start,
                goal=goal,
                obstacles=tuple(placed),
            )
    raise ScenarioError(
        f"could not place {len(kinds)} obstacles in {_OPEN_LAYOUTS} layouts: the arena is too "
        "small for the requested counts, gap and clearance"
    )


def _place_obstacles(
    config: ScenarioConfig,
    kinds: list[str],
    anchors: npt.NDArray[np.float64],
    uniform_xy: Callable[[], tuple[float, float]],
    rng: np.random.Generator,
) -> list[Obstacle] | None:
    """One layout of ``kinds`` by rejection sampling; None when an obstacle finds no room."""
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
            if any(obstacle_gap(candidate, other) < config.obstacle_gap for other in obstacles):
                continue
            obstacles.append(candidate)
            break
        else:
            return None
    return obstacles
