"""Clearance: the free distance (m) between the robot's body and the nearest obstacle, from
ground truth.

The body is the profile's footprint box (``robot.footprint``) placed at the ground-truth pose of
``base_link``; obstacles are the scenario's footprints. Both are convex, so when they do not
overlap their distance is reached at a corner of one of them: the distance is exact for boxes
(corners of each against the other) and for cylinders (centre against the body, less the
radius). Overlapping shapes give 0 (a collision, which the world reports on its own).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from fw_common.profile.body import FootprintBox
from fw_sim.scenario import Obstacle, distance_to_obstacle

__all__ = ["body_box", "clearance"]


def body_box(footprint: FootprintBox, x: float, y: float, yaw: float) -> Obstacle:
    """The robot's body at pose (x, y, yaw) in the world, as a box obstacle."""
    length = footprint.front + footprint.rear
    width = footprint.left + footprint.right
    # The box's centre in base_link, then in the world.
    cx = 0.5 * (footprint.front - footprint.rear)
    cy = 0.5 * (footprint.left - footprint.right)
    c, s = math.cos(yaw), math.sin(yaw)
    return Obstacle(
        kind="box",
        x=x + c * cx - s * cy,
        y=y + s * cx + c * cy,
        height=0.0,
        yaw=yaw,
        size_x=length,
        size_y=width,
    )


def _corners(box: Obstacle) -> npt.NDArray[np.float64]:
    hx, hy = 0.5 * box.size_x, 0.5 * box.size_y
    local = np.array([[hx, hy], [-hx, hy], [-hx, -hy], [hx, -hy]])
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    rotated = local @ np.array([[c, s], [-s, c]])
    return np.asarray(rotated + np.array([box.x, box.y]), dtype=np.float64)


def clearance(body: Obstacle, obstacles: tuple[Obstacle, ...] | list[Obstacle]) -> float:
    """Free distance (m) from ``body`` (a box, see :func:`body_box`) to the nearest of
    ``obstacles``; +inf with none, 0 when touching or overlapping."""
    nearest = math.inf
    body_corners = _corners(body)
    body_radius = body.bounding_radius
    for obstacle in obstacles:
        # Bounding circles first: most obstacles are far, and this check costs no numpy call.
        reach = math.hypot(obstacle.x - body.x, obstacle.y - body.y) - body_radius
        if reach - obstacle.bounding_radius >= nearest:
            continue
        if obstacle.kind == "cylinder":
            centre = np.array([[obstacle.x, obstacle.y]])
            d = float(distance_to_obstacle(centre, body)[0]) - obstacle.radius
        else:
            d = min(
                float(distance_to_obstacle(body_corners, obstacle).min()),
                float(distance_to_obstacle(_corners(obstacle), body).min()),
            )
        nearest = min(nearest, max(d, 0.0))
    return nearest
