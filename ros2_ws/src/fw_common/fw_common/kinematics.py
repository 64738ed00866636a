"""Skid-steer (differential) kinematics with wheel speed and acceleration limits.

Shared by the actuator bridge (commands and odometry) and the simulator's headless episodes, so
both turn twists into wheel speeds with the same model and the robot's wheel geometry from the
profile's ``robot.wheels``.

Conventions (REP-103): linear velocity ``v`` (m/s) along +x of ``base_link``, angular velocity
``w`` (rad/s) about +z (counter-clockwise positive); wheel speeds in rad/s, positive forward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fw_common.profile.body import WheelGeometry

__all__ = ["SkidSteerKinematics", "WheelSpeeds", "is_finite_twist", "limit_acceleration"]


@dataclass(frozen=True)
class WheelSpeeds:
    """Angular speeds of the left and right sides (rad/s)."""

    left: float
    right: float


@dataclass(frozen=True)
class SkidSteerKinematics:
    """Kinematics of a skid-steer base modelled as a differential drive.

    ``track`` is the *effective* separation (geometric separation × slip multiplier): a
    skid-steer base turns as if its wheels were further apart than they are.
    """

    wheel_radius: float  #: (m)
    track: float  #: effective wheel separation (m)

    @classmethod
    def from_geometry(cls, wheels: WheelGeometry) -> SkidSteerKinematics:
        """The kinematics of a robot's wheels (the profile's ``robot.wheels``)."""
        return cls(wheel_radius=wheels.radius, track=wheels.track)

    def wheel_speeds(self, linear: float, angular: float) -> WheelSpeeds:
        """Body twist (m/s, rad/s) → wheel speeds (rad/s)."""
        half = 0.5 * self.track * angular
        return WheelSpeeds(
            left=(linear - half) / self.wheel_radius,
            right=(linear + half) / self.wheel_radius,
        )

    def twist(self, left: float, right: float) -> tuple[float, float]:
        """Wheel speeds (rad/s) → body twist (m/s, rad/s). Also maps wheel *angle increments*
        (rad) to the body's *displacement* (m, rad)."""
        v_left = left * self.wheel_radius
        v_right = right * self.wheel_radius
        return 0.5 * (v_left + v_right), (v_right - v_left) / self.track

    def limited_wheel_speeds(
        self, linear: float, angular: float, max_wheel_speed: float
    ) -> WheelSpeeds:
        """Wheel speeds for a twist, scaled down together so neither side exceeds
        ``max_wheel_speed`` (rad/s). Scaling both keeps the commanded curvature, so the robot
        follows the same path, only slower."""
        speeds = self.wheel_speeds(linear, angular)
        peak = max(abs(speeds.left), abs(speeds.right))
        if not math.isfinite(peak):
            # A huge but finite twist overflows; its direction is all that matters here.
            norm = max(abs(linear), abs(angular))
            speeds = self.wheel_speeds(linear / norm, angular / norm)
            peak = max(abs(speeds.left), abs(speeds.right))
        if peak <= max_wheel_speed:
            return speeds
        scale = max_wheel_speed / peak
        return WheelSpeeds(speeds.left * scale, speeds.right * scale)


def limit_acceleration(
    current: WheelSpeeds, target: WheelSpeeds, max_acceleration: float, dt: float
) -> WheelSpeeds:
    """Move ``current`` toward ``target`` by at most ``max_acceleration * dt`` (rad/s) per side.

    Both sides are scaled by the same fraction so that a turn does not become a different turn
    while it accelerates.
    """
    max_step = max_acceleration * max(dt, 0.0)
    d_left = target.left - current.left
    d_right = target.right - current.right
    peak = max(abs(d_left), abs(d_right))
    if peak <= max_step or peak == 0.0:
        return target
    fraction = max_step / peak
    return WheelSpeeds(current.left + d_left * fraction, current.right + d_right * fraction)


def is_finite_twist(linear: float, angular: float) -> bool:
    """True when both components are finite numbers."""
    return math.isfinite(linear) and math.isfinite(angular)
