"""scan_out: the cleaned scan's bytes are the LaserScan rclpy would have serialized."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import LaserScan

from fw_common.cdr_fields import read_laser_scan
from fw_perception.scan_out import CleanedScanOut


def received(frame_id: str, beams: int, sec: int = 12, nanosec: int = 345) -> bytes:
    msg = LaserScan()
    msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nanosec
    msg.header.frame_id = frame_id
    msg.angle_min, msg.angle_increment = -math.pi, 2 * math.pi / max(beams, 1)
    msg.angle_max = math.pi - msg.angle_increment
    msg.time_increment, msg.scan_time = 1e-4, 0.05
    msg.range_min, msg.range_max = 0.05, 30.0
    msg.ranges = [5.0] * beams
    msg.intensities = [100.0] * beams  # dropped: cleaned scans carry none
    return serialize_message(msg)


def expected(fields, ranges: np.ndarray, limits: tuple[float, float]) -> LaserScan:  # type: ignore[no-untyped-def]
    msg = LaserScan()
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(fields.stamp_ns, 1_000_000_000)
    msg.header.frame_id = fields.frame_id
    msg.angle_min, msg.angle_max = fields.angle_min, fields.angle_max
    msg.angle_increment, msg.time_increment = fields.angle_increment, fields.time_increment
    msg.scan_time = fields.scan_time
    msg.range_min, msg.range_max = limits
    msg.ranges = ranges.tolist()
    return msg


def test_bytes_and_message_are_the_cleaned_scan_whatever_the_frame_and_beam_count() -> None:
    out = CleanedScanOut()
    rng = np.random.default_rng(1)
    for frame_id, beams, sec in (("laser", 360, 5), ("laser", 360, -3), ("lidar_top", 12, 7)):
        fields = read_laser_scan(received(frame_id, beams, sec=sec))
        ranges = rng.uniform(0.1, 9.0, beams).astype(np.float32)
        ranges[:3] = (np.nan, np.inf, -np.inf)
        want = expected(fields, ranges, (0.15, 10.0))
        data = out.serialized(fields, ranges, 0.15, 10.0)
        assert data == serialize_message(want), (frame_id, beams, sec)
        assert serialize_message(out.fill_message(fields, ranges, 0.15, 10.0)) == data
    empty = read_laser_scan(received("laser", 0))
    got = deserialize_message(out.serialized(empty, np.empty(0, np.float32), 0.1, 5.0), LaserScan)
    assert len(got.ranges) == 0 and got.range_max == 5.0
    assert got.header.frame_id == "laser"


def test_each_publish_gets_its_own_bytes() -> None:
    out = CleanedScanOut()
    fields = read_laser_scan(received("laser", 4))
    first = out.serialized(fields, np.full(4, 1.0, np.float32), 0.1, 5.0)
    out.serialized(fields, np.full(4, 2.0, np.float32), 0.1, 5.0)
    # A consumer keeps the scan it was handed (the policy's timer trigger): refilling the
    # template must not change it.
    assert read_laser_scan(first).ranges.tolist() == [1.0] * 4


def test_alternating_frames_keep_their_templates() -> None:
    """Two lidars merged onto one topic: each frame's template is built once, not per scan."""
    out = CleanedScanOut()
    front, rear = read_laser_scan(received("front", 8)), read_laser_scan(received("rear", 6))
    built = []
    for _ in range(3):
        for fields in (front, rear):
            out.serialized(fields, np.ones(fields.ranges.size, np.float32), 0.1, 5.0)
            built.append(id(out._template_for(fields.frame_id, fields.ranges.size)))
    assert len(set(built)) == 2
    got = deserialize_message(
        out.serialized(rear, np.full(6, 2.0, np.float32), 0.1, 5.0), LaserScan
    )
    assert got.header.frame_id == "rear" and list(got.ranges) == [2.0] * 6


def test_a_limit_no_float32_holds_is_an_error_not_a_wrong_scan() -> None:
    out = CleanedScanOut()
    fields = read_laser_scan(received("laser", 4))
    with pytest.raises(OverflowError):
        out.serialized(fields, np.ones(4, np.float32), 0.1, 1e39)
