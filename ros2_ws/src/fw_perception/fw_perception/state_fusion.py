"""The robot's state in ``odom``: wheel odometry for translation, wheels + gyro for heading.

A complementary filter on *increments*: between two odometry samples the heading changes by

    dyaw = w * dyaw_gyro + (1 - w) * dyaw_wheels

where ``dyaw_gyro`` integrates the IMU's z rate over the interval and ``w`` is ``imu_weight``. A
skid-steer base slips whenever it turns, so its wheels over-report rotation (high-frequency
error), while a MEMS gyro drifts slowly (low-frequency error); weighting the increments blends
the two, and the reported yaw rate is blended the same way. Translation comes from the wheels:
each odometry step is taken in the robot's frame and re-applied along the fused heading. With
no fresh IMU sample (``imu_timeout``) the state is wheels only until the IMU returns.

The state starts where the wheels say; after :meth:`StateFusion.restart` it starts at the
origin instead (a new episode: a replay of its recording starts there too, since its wheel
odometry starts at zero).

Times are integer nanoseconds (message stamps), angles in rad, lengths in m.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["FusedState", "StateFusion", "wrap_angle"]

_NS = 1e-9


def wrap_angle(angle: float) -> float:
    """Angle wrapped into [-pi, pi)."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


@dataclass(frozen=True)
class FusedState:
    """Pose in ``odom`` (m, rad), body velocity (m/s, rad/s) and whether the IMU took part."""

    stamp_ns: int
    x: float
    y: float
    yaw: float
    linear: float
    angular: float
    imu_used: bool


class StateFusion:
    """Fuses wheel odometry samples with IMU yaw rates (see module docstring)."""

    def __init__(self, imu_weight: float, imu_timeout: float) -> None:
        self.reconfigure(imu_weight, imu_timeout)
        self._last_odom: tuple[int, float, float, float] | None = None
        self._pose = (0.0, 0.0, 0.0)
        self._gyro_rate: float | None = None
        self._gyro_stamp_ns = 0
        self._gyro_yaw = 0.0  # integral of the gyro since the last odometry sample
        self._start_at_wheels = True
        self.refused_odom = 0
        self.refused_imu = 0

    def reconfigure(self, imu_weight: float, imu_timeout: float) -> None:
        if not 0.0 <= imu_weight <= 1.0:
            raise ValueError("imu_weight must be in [0, 1]")
        self.imu_weight = float(imu_weight)
        self.imu_timeout_ns = int(imu_timeout * 1e9)

    def restart(self) -> None:
        """Forget the state: the next odometry sample puts the robot at the origin, and only
        increments after it move it (the wheels' own pose is not taken)."""
        self._last_odom = None
        self._pose = (0.0, 0.0, 0.0)
        self._gyro_yaw = 0.0
        self._start_at_wheels = False

    def imu(self, yaw_rate: float, stamp_ns: int) -> str | None:
        """Add a gyro z rate (rad/s). Returns the reason when the sample is refused."""
        if not math.isfinite(yaw_rate):
            self.refused_imu += 1
            return f"non-finite yaw rate {yaw_rate!r}"
        if self._gyro_rate is not None:
            dt_ns = stamp_ns - self._gyro_stamp_ns
            if dt_ns <= 0:
                self.refused_imu += 1
                return "IMU stamp did not advance"
            if dt_ns <= self.imu_timeout_ns:
                # Trapezoid over the interval: both ends are measurements.
                self._gyro_yaw += 0.5 * (self._gyro_rate + yaw_rate) * dt_ns * _NS
        self._gyro_rate = float(yaw_rate)
        self._gyro_stamp_ns = stamp_ns
        return None

    def _imu_fresh(self, stamp_ns: int) -> bool:
        return (
            self._gyro_rate is not None
            and abs(stamp_ns - self._gyro_stamp_ns) <= self.imu_timeout_ns
        )

    def odom(
        self, x: float, y: float, yaw: float, linear: float, angular: float, stamp_ns: int
    ) -> FusedState | str:
        """Add a wheel odometry sample (pose in ``odom``, body twist); the fused state, or the
        reason the sample is refused."""
        if not all(math.isfinite(v) for v in (x, y, yaw, linear, angular)):
            self.refused_odom += 1
            return "non-finite odometry"
        fresh = self._imu_fresh(stamp_ns)
        last = self._last_odom
        if last is not None and stamp_ns <= last[0]:
            self.refused_odom += 1
            return "odometry stamp did not advance"
        px, py, pyaw = self._pose
        if last is not None:
            _, lx, ly, lyaw = last
            # The wheel step in the robot frame at the previous sample.
            dx, dy = x - lx, y - ly
            c, s = math.cos(lyaw), math.sin(lyaw)
            fwd, left = c * dx + s * dy, -s * dx + c * dy
            dyaw_wheels = wrap_angle(yaw - lyaw)
            dyaw = dyaw_wheels
            if fresh:
                w = self.imu_weight
                dyaw = w * self._gyro_yaw + (1.0 - w) * dyaw_wheels
            mid = pyaw + 0.5 * dyaw
            c, s = math.cos(mid), math.sin(mid)
            px, py = px + c * fwd - s * left, py + s * fwd + c * left
            pyaw = wrap_angle(pyaw + dyaw)
        elif self._start_at_wheels:
            px, py, pyaw = x, y, yaw  # start where the wheels say
        self._pose = (px, py, pyaw)
        self._last_odom = (stamp_ns, x, y, yaw)
        self._gyro_yaw = 0.0
        rate = angular
        if fresh and self._gyro_rate is not None:
            rate = self.imu_weight * self._gyro_rate + (1.0 - self.imu_weight) * angular
        return FusedState(stamp_ns, px, py, pyaw, float(linear), float(rate), fresh)
