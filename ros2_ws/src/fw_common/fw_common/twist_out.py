"""A planar velocity command as it goes out: serialized bytes written in place, a message
object only for a consumer composed into the process that takes objects.

rclpy converts a Python ``TwistStamped`` field by field to publish it (~180 µs with cold
caches on the development host) and the receiving node's take converts it back (~260 µs); a
:class:`SerializedTemplate` write costs ~50 µs and ``fw_common.cdr_fields.read_twist_stamped``
~35 µs (docs/BENCHMARKS.md, "Control latency"). The policy and the safety supervisor publish
their commands this way; the command travels with ``ControlPublisher.publish(message,
serialized=...)``.
"""

from __future__ import annotations

from typing import Any

from geometry_msgs.msg import TwistStamped

from fw_common.conversions import ns_to_sec_nanosec
from fw_common.serialized_template import SerializedTemplate

__all__ = ["TwistStampedOut"]

_STAMP = ("header.stamp.sec", "header.stamp.nanosec")
_TWIST = tuple(f"twist.linear.{a}" for a in "xyz") + tuple(f"twist.angular.{a}" for a in "xyz")


class TwistStampedOut:
    """Forward speed and yaw rate in ``frame_id``, stamped; every other component zero."""

    def __init__(self, frame_id: str) -> None:
        self.message = TwistStamped()
        self.message.header.frame_id = frame_id
        self._template = SerializedTemplate(self.message, {"stamp": _STAMP, "twist": _TWIST})
        self._write_stamp = self._template.write["stamp"]
        self._write_twist = self._template.write["twist"]

    def serialized(self, stamp_ns: int, linear: float, angular: float) -> bytes:
        """The command's bytes (a copy: safe to publish and to keep)."""
        self._write_stamp(*ns_to_sec_nanosec(stamp_ns))
        self._write_twist(linear, 0.0, 0.0, 0.0, 0.0, angular)
        return self._template.data()

    def fill_message(self, stamp_ns: int, linear: float, angular: float) -> Any:
        """The same command as the reused ``TwistStamped`` object (consumers must not keep
        it)."""
        msg = self.message
        msg.header.stamp.sec, msg.header.stamp.nanosec = ns_to_sec_nanosec(stamp_ns)
        msg.twist.linear.x = float(linear)
        msg.twist.angular.z = float(angular)
        return msg
