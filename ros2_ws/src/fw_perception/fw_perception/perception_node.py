"""ROS 2 node ``perception``: cleaned scan, fused state, goal in the robot frame.

Subscribes
    ``scan`` (sensor_msgs/LaserScan, best effort): the raw lidar.
    ``odom`` (nav_msgs/Odometry, best effort, deep): wheel odometry from fw_actuator_bridge.
    ``imu`` (sensor_msgs/Imu, best effort, deep): the gyro's z rate is fused.
    ``goal_pose`` (geometry_msgs/PoseStamped in ``odom``, latched).
Publishes
    ``fw/perception/scan`` (sensor_msgs/LaserScan, best effort): cleaned, same stamp and frame.
    ``fw/perception/state`` (nav_msgs/Odometry, best effort): fused state, stamp of the odometry.
    ``fw/perception/goal`` (geometry_msgs/PoseStamped in ``base_link``, best effort): the goal
    relative to the robot, re-published with every state.
Services
    ``fw/perception/reset`` (std_srvs/Trigger): restart the state at the origin of ``odom`` and
    forget the goal (a new episode; see :meth:`PerceptionStep.restart`).

Every decision is :class:`fw_perception.perception_step.PerceptionStep`'s; this node converts
messages, logs refusals and publishes.
"""

from __future__ import annotations

from typing import Any

from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import Imu, LaserScan
from std_srvs.srv import Trigger

from fw_common import qos, topics
from fw_common.conversions import (
    ns_to_stamp,
    quaternion_from_yaw,
    stamp_to_ns,
    yaw_from_quaternion,
)
from fw_common.laser_scan import LaserScanData
from fw_common.profile import PerceptionConfig
from fw_common.ros_params import SectionParameters
from fw_common.shutdown import QuietShutdown
from fw_common.spin import run_node
from fw_common.throttled_log import KeyedThrottle
from fw_perception.perception_step import GoalInBase, PerceptionStep
from fw_perception.state_fusion import FusedState

__all__ = ["PerceptionNode", "main"]

_LOG_THROTTLE_S = 2.0


class PerceptionNode(QuietShutdown, Node):
    """Thin wrapper around :class:`PerceptionStep`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("perception", **kwargs)
        self.params = SectionParameters(self, PerceptionConfig, self._reconfigure)
        config = self.params.current
        self.step = PerceptionStep(config)
        # One throttle per input: a flood of one bad input must not hide another's.
        self._refusal_log = KeyedThrottle(self.get_logger(), _LOG_THROTTLE_S)
        self._state_out = Odometry()
        self._state_out.header.frame_id = config.odom_frame
        self._state_out.child_frame_id = config.base_frame
        self._goal_out = PoseStamped()
        self._goal_out.header.frame_id = config.base_frame

        self.scan_pub = self.create_publisher(LaserScan, topics.PERCEPTION_SCAN, qos.SENSOR)
        self.state_pub = self.create_publisher(Odometry, topics.PERCEPTION_STATE, qos.SENSOR)
        self.goal_pub = self.create_publisher(PoseStamped, topics.PERCEPTION_GOAL, qos.SENSOR)
        self.create_subscription(LaserScan, topics.SCAN, self._on_scan, qos.SENSOR)
        # The state filter integrates every odometry and IMU sample: deep history (see qos).
        deep = qos.INTEGRATED_SENSOR
        self.create_subscription(Odometry, topics.ODOM, self._on_odom, deep)
        self.create_subscription(Imu, topics.IMU, self._on_imu, deep)
        self.create_subscription(PoseStamped, topics.GOAL_POSE, self._on_goal, qos.LATCHED)
        self.create_service(Trigger, topics.PERCEPTION_RESET, self._on_reset)
        self.get_logger().info(
            f"clip=[{config.range_min}, {config.range_max}] m median={config.median_window} "
            f"imu_weight={config.imu_weight}"
        )

    def _reconfigure(self, config: PerceptionConfig) -> None:
        self.step.reconfigure(config)
        self.get_logger().info("parameters updated")

    def _on_reset(self, _request: Trigger.Request, response: Trigger.Response) -> Any:
        self.step.restart()
        response.success = True
        response.message = "state restarts at the origin of odom; goal cleared"
        self.get_logger().info(response.message)
        return response

    def _refused(self, what: str, reason: str) -> None:
        self._refusal_log.warning(what, f"refused {what}: {reason}")

    def _on_scan(self, msg: LaserScan) -> None:
        cleaned = self.step.scan(LaserScanData.from_msg(msg))
        if isinstance(cleaned, str):
            self._refused("scan", f"{cleaned} ({self.step.refused_scans} so far)")
            return
        out = LaserScan()
        out.header = msg.header
        out.angle_min, out.angle_max = msg.angle_min, msg.angle_max
        out.angle_increment = msg.angle_increment
        out.time_increment, out.scan_time = msg.time_increment, msg.scan_time
        out.range_min, out.range_max = cleaned.range_min, cleaned.range_max
        out.ranges = cleaned.ranges  # float32 array: rclpy takes it without a Python list
        self.scan_pub.publish(out)

    def _on_imu(self, msg: Imu) -> None:
        reason = self.step.imu(msg.angular_velocity.z, stamp_to_ns(msg.header.stamp))
        if reason is not None:
            self._refused("imu", f"{reason} ({self.step.fusion.refused_imu} so far)")

    def _on_odom(self, msg: Odometry) -> None:
        pose, twist = msg.pose.pose, msg.twist.twist
        q = pose.orientation
        update = self.step.odometry(
            pose.position.x,
            pose.position.y,
            yaw_from_quaternion(q.x, q.y, q.z, q.w),
            twist.linear.x,
            twist.angular.z,
            stamp_to_ns(msg.header.stamp),
        )
        if isinstance(update, str):
            self._refused("odom", f"{update} ({self.step.fusion.refused_odom} so far)")
            return
        self._publish_state(update.state)
        if update.goal is not None:
            self._publish_goal(update.goal)

    def _on_goal(self, msg: PoseStamped) -> None:
        p, q = msg.pose.position, msg.pose.orientation
        reason = self.step.goal(
            msg.header.frame_id, p.x, p.y, yaw_from_quaternion(q.x, q.y, q.z, q.w)
        )
        if reason is not None:
            self.get_logger().warning(f"refused goal ({self.step.refused_goals} so far): {reason}")
            return
        self.get_logger().info(f"goal in {self.step.config.odom_frame}: x={p.x:.2f} y={p.y:.2f}")

    def _publish_state(self, state: FusedState) -> None:
        out = self._state_out
        out.header.stamp = ns_to_stamp(state.stamp_ns)
        out.pose.pose.position.x, out.pose.pose.position.y = state.x, state.y
        o = out.pose.pose.orientation
        o.x, o.y, o.z, o.w = quaternion_from_yaw(state.yaw)
        out.twist.twist.linear.x = state.linear
        out.twist.twist.angular.z = state.angular
        self.state_pub.publish(out)

    def _publish_goal(self, goal: GoalInBase) -> None:
        out = self._goal_out
        out.header.stamp = ns_to_stamp(goal.stamp_ns)
        out.pose.position.x, out.pose.position.y = goal.x, goal.y
        o = out.pose.orientation
        o.x, o.y, o.z, o.w = quaternion_from_yaw(goal.yaw)
        self.goal_pub.publish(out)


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: PerceptionNode(), args)


if __name__ == "__main__":
    raise SystemExit(main())
