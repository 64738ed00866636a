"""joint_states bytes: canonical CDR that rosbags and rclpy decode to the same joints."""

from __future__ import annotations

import pytest
from rclpy.serialization import deserialize_message
from rosbags.typesys import Stores, get_typestore
from sensor_msgs.msg import JointState

from fw_sim.joint_state_serializer import JointStateSerializer

WHEELS = ["front_left_wheel", "front_right_wheel", "rear_left_wheel", "rear_right_wheel"]
TYPESTORE = get_typestore(Stores.ROS2_KILTED)


def test_bytes_decode_with_rosbags_and_rclpy_alike() -> None:
    data = JointStateSerializer(WHEELS).serialize(12, 500, [0.1, 0.2, 0.3, 0.4], [1, 2, 3, 4])
    strict = TYPESTORE.deserialize_cdr(data, "sensor_msgs/msg/JointState")  # no size slack
    ros = deserialize_message(data, JointState)
    for msg in (strict, ros):
        assert list(msg.name) == WHEELS
        assert list(msg.position) == [0.1, 0.2, 0.3, 0.4]
        assert list(msg.velocity) == [1.0, 2.0, 3.0, 4.0]
        assert len(msg.effort) == 0
    assert (ros.header.stamp.sec, ros.header.stamp.nanosec) == (12, 500)


def test_bytes_are_canonical_zero_padded_and_repeatable() -> None:
    serializer = JointStateSerializer(WHEELS)
    first = serializer.serialize(3, 7, [0.5] * 4, [-0.5] * 4)
    again = JointStateSerializer(WHEELS).serialize(3, 7, [0.5] * 4, [-0.5] * 4)
    assert first == again
    decoded = TYPESTORE.deserialize_cdr(first, "sensor_msgs/msg/JointState")
    assert bytes(TYPESTORE.serialize_cdr(decoded, "sensor_msgs/msg/JointState")) == first
    # Padding after the empty frame_id (a 1-byte string) before the name sequence: zeros.
    assert first[4 + 8 + 4 + 1 : 4 + 8 + 4 + 4] == b"\0\0\0"


def test_wrong_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="4 joints, 3 positions"):
        JointStateSerializer(WHEELS).serialize(0, 0, [0.0] * 3, [0.0] * 4)
