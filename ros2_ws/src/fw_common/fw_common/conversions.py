"""Conversions between ROS 2 messages and numpy / plain Python values.

Only message *types* are imported here (no ``rclpy``), so cores and the cloud side can use these
helpers on messages deserialised from bags as well as on live ones.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from builtin_interfaces.msg import Time

__all__ = [
    "ns_to_sec_nanosec",
    "ns_to_stamp",
    "quaternion_from_yaw",
    "ranges_to_array",
    "stamp_to_ns",
    "stamp_to_sec",
    "yaw_from_quaternion",
]

_NS_PER_S = 1_000_000_000


class _StampLike(Protocol):
    sec: int
    nanosec: int


def stamp_to_ns(stamp: _StampLike) -> int:
    """builtin_interfaces/Time → integer nanoseconds."""
    return int(stamp.sec) * _NS_PER_S + int(stamp.nanosec)


def stamp_to_sec(stamp: _StampLike) -> float:
    """builtin_interfaces/Time → seconds (float; use ns for arithmetic on long runs)."""
    return stamp_to_ns(stamp) / _NS_PER_S


def ns_to_sec_nanosec(ns: int) -> tuple[int, int]:
    """Integer nanoseconds → a stamp's ``(sec, nanosec)``, nanosec in [0, 1e9) (also for
    negative times), e.g. for a SerializedTemplate's stamp slot."""
    sec, nanosec = divmod(int(ns), _NS_PER_S)
    return sec, nanosec


def ns_to_stamp(ns: int) -> Time:
    """Integer nanoseconds → builtin_interfaces/Time."""
    sec, nanosec = ns_to_sec_nanosec(ns)
    return Time(sec=sec, nanosec=nanosec)


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """Yaw (rad, about +z) of a quaternion, in (-pi, pi]."""
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def quaternion_from_yaw(yaw: float) -> tuple[float, float, float, float]:
    """Quaternion ``(x, y, z, w)`` of a pure rotation by ``yaw`` (rad) about +z."""
    half = 0.5 * yaw
    return (0.0, 0.0, math.sin(half), math.cos(half))


def ranges_to_array(ranges: Any) -> npt.NDArray[np.float32]:
    """LaserScan ``ranges`` (array.array or list) → float32 numpy array without copying twice."""
    return np.asarray(ranges, dtype=np.float32)
