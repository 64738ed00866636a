"""The few fields a control node needs, read straight from a serialized ``Odometry``, ``Imu``,
``PoseStamped``, ``TwistStamped`` or ``LaserScan``.

rclpy turns every received message into Python objects: for an ``Odometry`` that is a dozen
generated-class constructors with their type checks and two 36-element NumPy covariance arrays.
With the caches cold, as they are between the sensor samples, that took ~380 µs per message on
the development host (docs/BENCHMARKS.md, "Control latency"), and odometry and IMU arrive at 50
and 100 Hz on the same executor as the scans: a scan that lands behind one waits for it. A
subscription created with ``raw=True`` hands over the serialized bytes instead, and the reader
here unpacks only the fields asked for, with :mod:`struct`. A scan's ranges and intensities
are NumPy views of the received bytes, not copies (rclpy's take of a 360-beam ``LaserScan`` and
the array conversion after it: ~320 µs cold; this reader: ~75 µs).

The layout is CDR (XCDR version 1, the encoding ROS 2's rmw implementations use): a 4-byte
encapsulation header (big or little endian), then the fields in declaration order, each aligned
to its own size counted from the end of that header; a string is a ``uint32`` length (with its
NUL) and the bytes. Fixed-size arrays have no length. A buffer that is truncated, has another
encapsulation or a malformed string raises :class:`CdrError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "CdrError",
    "ImuFields",
    "LaserScanFields",
    "OdometryFields",
    "PoseStampedFields",
    "TwistStampedFields",
    "read_imu",
    "read_laser_scan",
    "read_odometry",
    "read_pose_stamped",
    "read_twist_stamped",
]

_HEADER = 4  # encapsulation header; CDR alignment counts from its end
_ENCAPSULATIONS = {b"\x00\x00": ">", b"\x00\x01": "<"}  # CDR_BE, CDR_LE
_NS_PER_S = 1_000_000_000


class CdrError(ValueError):
    """The bytes are not a well-formed CDR serialization of the expected message."""


@dataclass(frozen=True, slots=True)
class OdometryFields:
    """``nav_msgs/Odometry``: stamp, frames, planar pose and the body twist's x and yaw rate."""

    stamp_ns: int
    frame_id: str
    child_frame_id: str
    x: float
    y: float
    qx: float
    qy: float
    qz: float
    qw: float
    linear_x: float
    angular_z: float


@dataclass(frozen=True, slots=True)
class ImuFields:
    """``sensor_msgs/Imu``: stamp, frame, orientation and the yaw rate."""

    stamp_ns: int
    frame_id: str
    qx: float
    qy: float
    qz: float
    qw: float
    angular_z: float


@dataclass(frozen=True, slots=True)
class PoseStampedFields:
    """``geometry_msgs/PoseStamped``: stamp, frame and the planar pose."""

    stamp_ns: int
    frame_id: str
    x: float
    y: float
    qx: float
    qy: float
    qz: float
    qw: float


@dataclass(frozen=True, slots=True)
class TwistStampedFields:
    """``geometry_msgs/TwistStamped``, whole: stamp, frame, linear and angular velocity."""

    stamp_ns: int
    frame_id: str
    linear_x: float
    linear_y: float
    linear_z: float
    angular_x: float
    angular_y: float
    angular_z: float


@dataclass(frozen=True, slots=True)
class LaserScanFields:
    """``sensor_msgs/LaserScan``, whole. ``ranges`` and ``intensities`` are read-only float32
    views of the serialized bytes (in their byte order), valid as long as the caller keeps
    them; ``np.array(fields.ranges)`` makes a native copy."""

    stamp_ns: int
    frame_id: str
    angle_min: float
    angle_max: float
    angle_increment: float
    time_increment: float
    scan_time: float
    range_min: float
    range_max: float
    ranges: npt.NDArray[np.float32]
    intensities: npt.NDArray[np.float32]


class _Cursor:
    """Reads CDR fields in order from ``data``."""

    __slots__ = ("data", "end", "offset", "order")

    def __init__(self, data: bytes) -> None:
        if len(data) < _HEADER:
            raise CdrError(f"{len(data)} bytes: shorter than the encapsulation header")
        order = _ENCAPSULATIONS.get(bytes(data[:2]))
        if order is None:
            raise CdrError(f"unsupported CDR encapsulation {bytes(data[:2]).hex()}")
        self.data, self.order, self.offset, self.end = data, order, _HEADER, len(data)

    def _take(self, fmt: str, size: int, align: int) -> tuple[Any, ...]:
        start = self.offset + (-(self.offset - _HEADER) % align)
        if start + size > self.end:
            raise CdrError(f"truncated: {self.end} bytes, a field needs {start + size}")
        self.offset = start + size
        return struct.unpack_from(self.order + fmt, self.data, start)

    def stamp_ns(self) -> int:
        sec, nanosec = self._take("iI", 8, 4)
        if nanosec >= _NS_PER_S:
            raise CdrError(f"nanosec {nanosec} is not below 1e9")
        return int(sec) * _NS_PER_S + int(nanosec)

    def string(self) -> str:
        (length,) = self._take("I", 4, 4)
        length = int(length)
        start = self.offset
        if length == 0 or start + length > self.end or self.data[start + length - 1] != 0:
            raise CdrError(f"malformed string of length {length} at byte {start}")
        self.offset = start + length
        try:
            return bytes(self.data[start : start + length - 1]).decode()
        except UnicodeDecodeError as exc:
            raise CdrError(f"string at byte {start} is not UTF-8") from exc

    def doubles(self, count: int) -> tuple[float, ...]:
        return self._take(f"{count}d", 8 * count, 8)

    def skip_doubles(self, count: int) -> None:
        self._take(f"{count}x", 8 * count, 8)

    def floats(self, count: int) -> tuple[float, ...]:
        return self._take(f"{count}f", 4 * count, 4)

    def float_sequence(self) -> npt.NDArray[np.float32]:
        """A ``float32[]``: its length, then a view of its elements."""
        (count,) = self._take("I", 4, 4)
        start, size = self.offset, 4 * int(count)
        if start + size > self.end:  # checked before NumPy sees a length from the wire
            raise CdrError(f"truncated: {self.end} bytes, {count} floats need {start + size}")
        self.offset = start + size
        return np.frombuffer(self.data, dtype=self.order + "f4", count=int(count), offset=start)


def read_odometry(data: bytes) -> OdometryFields:
    """The fields of a serialized ``nav_msgs/msg/Odometry`` (see the module docstring)."""
    cur = _Cursor(data)
    stamp_ns = cur.stamp_ns()
    frame_id = cur.string()
    child_frame_id = cur.string()
    x, y, _z, qx, qy, qz, qw = cur.doubles(7)  # pose.pose
    cur.skip_doubles(36)  # pose.covariance
    linear_x, _ly, _lz, _ax, _ay, angular_z = cur.doubles(6)  # twist.twist
    cur.skip_doubles(36)  # twist.covariance: the message must be whole
    return OdometryFields(
        stamp_ns, frame_id, child_frame_id, x, y, qx, qy, qz, qw, linear_x, angular_z
    )


def read_imu(data: bytes) -> ImuFields:
    """The fields of a serialized ``sensor_msgs/msg/Imu`` (see the module docstring)."""
    cur = _Cursor(data)
    stamp_ns = cur.stamp_ns()
    frame_id = cur.string()
    qx, qy, qz, qw = cur.doubles(4)  # orientation
    cur.skip_doubles(9)  # orientation_covariance
    _wx, _wy, angular_z = cur.doubles(3)  # angular_velocity
    cur.skip_doubles(9 + 3 + 9)  # angular_velocity_covariance, linear_acceleration (+ cov.)
    return ImuFields(stamp_ns, frame_id, qx, qy, qz, qw, angular_z)


def read_pose_stamped(data: bytes) -> PoseStampedFields:
    """The fields of a serialized ``geometry_msgs/msg/PoseStamped``."""
    cur = _Cursor(data)
    stamp_ns = cur.stamp_ns()
    frame_id = cur.string()
    x, y, _z, qx, qy, qz, qw = cur.doubles(7)
    return PoseStampedFields(stamp_ns, frame_id, x, y, qx, qy, qz, qw)


def read_twist_stamped(data: bytes) -> TwistStampedFields:
    """A serialized ``geometry_msgs/msg/TwistStamped``."""
    cur = _Cursor(data)
    stamp_ns = cur.stamp_ns()
    frame_id = cur.string()
    return TwistStampedFields(stamp_ns, frame_id, *cur.doubles(6))


def read_laser_scan(data: bytes) -> LaserScanFields:
    """A serialized ``sensor_msgs/msg/LaserScan`` (see :class:`LaserScanFields`)."""
    cur = _Cursor(data)
    stamp_ns = cur.stamp_ns()
    frame_id = cur.string()
    angle_min, angle_max, increment, time_increment, scan_time, range_min, range_max = cur.floats(
        7
    )
    ranges = cur.float_sequence()
    intensities = cur.float_sequence()
    return LaserScanFields(
        stamp_ns,
        frame_id,
        angle_min,
        angle_max,
        increment,
        time_increment,
        scan_time,
        range_min,
        range_max,
        ranges,
        intensities,
    )
