"""Episodes read back with rosbags, including messages with Fast CDR's 4-byte tail."""

from __future__ import annotations

from pathlib import Path

import pytest
from rclpy.serialization import serialize_message
from recorder_test_helpers import TYPESTORE, ManualClock
from rosbags.serde import SerdeError
from sensor_msgs.msg import JointState

from fw_common.profile.recorder import RecorderConfig
from fw_recorder.episode_reader import deserialize, read_episode
from fw_recorder.qos_match import PublisherQos
from fw_recorder.recorder import RecorderCore

S = 1_000_000_000
WHEELS = ["front_left_wheel", "front_right_wheel", "rear_left_wheel", "rear_right_wheel"]


def _driver_bytes(k: int) -> bytes:
    """What a real driver publishes through rmw_fastrtps: rclpy's (Fast CDR's) bytes."""
    msg = JointState(name=WHEELS, position=[float(k)] * 4, velocity=[0.5] * 4)
    msg.header.stamp.sec = k
    return bytes(serialize_message(msg))


def test_fast_cdr_tail_is_read_and_nothing_more() -> None:
    data = _driver_bytes(3)
    # Precondition: this is the message rosbags alone refuses (eProsima/Fast-CDR#299).
    with pytest.raises(SerdeError, match="size mismatch"):
        TYPESTORE.deserialize_cdr(data, "sensor_msgs/msg/JointState")
    msg = deserialize(TYPESTORE, data, "sensor_msgs/msg/JointState")
    assert list(msg.name) == WHEELS and list(msg.position) == [3.0] * 4
    assert len(msg.effort) == 0
    with pytest.raises(SerdeError, match="size mismatch"):  # 8 extra bytes: not a driver's
        deserialize(TYPESTORE, data + b"\0" * 4, "sensor_msgs/msg/JointState")
    with pytest.raises(SerdeError):  # a different type: still refused
        deserialize(TYPESTORE, data, "std_msgs/msg/String")


def test_recorded_driver_messages_read_back(tmp_path: Path, clock: ManualClock) -> None:
    config = RecorderConfig(
        spool_dir=str(tmp_path / "spool"), mode="continuous", min_free_mb=0.0, critical_free_mb=0.0
    )
    core = RecorderCore(config, "r1", clock)
    tid = core.add_topic(
        "/joint_states", "sensor_msgs/msg/JointState", [PublisherQos(False, False)]
    )
    for k in range(5):
        core.receive(tid, _driver_bytes(k), k * S)
    core.stop()
    (episode,) = (tmp_path / "spool" / "ready").iterdir()
    read = list(read_episode(episode))
    assert [(topic, t) for topic, t, _ in read] == [("/joint_states", k * S) for k in range(5)]
    assert [m.header.stamp.sec for _, _, m in read] == list(range(5))
