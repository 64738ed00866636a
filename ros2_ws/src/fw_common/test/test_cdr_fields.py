"""cdr_fields: the fields read from rclpy's own serialization, and clear errors on bad bytes."""

from __future__ import annotations

import math
import struct

import numpy as np
import numpy.typing as npt
import pytest
from geometry_msgs.msg import PoseStamped, TwistStamped
from hypothesis import given, settings
from hypothesis import strategies as st
from nav_msgs.msg import Odometry
from rclpy.serialization import serialize_message
from sensor_msgs.msg import Imu, LaserScan

from fw_common.cdr_fields import (
    CdrError,
    read_imu,
    read_laser_scan,
    read_odometry,
    read_pose_stamped,
    read_twist_stamped,
)

anything = st.floats(allow_nan=True, allow_infinity=True, width=64)
float32 = st.floats(allow_nan=True, allow_infinity=True, width=32)
sec = st.integers(min_value=-(2**31), max_value=2**31 - 1)
nanosec = st.integers(min_value=0, max_value=999_999_999)
frame = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=24)


def same(a: float, b: float) -> bool:
    return struct.pack("<d", a) == struct.pack("<d", b)  # NaN payloads and -0.0 included


@settings(max_examples=200)
@given(sec, nanosec, frame, frame, st.lists(anything, min_size=13, max_size=13))
def test_odometry_fields_match_rclpy(
    s: int, ns: int, frame_id: str, child: str, v: list[float]
) -> None:
    msg = Odometry()
    msg.header.stamp.sec, msg.header.stamp.nanosec = s, ns
    msg.header.frame_id, msg.child_frame_id = frame_id, child
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    p.x, p.y, p.z, q.x, q.y, q.z, q.w = v[:7]
    t = msg.twist.twist
    t.linear.x, t.linear.y, t.angular.x, t.angular.z = v[7:11]
    msg.pose.covariance[35], msg.twist.covariance[0] = v[11:13]
    got = read_odometry(serialize_message(msg))
    assert got.stamp_ns == s * 1_000_000_000 + ns
    assert (got.frame_id, got.child_frame_id) == (frame_id, child)
    expected = (p.x, p.y, q.x, q.y, q.z, q.w, t.linear.x, t.angular.z)
    read = (got.x, got.y, got.qx, got.qy, got.qz, got.qw, got.linear_x, got.angular_z)
    assert all(same(a, b) for a, b in zip(read, expected, strict=True)), (read, expected)


@settings(max_examples=200)
@given(sec, nanosec, frame, st.lists(anything, min_size=8, max_size=8))
def test_imu_fields_match_rclpy(s: int, ns: int, frame_id: str, v: list[float]) -> None:
    msg = Imu()
    msg.header.stamp.sec, msg.header.stamp.nanosec = s, ns
    msg.header.frame_id = frame_id
    o, w = msg.orientation, msg.angular_velocity
    o.x, o.y, o.z, o.w, w.x, w.z = v[:6]
    msg.orientation_covariance[8], msg.linear_acceleration.z = v[6:8]
    got = read_imu(serialize_message(msg))
    assert got.stamp_ns == s * 1_000_000_000 + ns
    assert got.frame_id == frame_id
    read = (got.qx, got.qy, got.qz, got.qw, got.angular_z)
    assert all(same(a, b) for a, b in zip(read, (o.x, o.y, o.z, o.w, w.z), strict=True))


@settings(max_examples=100)
@given(sec, nanosec, frame, st.lists(anything, min_size=7, max_size=7))
def test_pose_stamped_fields_match_rclpy(s: int, ns: int, frame_id: str, v: list[float]) -> None:
    msg = PoseStamped()
    msg.header.stamp.sec, msg.header.stamp.nanosec = s, ns
    msg.header.frame_id = frame_id
    p, q = msg.pose.position, msg.pose.orientation
    p.x, p.y, p.z, q.x, q.y, q.z, q.w = v
    data = serialize_message(msg)
    got = read_pose_stamped(data)
    assert (got.stamp_ns, got.frame_id) == (s * 1_000_000_000 + ns, frame_id)
    read = (got.x, got.y, got.qx, got.qy, got.qz, got.qw)
    assert all(same(a, b) for a, b in zip(read, (p.x, p.y, q.x, q.y, q.z, q.w), strict=True))
    with pytest.raises(CdrError, match="truncated"):
        read_pose_stamped(data[:-1])


@settings(max_examples=100)
@given(sec, nanosec, frame, st.lists(anything, min_size=6, max_size=6))
def test_twist_stamped_fields_match_rclpy(s: int, ns: int, frame_id: str, v: list[float]) -> None:
    msg = TwistStamped()
    msg.header.stamp.sec, msg.header.stamp.nanosec = s, ns
    msg.header.frame_id = frame_id
    lin, ang = msg.twist.linear, msg.twist.angular
    lin.x, lin.y, lin.z, ang.x, ang.y, ang.z = v
    data = serialize_message(msg)
    got = read_twist_stamped(data)
    assert (got.stamp_ns, got.frame_id) == (s * 1_000_000_000 + ns, frame_id)
    read = (got.linear_x, got.linear_y, got.linear_z, got.angular_x, got.angular_y, got.angular_z)
    assert all(same(a, b) for a, b in zip(read, v, strict=True))
    for length in range(len(data)):
        with pytest.raises(CdrError):
            read_twist_stamped(data[:length])


def same32(a: npt.ArrayLike, b: npt.ArrayLike) -> bool:
    """Bit for bit as float32 (NaN payloads, -0.0 and the byte order of a view included)."""
    return np.array(a, dtype="<f4").tobytes() == np.array(b, dtype="<f4").tobytes()


@settings(max_examples=200)
@given(
    sec,
    nanosec,
    frame,
    st.lists(float32, min_size=7, max_size=7),
    st.lists(float32, max_size=40),
    st.lists(float32, max_size=40),
)
def test_laser_scan_fields_match_rclpy(
    s: int, ns: int, frame_id: str, v: list[float], ranges: list[float], intensities: list[float]
) -> None:
    msg = LaserScan()
    msg.header.stamp.sec, msg.header.stamp.nanosec = s, ns
    msg.header.frame_id = frame_id
    msg.angle_min, msg.angle_max, msg.angle_increment, msg.time_increment = v[:4]
    msg.scan_time, msg.range_min, msg.range_max = v[4:]
    msg.ranges, msg.intensities = ranges, intensities
    got = read_laser_scan(serialize_message(msg))
    assert (got.stamp_ns, got.frame_id) == (s * 1_000_000_000 + ns, frame_id)
    read = (got.angle_min, got.angle_max, got.angle_increment, got.time_increment)
    read += (got.scan_time, got.range_min, got.range_max)
    assert same32(read, v), (read, v)
    assert same32(got.ranges, msg.ranges) and same32(got.intensities, msg.intensities)
    assert got.ranges.dtype.itemsize == 4 and not got.ranges.flags.writeable


def test_laser_scan_truncations_and_lengths_are_refused() -> None:
    msg = LaserScan()
    msg.header.frame_id = "laser"
    msg.ranges, msg.intensities = [1.0, 2.0, 3.0], [0.5]
    data = serialize_message(msg)
    for length in range(len(data) - 3):  # rclpy pads the end to 4 bytes
        with pytest.raises(CdrError):
            read_laser_scan(data[:length])
    ranges_at = 4 + 8 + 4 + 8 + 28  # header, stamp, "laser" + NUL (+2 padding), 7 floats
    assert struct.unpack_from("<I", data, ranges_at)[0] == 3
    huge = data[:ranges_at] + struct.pack("<I", 2**31) + data[ranges_at + 4 :]
    with pytest.raises(CdrError, match=r"truncated: .* 2147483648 floats"):
        read_laser_scan(huge)


def test_big_endian_laser_scan_is_read() -> None:
    body = struct.pack(">iI", 7, 9) + struct.pack(">I", 6) + b"laser\0" + b"\0\0"
    body += struct.pack(">7f", -1.5, 1.5, 0.5, 0.0, 0.1, 0.2, 10.0)
    body += struct.pack(">I3f", 3, 1.0, float("inf"), 2.5) + struct.pack(">I", 0)
    got = read_laser_scan(b"\x00\x00\x00\x00" + body)
    assert (got.stamp_ns, got.frame_id, got.angle_increment) == (7_000_000_009, "laser", 0.5)
    assert got.ranges.tolist() == [1.0, float("inf"), 2.5] and got.intensities.size == 0


def _odometry() -> bytes:
    msg = Odometry()
    msg.header.frame_id, msg.child_frame_id = "odom", "base_link"
    msg.pose.pose.position.x = 1.5
    return serialize_message(msg)


def test_every_truncation_is_refused() -> None:
    data = _odometry()
    for length in range(len(data)):
        with pytest.raises(CdrError):
            read_odometry(data[:length])
    imu = serialize_message(Imu())
    for length in range(len(imu)):
        with pytest.raises(CdrError):
            read_imu(imu[:length])


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (lambda d: b"\x00\x07" + d[2:], "encapsulation 0007"),  # XCDR2: not what rmw sends
        (lambda d: d[:12] + struct.pack("<I", 10_000) + d[16:], "malformed string"),
        (lambda d: d[:12] + struct.pack("<I", 0) + d[16:], "malformed string"),
        (lambda d: d[:20] + b"X" + d[21:], "malformed string"),  # "odom" loses its NUL
        (lambda d: d[:8] + struct.pack("<I", 1_000_000_000) + d[12:], "nanosec"),
        (lambda d: d[:16] + b"\xff\xfe\xfd\x00" + d[20:], "not UTF-8"),
    ],
)
def test_malformed_bytes_are_refused_with_the_reason(patch, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CdrError, match=message):
        read_odometry(patch(_odometry()))


def _imu_big_endian(stamp: tuple[int, int], frame_id: bytes, values: list[float]) -> bytes:
    """A CDR_BE Imu written field by field (rclpy only writes little endian)."""
    body = struct.pack(">iI", *stamp) + struct.pack(">I", len(frame_id) + 1) + frame_id + b"\0"
    body += b"\0" * (-len(body) % 8)
    return b"\x00\x00\x00\x00" + body + struct.pack(">37d", *values)


def test_big_endian_is_read() -> None:
    values = [float(i) for i in range(37)]
    got = read_imu(_imu_big_endian((3, 250), b"imu_link", values))
    assert got.stamp_ns == 3_000_000_250 and got.frame_id == "imu_link"
    assert (got.qx, got.qy, got.qz, got.qw, got.angular_z) == (0.0, 1.0, 2.0, 3.0, 15.0)
    assert math.isfinite(got.angular_z)
