"""Shared helpers for the fw_safety core tests: synthetic scans and a ready supervisor."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fw_common.profile import SafetyConfig, build_section
from fw_safety.supervisor import SafetySupervisor

MS = 1_000_000
BEAMS = 360
ANGLE_MIN = -math.pi
INCREMENT = 2.0 * math.pi / BEAMS
ANGLE_MAX = ANGLE_MIN + INCREMENT * (BEAMS - 1)
RANGE_MIN, RANGE_MAX = 0.1, 12.0


def config(**overrides: Any) -> SafetyConfig:
    """A safety section from nested overrides (``{"limits": {"max_angular": 1.0}}``)."""
    return build_section(SafetyConfig, overrides)


def free_ranges() -> np.ndarray:
    return np.full(BEAMS, np.inf, dtype=np.float32)


def wall_ranges(laser_x: float, distance_from_base: float, half_width: float = 1.0) -> np.ndarray:
    """Ranges seeing a wall across the robot's path at x = ``distance_from_base`` (base_link),
    ``half_width`` either side; laser at ``laser_x`` on the centre line, yaw 0."""
    angles = ANGLE_MIN + INCREMENT * np.arange(BEAMS)
    ranges = free_ranges().astype(np.float64)
    ahead = distance_from_base - laser_x
    with np.errstate(divide="ignore", invalid="ignore"):
        r = ahead / np.cos(angles)
    lateral = r * np.sin(angles)
    hit = (np.cos(angles) > 0) & (np.abs(lateral) <= half_width) & (r <= RANGE_MAX)
    ranges[hit] = r[hit]
    return ranges.astype(np.float32)


def feed_scan(sup: SafetySupervisor, ranges: np.ndarray, now_ns: int) -> str | None:
    return sup.scan(ANGLE_MIN, ANGLE_MAX, INCREMENT, RANGE_MIN, RANGE_MAX, ranges, now_ns)


def feed_sensors(sup: SafetySupervisor, now_ns: int, ranges: np.ndarray | None = None) -> None:
    """Fresh scan (free space unless given), odometry at the origin, level IMU."""
    assert feed_scan(sup, free_ranges() if ranges is None else ranges, now_ns) is None
    assert sup.odometry(0.0, 0.0, now_ns) is None
    assert sup.imu(0.0, 0.0, 0.0, 1.0, now_ns) is None


def drive(
    sup: SafetySupervisor,
    linear: float,
    angular: float,
    start_ms: int,
    end_ms: int,
    step_ms: int = 50,
    ranges: np.ndarray | None = None,
    source: str = "policy",
) -> list[Any]:
    """Feed sensors and a command every step; return the step results."""
    results = []
    for t in range(start_ms, end_ms, step_ms):
        now = t * MS
        feed_sensors(sup, now, ranges)
        sup.command(source, linear, angular, "base_link", now, now)
        results.append(sup.step(now))
    return results
