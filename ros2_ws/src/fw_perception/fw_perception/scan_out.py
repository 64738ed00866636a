"""The cleaned scan as it goes out: serialized bytes written in place, a message only on demand.

rclpy converts a Python ``LaserScan`` field by field when it publishes it, and the consumer's
take converts it back: with the caches cold, as they are when a scan arrives every 50 ms, the
two cost ~200 and ~320 µs for 360 beams on the development host (docs/BENCHMARKS.md, "Control
latency"), on the control path. The cleaned scan is therefore written into a
:class:`SerializedTemplate` (stamp, geometry and ranges rewritten in place) and its consumers
read it with ``fw_common.cdr_fields.read_laser_scan``. A template fixes the frame id and the
beam count; a few are kept, one per (frame, beams) seen (a driver's never change, but two
lidars merged onto one topic alternate, and building a template costs ~1 ms).
"""

from __future__ import annotations

import array
from typing import Any

import numpy as np
import numpy.typing as npt
from sensor_msgs.msg import LaserScan

from fw_common.cdr_fields import LaserScanFields
from fw_common.conversions import ns_to_sec_nanosec
from fw_common.serialized_template import SerializedTemplate

__all__ = ["CleanedScanOut"]

_MAX_TEMPLATES = 8
_STAMP = ("header.stamp.sec", "header.stamp.nanosec")
# Contiguous in LaserScan's serialization, in this order.
_GEOMETRY = (
    "angle_min",
    "angle_max",
    "angle_increment",
    "time_increment",
    "scan_time",
    "range_min",
    "range_max",
)


class CleanedScanOut:
    """Fills the outgoing cleaned scan from a received scan's fields and the cleaned ranges."""

    def __init__(self) -> None:
        self._templates: dict[tuple[str, int], SerializedTemplate] = {}
        self.message = LaserScan()  # for a consumer that takes the object (filled on demand)

    def _template_for(self, frame_id: str, beams: int) -> SerializedTemplate:
        key = (frame_id, beams)
        template = self._templates.get(key)
        if template is None:
            msg = LaserScan()
            msg.header.frame_id = frame_id
            slots: dict[str, tuple[str, ...]] = {"stamp": _STAMP, "geometry": _GEOMETRY}
            if beams:  # an array slot needs an element to locate
                msg.ranges = [0.0] * beams
                slots["ranges"] = ("ranges",)
            # Intensities of masked beams are meaningless; cleaned scans carry none.
            template = SerializedTemplate(msg, slots)
            if len(self._templates) >= _MAX_TEMPLATES:  # a misbehaving driver: start over
                self._templates.clear()
            self._templates[key] = template
        return template

    def serialized(
        self,
        scan: LaserScanFields,
        ranges: npt.NDArray[np.float32],
        range_min: float,
        range_max: float,
    ) -> bytes:
        """The cleaned scan: ``scan``'s stamp, frame and angles with ``ranges`` (float32,
        one per beam) and the limits they were clipped to."""
        template = self._template_for(scan.frame_id, ranges.size)
        write = template.write
        write["stamp"](*ns_to_sec_nanosec(scan.stamp_ns))
        write["geometry"](
            scan.angle_min,
            scan.angle_max,
            scan.angle_increment,
            scan.time_increment,
            scan.scan_time,
            range_min,
            range_max,
        )
        if ranges.size:
            write["ranges"](np.ascontiguousarray(ranges, dtype=np.float32))
        return template.data()

    def fill_message(
        self,
        scan: LaserScanFields,
        ranges: npt.NDArray[np.float32],
        range_min: float,
        range_max: float,
    ) -> Any:
        """The same scan as a ``LaserScan`` object (reused: consumers must not keep it)."""
        out = self.message
        out.header.stamp.sec, out.header.stamp.nanosec = ns_to_sec_nanosec(scan.stamp_ns)
        out.header.frame_id = scan.frame_id
        out.angle_min, out.angle_max = scan.angle_min, scan.angle_max
        out.angle_increment = scan.angle_increment
        out.time_increment, out.scan_time = scan.time_increment, scan.scan_time
        out.range_min, out.range_max = range_min, range_max
        # array.array is the one form the generated setter takes without a per-beam check.
        out.ranges = array.array("f", np.asarray(ranges, dtype=np.float32).tobytes())
        return out
