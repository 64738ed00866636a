"""The simulated motor drivers refuse malformed wheel commands, with a logged reason."""

from __future__ import annotations

import math
import time

import pytest
from sensor_msgs.msg import JointState

from fw_common import qos, topics
from support.robot_view import RobotView, wrap

pytestmark = pytest.mark.system

WHEELS = ["front_left_wheel", "front_right_wheel", "rear_left_wheel", "rear_right_wheel"]

BAD_COMMANDS = {
    "nan": (WHEELS, [math.nan, 5.0, 5.0, 5.0]),
    "inf": (WHEELS, [math.inf] * 4),
    "empty": ([], []),
    "oversized": ([f"joint_{i}" for i in range(64)], [5.0] * 64),
    "wrong-names": (["left", "right", "a", "b"], [5.0] * 4),
    "length-mismatch": (WHEELS, [5.0, 5.0]),
}


def test_bad_joint_commands_never_move_the_robot(start_robot, probe) -> None:  # type: ignore[no-untyped-def]
    # The simulator alone: nothing else commands the wheels.
    process = start_robot(nodes="sim")
    robot = RobotView(probe)
    robot.wait_ready(need_odom=False)
    publisher = probe.publisher(JointState, "/" + topics.JOINT_COMMANDS, qos.COMMAND)
    assert probe.wait_for_subscribers(publisher)
    start = robot.pose()
    for names, velocities in BAD_COMMANDS.values():
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            publisher.publish(JointState(name=names, velocity=velocities))
            time.sleep(0.02)
    robot.wait_sim(0.5)
    assert robot.pose().distance_to(start) < 0.02
    assert abs(wrap(robot.pose().yaw - start.yaw)) < 0.02
    # A good command does move it: the refusals above were not a dead subscription.
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        publisher.publish(JointState(name=WHEELS, velocity=[4.0] * 4))
        time.sleep(0.02)
    assert robot.pose().distance_to(start) > 0.1
    output = process.output()
    assert output.count("refused") >= 1, output[-2000:]
    process.assert_clean_exit()
