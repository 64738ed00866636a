"""A test's view of one simulated robot: ground truth, odometry, commands, over real DDS."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from sensor_msgs.msg import JointState

from fw_common import qos, topics
from fw_common.conversions import stamp_to_ns, yaw_from_quaternion
from fw_common.planar import wrap_angle
from support.probe import MessageLog, RosProbe

__all__ = ["Pose", "RobotView"]


@dataclass(frozen=True)
class Pose:
    x: float
    y: float
    yaw: float
    stamp_ns: int

    @staticmethod
    def of(msg: Odometry) -> Pose:
        p = msg.pose.pose
        q = p.orientation
        return Pose(
            p.position.x,
            p.position.y,
            yaw_from_quaternion(q.x, q.y, q.z, q.w),
            stamp_to_ns(msg.header.stamp),
        )

    def distance_to(self, other: Pose) -> float:
        return math.hypot(other.x - self.x, other.y - self.y)


#: Angles wrapped into (-pi, pi]; tests import it from here.
wrap = wrap_angle


class RobotView:
    """Watches and commands one robot (``namespace`` "" for the root namespace)."""

    def __init__(self, probe: RosProbe, namespace: str = "") -> None:
        self.probe = probe
        prefix = f"/{namespace}/" if namespace else "/"
        self.ground_truth: MessageLog[Odometry] = probe.subscribe(
            Odometry, prefix + topics.SIM_GROUND_TRUTH, qos.SENSOR
        )
        self.odom: MessageLog[Odometry] = probe.subscribe(
            Odometry, prefix + topics.ODOM, qos.SENSOR
        )
        self.joint_commands: MessageLog[JointState] = probe.subscribe(
            JointState, prefix + topics.JOINT_COMMANDS, qos.COMMAND
        )
        self.cmd_vel = probe.publisher(TwistStamped, prefix + topics.CMD_VEL, qos.COMMAND)

    def wait_ready(self, timeout: float = 60.0, need_odom: bool = True) -> None:
        """Ground truth (and odometry) flowing, and someone listening to cmd_vel."""
        assert self.ground_truth.wait_for(timeout=timeout), "no ground truth from the simulator"
        if need_odom:
            assert self.odom.wait_for(timeout=timeout), "no odometry from the actuator bridge"

    def pose(self) -> Pose:
        msg = self.ground_truth.latest()
        assert msg is not None
        return Pose.of(msg)

    def odom_pose(self) -> Pose:
        msg = self.odom.latest()
        assert msg is not None
        return Pose.of(msg)

    def sim_now_ns(self) -> int:
        return self.pose().stamp_ns

    def speed(self) -> float:
        msg = self.ground_truth.latest()
        assert msg is not None
        t = msg.twist.twist
        return math.hypot(t.linear.x, t.linear.y) + abs(t.angular.z) * 0.3

    def send(self, linear: float, angular: float, frame_id: str = "base_link") -> None:
        msg = TwistStamped()
        msg.header.frame_id = frame_id
        msg.header.stamp = self.probe.node.get_clock().now().to_msg()
        msg.twist.linear.x = linear
        msg.twist.angular.z = angular
        self.cmd_vel.publish(msg)

    def wait_sim(self, sim_seconds: float, timeout: float = 60.0) -> None:
        """Wait until simulated time has advanced by ``sim_seconds``."""
        end = self.sim_now_ns() + int(sim_seconds * 1e9)
        msg = self.ground_truth.wait_for(lambda m: stamp_to_ns(m.header.stamp) >= end, timeout)
        assert msg is not None, f"simulated time did not advance {sim_seconds} s"

    def drive(
        self, linear: float, angular: float, sim_seconds: float, rate_hz: float = 20.0
    ) -> None:
        """Publish a twist at ``rate_hz`` (wall) until ``sim_seconds`` of sim time have passed."""
        end = self.sim_now_ns() + int(sim_seconds * 1e9)
        deadline = time.monotonic() + sim_seconds * 20 + 30
        while self.sim_now_ns() < end:
            assert time.monotonic() < deadline, "simulated time stalled while driving"
            self.send(linear, angular)
            time.sleep(1.0 / rate_hz)

    def settle(self, sim_seconds: float = 1.0) -> None:
        """Command zero and let the robot come to rest."""
        self.drive(0.0, 0.0, sim_seconds)
