"""Minimal twist → wheel speed conversion for headless runs (tests, demonstrations).

The robot stack converts twists in ``fw_actuator_bridge``; this copy exists so the simulator
core runs without it. Defaults are the *effective* Husky geometry measured in this PyBullet
world (``bench/measure_husky_kinematics.py``): the rolling radius is larger than the Husky
datasheet's 0.1651 m because pybullet_data's wheel mesh is 0.18 m in radius, and the effective
track is about three times the wheel separation because skid-steer wheels slip sideways in a
turn.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HUSKY_EFFECTIVE", "SkidSteer"]


@dataclass(frozen=True)
class SkidSteer:
    """Skid-steer geometry: effective wheel radius (m) and effective track width (m)."""

    wheel_radius: float
    track_width: float

    def wheel_speeds(self, linear: float, angular: float) -> tuple[float, float]:
        """(left, right) wheel speeds (rad/s) for a body twist (m/s, rad/s)."""
        half = 0.5 * self.track_width * angular
        return (linear - half) / self.wheel_radius, (linear + half) / self.wheel_radius

    def twist(self, left: float, right: float) -> tuple[float, float]:
        """Body twist (m/s, rad/s) from (left, right) wheel speeds (rad/s)."""
        r = self.wheel_radius
        return 0.5 * r * (left + right), r * (right - left) / self.track_width


#: Measured in PyBullet (see the module docstring); the track is the value at moderate turn
#: rates (about 0.5-1 rad/s), where the expert and policies operate.
HUSKY_EFFECTIVE = SkidSteer(wheel_radius=0.1785, track_width=1.70)
