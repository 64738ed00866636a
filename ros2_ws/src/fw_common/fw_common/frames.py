"""Frame ids (REP-105) used across the stack."""

from __future__ import annotations

__all__ = ["BASE_LINK", "IMU_LINK", "LASER", "ODOM", "WORLD"]

ODOM = "odom"  #: continuous, drifting odometry frame
BASE_LINK = "base_link"  #: robot body, x forward, y left, z up (REP-103)
LASER = "laser"  #: 2D lidar
IMU_LINK = "imu_link"  #: IMU
WORLD = "world"  #: simulator ground-truth frame; never used by the robot stack
