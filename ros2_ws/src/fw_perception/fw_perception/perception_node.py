"""ROS 2 node ``perception``: cleaned scan, fused state, goal in the robot frame.

Subscribes
    ``scan`` (sensor_msgs/LaserScan, best effort): the raw lidar.
    ``odom`` (nav_msgs/Odometry, best effort): wheel odometry from fw_actuator_bridge.
    ``imu`` (sensor_msgs/Imu, best effort): the gyro's z rate is fused.
    All three are taken serialized and read with fw_common.cdr_fields: a Python message costs
    more than the work done with it (the ranges are a view of the bytes).
    ``goal_pose`` (geometry_msgs/PoseStamped in ``odom``, latched).
Publishes
    ``fw/perception/scan`` (sensor_msgs/LaserScan, best effort): cleaned, same stamp and frame,
    written as bytes (fw_perception.scan_out).
    ``fw/perception/state`` (nav_msgs/Odometry, best effort): fused state, stamp of the odometry.
    ``fw/perception/goal`` (geometry_msgs/PoseStamped in ``base_link``, best effort): the goal
    relative to the robot, re-published with every state.

A policy composed into the same process gets all three by direct call (fw_common.intra_process),
as the same bytes.
"""

from __future__ import annotations

import struct
from typing import Any

from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import Imu, LaserScan

from fw_common import intra_process, qos, topics
from fw_common.cdr_fields import CdrError, read_imu, read_laser_scan, read_odometry
from fw_common.conversions import ns_to_sec_nanosec, quaternion_from_yaw, yaw_from_quaternion
from fw_common.intra_process import ControlPublisher
from fw_common.profile import PerceptionConfig
from fw_common.ros_params import SectionParameters
from fw_common.serialized_template import SerializedTemplate
from fw_common.spin import run_node
from fw_common.throttled_log import KeyedThrottle
from fw_perception.goal import goal_in_base
from fw_perception.scan_filter import ScanCleaner
from fw_perception.scan_out import CleanedScanOut
from fw_perception.state_fusion import FusedState, StateFusion

__all__ = ["PerceptionNode", "main"]

_LOG_THROTTLE_S = 2.0
_STAMP = ("header.stamp.sec", "header.stamp.nanosec")
_POSE_FIELDS = tuple(f"pose.pose.position.{a}" for a in "xyz") + tuple(
    f"pose.pose.orientation.{a}" for a in "xyzw"
)
_TWIST_FIELDS = tuple(f"twist.twist.linear.{a}" for a in "xyz") + tuple(
    f"twist.twist.angular.{a}" for a in "xyz"
)


class PerceptionNode(Node):
    """Thin wrapper around :class:`ScanCleaner`, :class:`StateFusion` and :func:`goal_in_base`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("perception", **kwargs)
        self.params = SectionParameters(self, PerceptionConfig, self._reconfigure)
        config = self.params.current
        self.cleaner = ScanCleaner.from_config(config)
        self.fusion = StateFusion(config.imu_weight, config.imu_timeout)
        self.goal_odom: tuple[float, float, float] | None = None
        self.refused_scans = 0
        self.refused_goals = 0
        self.malformed = {"scan": 0, "odom": 0, "imu": 0}
        self._malformed_log = KeyedThrottle(self.get_logger(), _LOG_THROTTLE_S)

        # Outgoing messages are serialized templates, refilled in place (rclpy's conversion of
        # a whole message cost ~200 µs with cold caches, on the control path for the scan, at
        # the odometry rate for state and goal); the message objects are only filled for a
        # consumer composed into this process that takes objects (the policy takes bytes).
        self._scan_out = CleanedScanOut()
        self._state_out = Odometry()
        self._goal_out = PoseStamped()
        self._state_out.header.frame_id = config.odom_frame
        self._state_out.child_frame_id = config.base_frame
        self._goal_out.header.frame_id = config.base_frame
        self._state_bytes = SerializedTemplate(
            self._state_out, {"stamp": _STAMP, "pose": _POSE_FIELDS, "twist": _TWIST_FIELDS}
        )
        self._goal_bytes = SerializedTemplate(
            self._goal_out,
            {"stamp": _STAMP, "pose": tuple(f.removeprefix("pose.") for f in _POSE_FIELDS)},
        )
        # The policy's inputs: a policy composed into this process gets them by direct call
        # (fw_common.intra_process), the scan on the control path and state and goal without
        # queueing two more events per odometry message in front of it.
        self.scan_pub = ControlPublisher(self, LaserScan, topics.PERCEPTION_SCAN, qos.SENSOR)
        self.state_pub = ControlPublisher(self, Odometry, topics.PERCEPTION_STATE, qos.SENSOR)
        self.goal_pub = ControlPublisher(self, PoseStamped, topics.PERCEPTION_GOAL, qos.SENSOR)
        self.create_subscription(LaserScan, topics.SCAN, self._on_scan, qos.SENSOR, raw=True)
        # The state filter integrates every odometry and IMU sample: deep history (see qos).
        # Serialized (raw): a Python message costs more than the fusion (see fw_common.cdr_fields).
        deep = qos.INTEGRATED_SENSOR
        self.create_subscription(Odometry, topics.ODOM, self._on_odom, deep, raw=True)
        self.create_subscription(Imu, topics.IMU, self._on_imu, deep, raw=True)
        self.create_subscription(PoseStamped, topics.GOAL_POSE, self._on_goal, qos.LATCHED)
        self.get_logger().info(
            f"clip=[{config.range_min}, {config.range_max}] m median={config.median_window} "
            f"imu_weight={config.imu_weight}"
        )

    def _reconfigure(self, config: PerceptionConfig) -> None:
        self.cleaner = ScanCleaner.from_config(config)
        self.fusion.reconfigure(config.imu_weight, config.imu_timeout)
        self.get_logger().info("parameters updated")

    def _on_scan(self, data: bytes) -> None:
        try:
            scan = read_laser_scan(data)
        except CdrError as exc:
            self._malformed("scan", exc)
            return
        try:
            cleaned = self.cleaner.clean(
                scan.ranges, scan.angle_min, scan.angle_increment, scan.range_min, scan.range_max
            )
        except ValueError as exc:
            self._refuse_scan(str(exc))
            return
        out = (scan, cleaned.ranges, cleaned.range_min, cleaned.range_max)
        try:  # values no LaserScan can hold (a limit beyond float32): refused, never a crash
            data = self._scan_out.serialized(*out)
        except (ValueError, OverflowError, struct.error) as exc:
            self._refuse_scan(f"cannot publish it: {exc}")
            return
        message = self._scan_out.fill_message(*out) if self.scan_pub.needs_message else None
        self.scan_pub.publish(message, serialized=data)

    def _refuse_scan(self, reason: str) -> None:
        self.refused_scans += 1
        self.get_logger().warning(
            f"refused scan ({self.refused_scans} so far): {reason}",
            throttle_duration_sec=_LOG_THROTTLE_S,
        )

    def _malformed(self, what: str, exc: CdrError) -> None:
        self.malformed[what] += 1  # one call site for every input: throttled per input
        self._malformed_log.warning(
            what, f"ignored {what} ({self.malformed[what]} malformed so far): {exc}"
        )

    def _on_imu(self, data: bytes) -> None:
        try:
            imu = read_imu(data)
        except CdrError as exc:
            self._malformed("imu", exc)
            return
        reason = self.fusion.imu(imu.angular_z, imu.stamp_ns)
        if reason is not None:
            self.get_logger().warning(
                f"ignored imu ({self.fusion.refused_imu} so far): {reason}",
                throttle_duration_sec=_LOG_THROTTLE_S,
            )

    def _on_odom(self, data: bytes) -> None:
        try:
            odom = read_odometry(data)
        except CdrError as exc:
            self._malformed("odom", exc)
            return
        result = self.fusion.odom(
            odom.x,
            odom.y,
            yaw_from_quaternion(odom.qx, odom.qy, odom.qz, odom.qw),
            odom.linear_x,
            odom.angular_z,
            odom.stamp_ns,
        )
        if isinstance(result, str):
            self.get_logger().warning(
                f"ignored odom ({self.fusion.refused_odom} so far): {result}",
                throttle_duration_sec=_LOG_THROTTLE_S,
            )
            return
        stamp = ns_to_sec_nanosec(odom.stamp_ns)
        self._publish_state(result, stamp)
        self._publish_goal(result, stamp)

    def _publish_state(self, state: FusedState, stamp: tuple[int, int]) -> None:
        qx, qy, qz, qw = quaternion_from_yaw(state.yaw)
        write = self._state_bytes.write
        write["stamp"](*stamp)
        write["pose"](state.x, state.y, 0.0, qx, qy, qz, qw)
        write["twist"](state.linear, 0.0, 0.0, 0.0, 0.0, state.angular)
        out = None
        if self.state_pub.needs_message:
            out = self._state_out
            out.header.stamp.sec, out.header.stamp.nanosec = stamp
            out.pose.pose.position.x, out.pose.pose.position.y = state.x, state.y
            o = out.pose.pose.orientation
            o.x, o.y, o.z, o.w = qx, qy, qz, qw
            out.twist.twist.linear.x = state.linear
            out.twist.twist.angular.z = state.angular
        self.state_pub.publish(out, serialized=self._state_bytes.data())

    def _on_goal(self, msg: PoseStamped) -> None:
        config = self.params.current
        p, q = msg.pose.position, msg.pose.orientation
        values = (p.x, p.y, q.x, q.y, q.z, q.w)
        reason = None
        if msg.header.frame_id not in (config.odom_frame, ""):
            reason = f"goal frame {msg.header.frame_id!r} is not {config.odom_frame!r}"
        elif not all(v == v and abs(v) != float("inf") for v in values):
            reason = "non-finite goal"
        if reason is not None:
            self.refused_goals += 1
            self.get_logger().warning(f"refused goal ({self.refused_goals} so far): {reason}")
            return
        self.goal_odom = (p.x, p.y, yaw_from_quaternion(q.x, q.y, q.z, q.w))
        self.get_logger().info(f"goal in {config.odom_frame}: x={p.x:.2f} y={p.y:.2f}")

    def destroy_node(self) -> None:
        intra_process.release(self)
        super().destroy_node()

    def _publish_goal(self, state: FusedState, stamp: tuple[int, int]) -> None:
        if self.goal_odom is None:
            return
        gx, gy, gyaw = goal_in_base(self.goal_odom, (state.x, state.y, state.yaw))
        qx, qy, qz, qw = quaternion_from_yaw(gyaw)
        write = self._goal_bytes.write
        write["stamp"](*stamp)
        write["pose"](gx, gy, 0.0, qx, qy, qz, qw)
        out = None
        if self.goal_pub.needs_message:
            out = self._goal_out
            out.header.stamp.sec, out.header.stamp.nanosec = stamp
            out.pose.position.x, out.pose.position.y = gx, gy
            o = out.pose.orientation
            o.x, o.y, o.z, o.w = qx, qy, qz, qw
        self.goal_pub.publish(out, serialized=self._goal_bytes.data())


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: PerceptionNode(), args)


if __name__ == "__main__":
    raise SystemExit(main())
