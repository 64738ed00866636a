"""A goal pose in ``odom`` expressed in ``base_link``, given the robot's pose in ``odom``."""

from __future__ import annotations

import math

__all__ = ["goal_in_base"]


def goal_in_base(
    goal: tuple[float, float, float], robot: tuple[float, float, float]
) -> tuple[float, float, float]:
    """``(x, y, yaw)`` of ``goal`` relative to ``robot``; both ``(x, y, yaw)`` in the same
    frame (m, rad). The result's yaw is wrapped into [-pi, pi)."""
    gx, gy, gyaw = goal
    rx, ry, ryaw = robot
    dx, dy = gx - rx, gy - ry
    c, s = math.cos(ryaw), math.sin(ryaw)
    yaw = (gyaw - ryaw + math.pi) % (2.0 * math.pi) - math.pi
    return (c * dx + s * dy, -s * dx + c * dy, yaw)
