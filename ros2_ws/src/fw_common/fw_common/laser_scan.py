"""A laser scan as plain values: what every ROS-free step takes and gives instead of a message.

:meth:`LaserScanData.from_msg` reads any ``sensor_msgs/LaserScan``-shaped object: a live rclpy
message, or one that rosbags deserialized from a bag. The robot's nodes and the cloud's replays
therefore hand the robot loop exactly the same values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from fw_common.conversions import stamp_to_ns

__all__ = ["LaserScanData"]

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class LaserScanData:
    """One scan. Angles in rad about the sensor's z axis, ranges in m (REP-117 values), times
    in s as in ``sensor_msgs/LaserScan``; ``stamp_ns`` is the header stamp (ns)."""

    stamp_ns: int
    frame_id: str
    angle_min: float
    angle_max: float
    angle_increment: float
    time_increment: float
    scan_time: float
    range_min: float
    range_max: float
    ranges: FloatArray
    intensities: FloatArray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    @classmethod
    def from_msg(cls, msg: Any) -> LaserScanData:
        """The values of a LaserScan message (rclpy or rosbags); ranges as float32."""
        return cls(
            stamp_ns=stamp_to_ns(msg.header.stamp),
            frame_id=str(msg.header.frame_id),
            angle_min=float(msg.angle_min),
            angle_max=float(msg.angle_max),
            angle_increment=float(msg.angle_increment),
            time_increment=float(msg.time_increment),
            scan_time=float(msg.scan_time),
            range_min=float(msg.range_min),
            range_max=float(msg.range_max),
            ranges=np.asarray(msg.ranges, dtype=np.float32),
            intensities=np.asarray(msg.intensities, dtype=np.float32),
        )

    def replace(self, **changes: Any) -> LaserScanData:
        """A copy with some fields changed (a cleaned scan keeps the rest of its raw scan)."""
        return dataclasses.replace(self, **changes)
