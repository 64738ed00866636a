"""Velocity and acceleration limits with velocity-smoother semantics (per axis)."""

from __future__ import annotations

import math

from fw_common.profile.safety import SafetyLimitsConfig
from fw_safety.twist import Twist2D

__all__ = ["VelocityLimiter", "ramp_axis"]


def ramp_axis(current: float, target: float, accel: float, decel: float, dt: float) -> float:
    """Move ``current`` toward ``target`` within ``dt`` (s): magnitude grows by at most
    ``accel·dt`` and shrinks by at most ``decel·dt``; a reversal first slows to zero at
    ``decel`` and then speeds up at ``accel``.

    Units are those of the axis (m/s with m/s², or rad/s with rad/s²).
    """
    dt = max(dt, 0.0)
    if current * target < 0.0:
        stop_time = abs(current) / decel
        if dt <= stop_time:
            return current - math.copysign(decel * dt, current)
        return math.copysign(min(abs(target), accel * (dt - stop_time)), target)
    if abs(target) > abs(current):
        step = accel * dt
        return (
            target
            if abs(target) - abs(current) <= step
            else current + math.copysign(step, target - current)
        )
    step = decel * dt
    return target if abs(current) - abs(target) <= step else current - math.copysign(step, current)


class VelocityLimiter:
    """Clamps a twist to the velocity limits and ramps it within the acceleration limits."""

    def __init__(self, limits: SafetyLimitsConfig) -> None:
        self.limits = limits

    def clamp(self, cmd: Twist2D) -> Twist2D:
        """The twist with each axis inside its velocity limit."""
        lim = self.limits
        linear = min(max(cmd.linear, -lim.max_linear_reverse), lim.max_linear_forward)
        angular = min(max(cmd.angular, -lim.max_angular), lim.max_angular)
        return Twist2D(linear, angular)

    def ramp(self, current: Twist2D, target: Twist2D, dt: float) -> Twist2D:
        """The twist reachable from ``current`` toward ``target`` within ``dt`` (s)."""
        lim = self.limits
        return Twist2D(
            ramp_axis(
                current.linear,
                target.linear,
                lim.linear_acceleration,
                lim.linear_deceleration,
                dt,
            ),
            ramp_axis(
                current.angular,
                target.angular,
                lim.angular_acceleration,
                lim.angular_deceleration,
                dt,
            ),
        )
