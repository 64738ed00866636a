"""twist_out: the command's bytes are what rclpy serializes for the same TwistStamped."""

from __future__ import annotations

import math

import pytest
from geometry_msgs.msg import TwistStamped
from rclpy.serialization import serialize_message

from fw_common.cdr_fields import read_twist_stamped
from fw_common.twist_out import TwistStampedOut


def twist(frame_id: str, stamp_ns: int, linear: float, angular: float) -> TwistStamped:
    msg = TwistStamped()
    msg.header.frame_id = frame_id
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    msg.twist.linear.x, msg.twist.angular.z = linear, angular
    return msg


@pytest.mark.parametrize(
    ("stamp_ns", "linear", "angular"),
    [(0, 0.0, 0.0), (1_700_000_000_123_456_789, 0.8, -1.5), (-2_500_000_000, -0.0, math.inf)],
)
def test_bytes_and_message_match_rclpy(stamp_ns: int, linear: float, angular: float) -> None:
    out = TwistStampedOut("base_link")
    expected = serialize_message(twist("base_link", stamp_ns, linear, angular))
    assert out.serialized(stamp_ns, linear, angular) == expected
    assert serialize_message(out.fill_message(stamp_ns, linear, angular)) == expected
    got = read_twist_stamped(expected)
    assert (got.stamp_ns, got.frame_id, got.angular_z) == (stamp_ns, "base_link", angular)


def test_bytes_already_handed_out_do_not_change() -> None:
    out = TwistStampedOut("base_footprint")
    first = out.serialized(5, 0.1, 0.2)
    out.serialized(6, 0.3, 0.4)
    assert read_twist_stamped(first).linear_x == 0.1
