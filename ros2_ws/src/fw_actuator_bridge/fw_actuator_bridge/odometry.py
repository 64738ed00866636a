"""Wheel odometry: integrate encoder angles into a planar pose in the odom frame."""

from __future__ import annotations

import math
from dataclasses import dataclass

from fw_common.kinematics import SkidSteerKinematics

__all__ = ["OdometryState", "WheelOdometry"]


@dataclass(frozen=True)
class OdometryState:
    """Pose in ``odom`` and body twist."""

    x: float  #: (m)
    y: float  #: (m)
    yaw: float  #: (rad), in (-pi, pi]
    linear: float  #: forward speed (m/s)
    angular: float  #: yaw rate (rad/s)
    stamp_ns: int  #: time of the encoder reading (ns)


class WheelOdometry:
    """Dead reckoning from left/right encoder angles (rad).

    Integrates angle *increments* rather than reported velocities, so the pose does not drift
    with the sampling jitter of the velocity estimate. Each increment is integrated exactly along
    an arc (constant-curvature motion between samples).
    """

    def __init__(self, kinematics: SkidSteerKinematics) -> None:
        self.kinematics = kinematics
        self._last: tuple[float, float, int] | None = None
        self._x = self._y = self._yaw = 0.0
        self._linear = self._angular = 0.0
        self._stamp_ns = 0

    def reset(self, x: float = 0.0, y: float = 0.0, yaw: float = 0.0) -> None:
        """Restart from a pose; the next reading only re-seeds the encoder baseline."""
        self._x, self._y, self._yaw = x, y, yaw
        self._linear = self._angular = 0.0
        self._last = None

    def update(self, left_angle: float, right_angle: float, stamp_ns: int) -> OdometryState:
        """Integrate a new encoder reading (rad, rad, ns) and return the new state.

        Readings out of order or repeated are ignored for integration.
        """
        if self._last is None:
            self._last = (left_angle, right_angle, stamp_ns)
            self._stamp_ns = stamp_ns
            return self.state
        last_left, last_right, last_ns = self._last
        dt = (stamp_ns - last_ns) * 1e-9
        if dt <= 0.0:
            return self.state
        distance, rotation = self.kinematics.twist(
            left_angle - last_left, right_angle - last_right
        )
        if abs(rotation) < 1e-9:
            mid = self._yaw + 0.5 * rotation
            self._x += distance * math.cos(mid)
            self._y += distance * math.sin(mid)
        else:
            radius = distance / rotation
            self._x += radius * (math.sin(self._yaw + rotation) - math.sin(self._yaw))
            self._y -= radius * (math.cos(self._yaw + rotation) - math.cos(self._yaw))
        self._yaw = math.atan2(math.sin(self._yaw + rotation), math.cos(self._yaw + rotation))
        self._linear = distance / dt
        self._angular = rotation / dt
        self._last = (left_angle, right_angle, stamp_ns)
        self._stamp_ns = stamp_ns
        return self.state

    @property
    def state(self) -> OdometryState:
        return OdometryState(
            self._x, self._y, self._yaw, self._linear, self._angular, self._stamp_ns
        )
