"""Scan projection and collision zones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from safety_helpers import (
    ANGLE_MAX,
    ANGLE_MIN,
    BEAMS,
    INCREMENT,
    RANGE_MAX,
    RANGE_MIN,
    config,
    free_ranges,
    wall_ranges,
)

from fw_common.profile import SafetyConfig
from fw_safety.scan_points import ScanPoints, ScanProjector
from fw_safety.twist import Twist2D
from fw_safety.zones import CollisionZones, ZoneVerdict


def zones_of(cfg: SafetyConfig) -> CollisionZones:
    return CollisionZones(cfg.robot.footprint, cfg.footprint_padding, cfg.zones)


def restrict(zones: CollisionZones, cmd: Twist2D, pts: ScanPoints) -> ZoneVerdict:
    return zones.restrict(cmd, zones.prepare(pts))


def points(xs: list[float], ys: list[float]) -> ScanPoints:
    return ScanPoints(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))


def cluster(x: float, y: float, n: int = 5) -> ScanPoints:
    return points([x] * n, [y + 0.01 * i for i in range(n)])


def project(ranges: np.ndarray, laser_pose: list[float] | None = None) -> ScanPoints | str:
    projector = ScanProjector(laser_pose or [0.0, 0.0, 0.0], 0.5)
    return projector.project(ANGLE_MIN, ANGLE_MAX, INCREMENT, RANGE_MIN, RANGE_MAX, ranges)


def test_projection_applies_the_laser_pose() -> None:
    ranges = free_ranges()
    ranges[BEAMS // 2] = 1.0  # the beam at angle 0
    pts = project(ranges, [0.2, 0.1, math.pi / 2])
    assert isinstance(pts, ScanPoints) and len(pts) == 1
    assert pts.x[0] == pytest.approx(0.2, abs=1e-6)
    assert pts.y[0] == pytest.approx(1.1, abs=1e-6)


def test_projection_follows_rep117() -> None:
    ranges = free_ranges()
    ranges[0] = -np.inf  # too close: an obstacle at range_min
    ranges[1] = np.nan  # erroneous: no point
    ranges[2] = 50.0  # beyond range_max: discarded
    ranges[3] = 0.01  # below range_min: discarded
    ranges[4] = 2.0
    pts = project(ranges)
    assert isinstance(pts, ScanPoints)
    assert len(pts) == 2
    assert sorted(np.hypot(pts.x, pts.y).round(4)) == [RANGE_MIN, 2.0]


@pytest.mark.parametrize(
    ("fields", "n", "reason"),
    [
        ((ANGLE_MIN, ANGLE_MAX, INCREMENT, RANGE_MIN, RANGE_MAX), 0, "empty"),
        ((ANGLE_MIN, ANGLE_MAX, 0.0, RANGE_MIN, RANGE_MAX), BEAMS, "angle_increment is 0"),
        ((math.nan, ANGLE_MAX, INCREMENT, RANGE_MIN, RANGE_MAX), BEAMS, "non-finite"),
        ((ANGLE_MIN, ANGLE_MAX, math.inf, RANGE_MIN, RANGE_MAX), BEAMS, "non-finite"),
        ((ANGLE_MIN, 0.0, INCREMENT, RANGE_MIN, RANGE_MAX), BEAMS, "describe"),
        ((ANGLE_MIN, ANGLE_MAX, INCREMENT * 3, RANGE_MIN, RANGE_MAX), BEAMS, "more than a turn"),
        ((ANGLE_MIN, ANGLE_MAX, INCREMENT, 5.0, 1.0), BEAMS, "inconsistent"),
        ((ANGLE_MIN, ANGLE_MAX, INCREMENT, RANGE_MIN, math.nan), BEAMS, "non-finite"),
    ],
)
def test_scans_with_wrong_fields_are_refused(
    fields: tuple[float, ...], n: int, reason: str
) -> None:
    projector = ScanProjector([0.0, 0.0, 0.0], 0.5)
    result = projector.project(*fields, np.ones(n, dtype=np.float32))
    assert isinstance(result, str)
    assert reason in result


def test_blind_scan_is_refused() -> None:
    ranges = np.full(BEAMS, np.nan, dtype=np.float32)
    result = project(ranges)
    assert isinstance(result, str) and "blind" in result


def test_stop_zone_blocks_forward_but_not_reverse_or_turning() -> None:
    zones = zones_of(config(zones={"approach": {"enabled": False}}))
    obstacle = cluster(0.7, 0.0)  # 0.2 m beyond the front edge (0.495)
    forward = restrict(zones, Twist2D(0.5, 0.0), obstacle)
    assert forward.twist.linear == 0.0
    assert "stop_zone" in forward.active
    turning = restrict(zones, Twist2D(0.5, 0.8), obstacle)
    assert turning.twist.linear == 0.0 and turning.twist.angular == pytest.approx(0.8)
    reverse = restrict(zones, Twist2D(-0.3, 0.0), obstacle)
    assert reverse.twist == Twist2D(-0.3, 0.0)
    assert not reverse.active


def test_stop_zone_needs_min_points() -> None:
    zones = zones_of(
        config(zones={"approach": {"enabled": False}, "slowdown": {"enabled": False}})
    )
    assert restrict(zones, Twist2D(0.5, 0.0), cluster(0.7, 0.0, n=2)).twist.linear == 0.5
    assert restrict(zones, Twist2D(0.5, 0.0), cluster(0.7, 0.0, n=3)).twist.linear == 0.0


def test_stop_zone_behind_blocks_reverse() -> None:
    zones = zones_of(config())
    result = restrict(zones, Twist2D(-0.3, 0.0), cluster(-0.7, 0.0))
    assert result.twist.linear == 0.0


def test_slowdown_scales_the_whole_twist() -> None:
    zones = zones_of(config(zones={"approach": {"enabled": False}}))
    result = restrict(zones, Twist2D(0.5, 0.2), cluster(1.2, 0.0))
    assert result.active == ("slowdown_zone",)
    assert result.twist.linear == pytest.approx(0.5 * 0.4)
    assert result.twist.angular == pytest.approx(0.2 * 0.4)


def test_approach_keeps_time_to_collision() -> None:
    cfg = config(zones={"stop": {"enabled": False}, "slowdown": {"enabled": False}})
    zones = zones_of(cfg)
    # Obstacle 1.0 m ahead of the padded front (0.545 m): at 1 m/s a collision in ~1 s < 1.2 s.
    obstacle = cluster(1.545, 0.0)
    result = restrict(zones, Twist2D(1.0, 0.0), obstacle)
    assert "approach" in result.active
    # At the scaled speed the obstacle is at least time_to_collision away (conservative).
    assert 1.0 / result.twist.linear >= cfg.zones.approach.time_to_collision - 1e-9
    far = restrict(zones, Twist2D(0.3, 0.0), obstacle)
    assert far.twist == Twist2D(0.3, 0.0)


def test_approach_guards_rotation_in_place() -> None:
    zones = zones_of(config())
    # Beside the front-left corner: turning left swings the corner into it.
    obstacle = cluster(0.45, 0.45, n=5)
    left = restrict(zones, Twist2D(0.0, 1.0), obstacle)
    assert "approach" in left.active and abs(left.twist.angular) < 1.0


def test_wall_ahead_from_a_full_scan_stops_the_robot() -> None:
    cfg = config()
    projector = ScanProjector(cfg.robot.laser.pose2d, cfg.zones.max_invalid_fraction)
    pts = projector.project(
        ANGLE_MIN, ANGLE_MAX, INCREMENT, RANGE_MIN, RANGE_MAX, wall_ranges(0.2, 0.7)
    )
    assert isinstance(pts, ScanPoints)
    result = restrict(zones_of(cfg), Twist2D(0.4, 0.0), pts)
    assert result.twist.linear == 0.0
