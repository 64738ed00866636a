"""Recorded messages into the robot loop: what the golden-bag replays and the cloud's dataset
build feed :class:`fw_bringup.robot_loop.RobotLoop` from a bag.

Messages are read by field name, so the same code takes messages that rosbags deserialized
from a bag (on a host without ROS) and rclpy's. Topics are the robot's, relative to its
namespace (``/scan``, ``/joint_states``, ...).
"""

from __future__ import annotations

from typing import Any

from fw_bringup.robot_loop import LoopOutput, RobotLoop
from fw_common import topics
from fw_common.conversions import stamp_to_ns, yaw_from_quaternion
from fw_common.laser_scan import LaserScanData

__all__ = ["LOOP_INPUTS", "feed_recorded"]


def _absolute(name: str) -> str:
    return "/" + name.lstrip("/")


#: The raw topics the loop takes: sensors, the goal, a person's commands and the e-stop.
LOOP_INPUTS = tuple(
    _absolute(t)
    for t in (
        topics.SCAN,
        topics.JOINT_STATES,
        topics.IMU,
        topics.GOAL_POSE,
        topics.TELEOP_CMD_VEL,
        topics.ESTOP,
    )
)
_SCAN, _JOINTS, _IMU, _GOAL, _TELEOP, _ESTOP = LOOP_INPUTS


def feed_recorded(loop: RobotLoop, topic: str, msg: Any, now_ns: int) -> LoopOutput | None:
    """Feed one recorded message received at ``now_ns`` (the robot's clock) into ``loop``, as
    the node taking ``topic`` would; None for a topic the loop does not take."""
    if topic == _SCAN:
        return loop.scan(LaserScanData.from_msg(msg), now_ns)
    if topic == _JOINTS:
        # Drivers that do not stamp their messages get the arrival time (as the bridge does).
        stamp = stamp_to_ns(msg.header.stamp) or now_ns
        return loop.joint_states(list(msg.name), list(msg.position), stamp, now_ns)
    if topic == _IMU:
        q = msg.orientation
        return loop.imu(
            float(msg.angular_velocity.z),
            (float(q.x), float(q.y), float(q.z), float(q.w)),
            stamp_to_ns(msg.header.stamp),
            now_ns,
        )
    if topic == _GOAL:
        p, q = msg.pose.position, msg.pose.orientation
        out = LoopOutput()
        refused = loop.goal(
            str(msg.header.frame_id), p.x, p.y, yaw_from_quaternion(q.x, q.y, q.z, q.w)
        )
        if refused is not None:
            out.refused.append(f"goal: {refused}")
        return out
    if topic == _TELEOP:
        return loop.teleop(
            msg.twist.linear.x,
            msg.twist.angular.z,
            str(msg.header.frame_id),
            stamp_to_ns(msg.header.stamp),
            now_ns,
        )
    if topic == _ESTOP:
        return loop.estop(bool(msg.data), now_ns)
    return None
