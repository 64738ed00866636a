"""Every decision of the ``perception`` node, without ROS: scan, odometry, IMU and goal in;
cleaned scan, fused state and the goal in ``base_link`` out.

The node converts messages and publishes what these methods return; the robot loop
(:mod:`fw_bringup.robot_loop`), the golden-bag replays and the cloud's dataset build call the
same methods on recorded or simulated values. A refused input returns the reason as a string
and changes nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fw_common.laser_scan import LaserScanData
from fw_common.profile import PerceptionConfig
from fw_perception.goal import goal_in_base
from fw_perception.scan_filter import ScanCleaner
from fw_perception.state_fusion import FusedState, StateFusion

__all__ = ["GoalInBase", "PerceptionStep", "StateUpdate"]

# The cleaned scan carries no intensities: they belong to the raw returns.
_NO_INTENSITIES = np.zeros(0, dtype=np.float32)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class GoalInBase:
    """The goal relative to the robot: x, y (m) and yaw (rad) in ``base_link``, stamped with
    the state it was computed from (ns)."""

    stamp_ns: int
    x: float
    y: float
    yaw: float


@dataclass(frozen=True)
class StateUpdate:
    """What one odometry sample produces: the fused state, and the goal when there is one."""

    state: FusedState
    goal: GoalInBase | None


class PerceptionStep:
    """Scan cleaning, wheel + IMU state fusion and the goal in the robot frame."""

    def __init__(self, config: PerceptionConfig) -> None:
        self.config = config
        self.cleaner = ScanCleaner.from_config(config)
        self.fusion = StateFusion(config.imu_weight, config.imu_timeout)
        #: The goal in ``odom``: x, y (m), yaw (rad); None until a valid goal arrives.
        self.goal_odom: tuple[float, float, float] | None = None
        self.refused_scans = 0
        self.refused_goals = 0

    def reconfigure(self, config: PerceptionConfig) -> None:
        """Apply a validated configuration; keeps the state and the goal."""
        self.config = config
        self.cleaner = ScanCleaner.from_config(config)
        self.fusion.reconfigure(config.imu_weight, config.imu_timeout)

    def restart(self) -> None:
        """A new episode: the state restarts at the origin of ``odom`` and the goal (given in
        the old frame) is forgotten until the next one arrives."""
        self.fusion.restart()
        self.goal_odom = None

    def scan(self, scan: LaserScanData) -> LaserScanData | str:
        """The cleaned scan (same stamp, frame and geometry; limits of the clip), or the reason
        the scan is refused."""
        try:
            cleaned = self.cleaner.clean(
                scan.ranges, scan.angle_min, scan.angle_increment, scan.range_min, scan.range_max
            )
        except ValueError as exc:
            self.refused_scans += 1
            return str(exc)
        limits = (cleaned.range_min, cleaned.range_max)
        if not all(math.isfinite(v) and abs(v) <= _FLOAT32_MAX for v in limits):
            self.refused_scans += 1  # no LaserScan can carry it (its limits are float32)
            return f"range limits {limits} do not fit a LaserScan"
        return scan.replace(
            ranges=cleaned.ranges,
            range_min=cleaned.range_min,
            range_max=cleaned.range_max,
            intensities=_NO_INTENSITIES,
        )

    def imu(self, yaw_rate: float, stamp_ns: int) -> str | None:
        """A gyro z rate (rad/s) at ``stamp_ns``; the reason when it is refused."""
        return self.fusion.imu(yaw_rate, stamp_ns)

    def odometry(
        self, x: float, y: float, yaw: float, linear: float, angular: float, stamp_ns: int
    ) -> StateUpdate | str:
        """A wheel odometry sample (pose in ``odom``, body twist): the fused state and the goal
        in ``base_link``, or the reason the sample is refused."""
        result = self.fusion.odom(x, y, yaw, linear, angular, stamp_ns)
        if isinstance(result, str):
            return result
        goal = None
        if self.goal_odom is not None:
            gx, gy, gyaw = goal_in_base(self.goal_odom, (result.x, result.y, result.yaw))
            goal = GoalInBase(result.stamp_ns, gx, gy, gyaw)
        return StateUpdate(result, goal)

    def goal(self, frame_id: str, x: float, y: float, yaw: float) -> str | None:
        """A goal pose in ``odom`` (an empty frame means ``odom``); the reason when refused."""
        reason = None
        if frame_id not in (self.config.odom_frame, ""):
            reason = f"goal frame {frame_id!r} is not {self.config.odom_frame!r}"
        elif not all(math.isfinite(v) for v in (x, y, yaw)):
            reason = "non-finite goal"
        if reason is not None:
            self.refused_goals += 1
            return reason
        self.goal_odom = (float(x), float(y), float(yaw))
        return None
