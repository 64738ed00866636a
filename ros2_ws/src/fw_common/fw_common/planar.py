"""Planar (SE(2)) pose arithmetic on ``(x, y, yaw)`` tuples: metres and radians."""

from __future__ import annotations

import math

__all__ = ["Pose2", "compose", "inverse", "wrap_angle"]

#: A planar pose or transform: x (m), y (m), yaw (rad).
Pose2 = tuple[float, float, float]


def wrap_angle(angle: float) -> float:
    """``angle`` (rad) wrapped into (-pi, pi]."""
    return math.atan2(math.sin(angle), math.cos(angle))


def compose(a: Pose2, b: Pose2) -> Pose2:
    """``a ∘ b``: pose ``b`` (given in frame ``a``) expressed in ``a``'s parent frame."""
    c, s = math.cos(a[2]), math.sin(a[2])
    return (a[0] + c * b[0] - s * b[1], a[1] + s * b[0] + c * b[1], wrap_angle(a[2] + b[2]))


def inverse(a: Pose2) -> Pose2:
    """The inverse transform: ``compose(a, inverse(a)) == (0, 0, 0)``."""
    c, s = math.cos(a[2]), math.sin(a[2])
    return (-c * a[0] - s * a[1], s * a[0] - c * a[1], wrap_angle(-a[2]))
