"""ROS 2 node: ``cmd_vel`` → wheel velocity commands, ``joint_states`` → ``odom`` (+ tf).

Subscribes
    ``cmd_vel`` (geometry_msgs/TwistStamped, reliable): the only command the robot obeys.
    ``joint_states`` (sensor_msgs/JointState, best effort): wheel encoder feedback.
Publishes
    ``odom`` (nav_msgs/Odometry, best effort): wheel odometry, ``odom`` → ``base_link``.
    ``/tf`` (tf2_msgs/TFMessage): the same transform, where tf2_msgs is installed.
    Whatever the backend sends (``fw/joint_commands`` for the ``topic`` backend).
"""

from __future__ import annotations

import contextlib
from typing import Any

from geometry_msgs.msg import TransformStamped, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import JointState

from fw_actuator_bridge.backends import create_backend
from fw_actuator_bridge.bridge import ActuatorBridgeCore
from fw_actuator_bridge.odometry import OdometryState
from fw_common import qos, topics
from fw_common.conversions import quaternion_from_yaw, stamp_to_ns
from fw_common.profile import ActuatorBridgeConfig
from fw_common.ros_params import SectionParameters
from fw_common.shutdown import QuietShutdown
from fw_common.spin import run_node

try:  # tf2_msgs ships with every ROS 2 install, but not as a PyPI wheel.
    from tf2_msgs.msg import TFMessage
except ImportError:  # pragma: no cover - depends on the host
    TFMessage = None

__all__ = ["ActuatorBridgeNode", "main"]

_LOG_THROTTLE_S = 2.0


class ActuatorBridgeNode(QuietShutdown, Node):
    """Thin wrapper around :class:`ActuatorBridgeCore`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("actuator_bridge", **kwargs)
        self.params = SectionParameters(self, ActuatorBridgeConfig, self._reconfigure)
        config = self.params.current
        self.core = ActuatorBridgeCore(config)
        self.backend = create_backend(config.backend, self)

        self.odom_pub = self.create_publisher(Odometry, topics.ODOM, qos.SENSOR)
        self.tf_pub = None
        if config.publish_tf:
            if TFMessage is None:
                # Not a fault: hosts with ROS from PyPI wheels have no tf2_msgs.
                self.get_logger().info(
                    "tf2_msgs is not installed: odom -> base_link is published on 'odom' only"
                )
            else:
                self.tf_pub = self.create_publisher(TFMessage, topics.TF, 100)
        self.create_subscription(TwistStamped, topics.CMD_VEL, self._on_cmd_vel, qos.COMMAND)
        self.create_subscription(
            JointState, topics.JOINT_STATES, self._on_joint_states, qos.SENSOR
        )
        self.timer = self.create_timer(1.0 / config.control_rate, self._on_control_tick)
        self._watchdog_was_active = True
        self._odom_msg = Odometry()
        self._odom_msg.header.frame_id = config.odom_frame
        self._odom_msg.child_frame_id = config.base_frame
        self.get_logger().info(
            f"backend={config.backend} wheels={list(self.core.joint_names)} "
            f"track={self.core.kinematics.track:.3f} m radius={config.robot.wheels.radius:.4f} m "
            f"timeout={config.command_timeout:.2f} s"
        )

    def _now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def _reconfigure(self, config: ActuatorBridgeConfig) -> None:
        self.core.reconfigure(config)
        self.get_logger().info("parameters updated")

    def _on_cmd_vel(self, msg: TwistStamped) -> None:
        reason = self.core.command(
            msg.twist.linear.x, msg.twist.angular.z, msg.header.frame_id, self._now_ns()
        )
        if reason is not None:
            self.get_logger().warning(
                f"refused cmd_vel ({self.core.refused_commands} so far): {reason}; wheels -> 0",
                throttle_duration_sec=_LOG_THROTTLE_S,
            )

    def _on_control_tick(self) -> None:
        now_ns = self._now_ns()
        command = self.core.tick(now_ns)
        if command.watchdog_active and not self._watchdog_was_active:
            self.get_logger().warning(
                f"no cmd_vel for {self.core.config.command_timeout:.2f} s: wheels -> 0"
            )
        self._watchdog_was_active = command.watchdog_active
        self.backend.send(command, now_ns)

    def _on_joint_states(self, msg: JointState) -> None:
        # Drivers that do not stamp their messages get the arrival time.
        stamp_ns = stamp_to_ns(msg.header.stamp) or self._now_ns()
        result = self.core.joint_state(msg.name, msg.position, stamp_ns)
        if isinstance(result, str):
            self.get_logger().warning(
                f"ignored joint_states ({self.core.refused_joint_states} so far): {result}",
                throttle_duration_sec=_LOG_THROTTLE_S,
            )
            return
        self._publish_odometry(result, msg)

    def _publish_odometry(self, state: OdometryState, source: JointState) -> None:
        odom = self._odom_msg
        odom.header.stamp = source.header.stamp
        qx, qy, qz, qw = quaternion_from_yaw(state.yaw)
        pose = odom.pose.pose
        pose.position.x, pose.position.y = state.x, state.y
        pose.orientation.x, pose.orientation.y = qx, qy
        pose.orientation.z, pose.orientation.w = qz, qw
        odom.twist.twist.linear.x = state.linear
        odom.twist.twist.angular.z = state.angular
        self.odom_pub.publish(odom)
        if self.tf_pub is not None and TFMessage is not None:
            tf = TransformStamped()
            tf.header = odom.header
            tf.child_frame_id = odom.child_frame_id
            tf.transform.translation.x, tf.transform.translation.y = state.x, state.y
            tf.transform.rotation = pose.orientation
            self.tf_pub.publish(TFMessage(transforms=[tf]))

    def destroy_node(self) -> None:
        # Leave the drivers with a zero command rather than the last one.
        with contextlib.suppress(Exception):
            self.backend.send(self.core.stop_command(), self._now_ns())
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: ActuatorBridgeNode(), args)


if __name__ == "__main__":
    raise SystemExit(main())
