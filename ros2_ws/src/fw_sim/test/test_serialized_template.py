"""SerializedTemplate: in-place rewrites must serialize exactly like a normally filled message."""

from __future__ import annotations

import array
import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nav_msgs.msg import Odometry
from rclpy.serialization import serialize_message
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Imu, JointState, LaserScan

from fw_sim.serialized_template import SerializedTemplate

STAMP = ("header.stamp.sec", "header.stamp.nanosec")
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
sec = st.integers(min_value=-(2**31), max_value=2**31 - 1)
nanosec = st.integers(min_value=0, max_value=999_999_999)


@given(sec, nanosec)
def test_clock_matches_a_filled_message(s: int, ns: int) -> None:
    template = SerializedTemplate(Clock(), {"stamp": ("clock.sec", "clock.nanosec")})
    template.write["stamp"](s, ns)
    expected = Clock()
    expected.clock.sec, expected.clock.nanosec = s, ns
    assert template.data() == serialize_message(expected)


@settings(max_examples=50)
@given(sec, nanosec, st.lists(finite, min_size=10, max_size=10))
def test_imu_matches_a_filled_message(s: int, ns: int, values: list[float]) -> None:
    imu = Imu()
    imu.header.frame_id = "imu_link"
    imu.angular_velocity_covariance[0] = 0.25  # constant fields keep their values
    template = SerializedTemplate(
        imu,
        {
            "stamp": STAMP,
            "orientation": ("orientation.x", "orientation.y", "orientation.z", "orientation.w"),
            "gyro": ("angular_velocity.x", "angular_velocity.y", "angular_velocity.z"),
        },
    )
    template.write["stamp"](s, ns)
    template.write["orientation"](*values[:4])
    template.write["gyro"](*values[4:7])
    imu.header.stamp.sec, imu.header.stamp.nanosec = s, ns
    o, w = imu.orientation, imu.angular_velocity
    o.x, o.y, o.z, o.w = values[:4]
    w.x, w.y, w.z = values[4:7]
    assert template.data() == serialize_message(imu)


def test_odometry_slots_either_side_of_the_covariance() -> None:
    odom = Odometry()
    odom.header.frame_id, odom.child_frame_id = "odom", "base_link"
    pose = tuple(f"pose.pose.position.{c}" for c in "xyz") + tuple(
        f"pose.pose.orientation.{c}" for c in "xyzw"
    )
    twist = tuple(f"twist.twist.linear.{c}" for c in "xyz") + tuple(
        f"twist.twist.angular.{c}" for c in "xyz"
    )
    template = SerializedTemplate(odom, {"stamp": STAMP, "pose": pose, "twist": twist})
    template.write["pose"](1.0, 2.0, 3.0, 0.0, 0.0, 0.6, 0.8)
    template.write["twist"](0.5, 0.0, 0.0, 0.0, 0.0, -0.25)
    got = template.message()
    assert (got.pose.pose.position.x, got.pose.pose.orientation.w) == (1.0, 0.8)
    assert (got.twist.twist.linear.x, got.twist.twist.angular.z) == (0.5, -0.25)
    assert got.child_frame_id == "base_link"
    assert list(got.pose.covariance) == [0.0] * 36


def test_arrays_take_numpy_buffers_and_sequences() -> None:
    scan = LaserScan()
    scan.header.frame_id = "laser"
    scan.ranges = [0.0] * 360
    template = SerializedTemplate(scan, {"stamp": STAMP, "ranges": ("ranges",)})
    ranges = np.linspace(0.1, 12.0, 360, dtype=np.float32)
    ranges[[3, 7, 11]] = [np.inf, -np.inf, np.nan]
    template.write["ranges"](ranges)
    scan.ranges = array.array("f", ranges.tobytes())
    assert template.data() == serialize_message(scan)

    joints = JointState(name=["a", "b"], position=[0.0, 0.0], velocity=[0.0, 0.0])
    template = SerializedTemplate(joints, {"position": ("position",), "velocity": ("velocity",)})
    template.write["position"]((1.5, -2.5))
    template.write["velocity"]([math.pi, 0.0])
    got = template.message()
    assert list(got.position) == [1.5, -2.5] and list(got.velocity) == [math.pi, 0.0]
    assert got.name == ["a", "b"]


def test_wrong_arrays_are_refused_and_leave_the_message_alone() -> None:
    scan = LaserScan(ranges=[1.0] * 8)
    template = SerializedTemplate(scan, {"ranges": ("ranges",)})
    before = template.data()
    bad = [
        np.zeros(9, dtype=np.float32),  # wrong length
        np.zeros(8, dtype=np.float64),  # wrong element type
        np.zeros(8, dtype=np.int32),  # same size, wrong type
        np.zeros(16, dtype=np.float32)[::2],  # not contiguous
        np.zeros((2, 4), dtype=np.float32),  # not 1-D
        np.zeros(8, dtype=">f4" if np.little_endian else "<f4"),  # foreign byte order
    ]
    for data in bad:
        with pytest.raises((ValueError, TypeError)):
            template.write["ranges"](data)
    with pytest.raises(ValueError, match="takes 8 numbers, got 7"):
        template.write["ranges"]((0.0,) * 7)
    with pytest.raises(struct.error):
        template.write["ranges"]((2.0,) * 7 + ("x",))  # the good ones are not written either
    assert template.data() == before


def test_a_bad_scalar_write_changes_nothing() -> None:
    template = SerializedTemplate(Clock(), {"stamp": ("clock.sec", "clock.nanosec")})
    template.write["stamp"](5, 6)
    before = template.data()
    with pytest.raises(struct.error):
        template.write["stamp"](7, -1)  # nanosec is unsigned
    assert template.data() == before


@pytest.mark.parametrize(
    ("slots", "message"),
    [
        ({"bad": ("header.stamp.sec", "orientation.x")}, "not one contiguous run"),
        ({"bad": ("header.frame_id",)}, "is string, not a number"),
        ({"bad": ("header.no_such_field",)}, "has no field"),
        ({"bad": ("orientation_covariance", "orientation.x")}, "one non-empty array field"),
    ],
)
def test_unusable_slots_fail_at_construction(
    slots: dict[str, tuple[str, ...]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SerializedTemplate(Imu(), slots)


def test_data_is_a_snapshot() -> None:
    template = SerializedTemplate(Clock(), {"stamp": ("clock.sec", "clock.nanosec")})
    template.write["stamp"](1, 2)
    first = template.data()
    template.write["stamp"](3, 4)
    assert first != template.data()
    assert template.message().clock.sec == 3
