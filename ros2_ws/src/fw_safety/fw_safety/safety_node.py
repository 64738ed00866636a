"""ROS 2 node ``safety``: the only path from command sources to ``cmd_vel``.

Subscribes
    ``fw/cmd_vel_raw`` (geometry_msgs/TwistStamped, reliable): the policy.
    ``fw/teleop/cmd_vel`` (geometry_msgs/TwistStamped, reliable): a person; wins while fresh.
    ``scan`` (sensor_msgs/LaserScan, best effort; the ``scan_topic`` setting or a remap).
    ``odom`` (nav_msgs/Odometry, best effort), ``imu`` (sensor_msgs/Imu, best effort).
    ``fw/estop`` (std_msgs/Bool, latched), ``fw/safety/heartbeat`` (std_msgs/Bool, best effort
    subscription so that publishers of either reliability match).
Publishes
    ``cmd_vel`` (geometry_msgs/TwistStamped, reliable), stamped with its input's stamp: on
    every command, on a latching cause, on a scan that puts an obstacle in the stop zone of
    the current motion (other scans are only stored), and from the ``control_rate`` timer
    whenever nothing else has stepped for one period. The timer re-arms on every step: while a
    source commands at ``control_rate`` or faster it stays quiet instead of republishing the
    same command in front of the next scan's chain, and ``cmd_vel`` never goes more than one
    period without a step (timeouts and ramps are evaluated at least that often).
    ``fw/safety/status`` (diagnostic_msgs/DiagnosticArray) at ``status_rate`` and on change.
    ``fw/safety/events`` (diagnostic_msgs/DiagnosticStatus, reliable, deep): one per
    intervention; fields in :mod:`fw_safety.diagnostics`.
Serves
    ``fw/safety/reset`` (std_srvs/Trigger): clear a latched stop once its cause is gone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import Imu, LaserScan
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

from fw_common import qos, topics
from fw_common.conversions import ns_to_stamp, stamp_to_ns
from fw_common.profile import SafetyConfig
from fw_common.ros_params import SectionParameters
from fw_common.shutdown import QuietShutdown
from fw_common.spin import run_node
from fw_common.throttled_log import KeyedThrottle
from fw_safety.diagnostics import event_message, status_message
from fw_safety.supervisor import POLICY, TELEOP, SafetySupervisor, StepResult

__all__ = ["SafetyNode", "main"]

_LOG_THROTTLE_S = 2.0


class SafetyNode(QuietShutdown, Node):
    """Thin wrapper around :class:`SafetySupervisor`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("safety", **kwargs)
        self.params = SectionParameters(self, SafetyConfig, self._reconfigure)
        config = self.params.current
        self.core = SafetySupervisor(config)
        self._refusal_log = KeyedThrottle(self.get_logger(), _LOG_THROTTLE_S)
        self._hardware_id = self.get_namespace()

        self.cmd_pub = self.create_publisher(TwistStamped, topics.CMD_VEL, qos.COMMAND)
        self.status_pub = self.create_publisher(DiagnosticArray, topics.SAFETY_STATUS, qos.STATUS)
        self.event_pub = self.create_publisher(DiagnosticStatus, topics.SAFETY_EVENTS, qos.EVENT)
        self._cmd = TwistStamped()
        self._cmd.header.frame_id = config.base_frame

        self.create_subscription(
            TwistStamped, topics.CMD_VEL_RAW, self._command_callback(POLICY), qos.COMMAND
        )
        self.create_subscription(
            TwistStamped, topics.TELEOP_CMD_VEL, self._command_callback(TELEOP), qos.COMMAND
        )
        self.create_subscription(LaserScan, config.scan_topic, self._on_scan, qos.SENSOR)
        self.create_subscription(Odometry, topics.ODOM, self._on_odom, qos.SENSOR)
        self.create_subscription(Imu, topics.IMU, self._on_imu, qos.SENSOR)
        self.create_subscription(Bool, topics.ESTOP, self._on_estop, qos.LATCHED)
        self.create_subscription(Bool, topics.SAFETY_HEARTBEAT, self._on_heartbeat, qos.SENSOR)
        self.create_service(Trigger, topics.SAFETY_RESET, self._on_reset)
        self._tick = self.create_timer(1.0 / config.control_rate, self._on_tick)
        self.create_timer(1.0 / config.status_rate, self._publish_status)
        self.get_logger().info(
            f"scan={self.resolve_topic_name(config.scan_topic)} rate={config.control_rate:g} Hz "
            f"limits v=[-{config.limits.max_linear_reverse}, {config.limits.max_linear_forward}] "
            f"m/s w={config.limits.max_angular} rad/s heartbeat={config.heartbeat.mode}"
        )

    def _now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def _reconfigure(self, config: SafetyConfig) -> None:
        self.core.configure(config)
        self.get_logger().info("parameters updated")
        self._publish_status()

    def _refused(self, what: str, reason: str, count: int) -> None:
        # One throttle per input: a broken publisher must not hide a bad sensor's refusals.
        self._refusal_log.warning(what, f"refused {what} ({count} so far): {reason}")

    # --- inputs -------------------------------------------------------------------------------

    def _command_callback(self, source: str) -> Callable[[TwistStamped], None]:
        def on_command(msg: TwistStamped) -> None:
            now = self._now_ns()
            refused = self.core.command(
                source,
                msg.twist.linear.x,
                msg.twist.angular.z,
                msg.header.frame_id,
                stamp_to_ns(msg.header.stamp),
                now,
            )
            if refused is not None:
                counter = self.core.counters["refused_commands"]
                self._refused(f"{source} command", refused, counter)
            self._step(now)

        return on_command

    def _on_scan(self, msg: LaserScan) -> None:
        now = self._now_ns()
        reason = self.core.scan(
            msg.angle_min,
            msg.angle_max,
            msg.angle_increment,
            msg.range_min,
            msg.range_max,
            msg.ranges,
            now,
        )
        if reason is not None:
            self._refused("scan", reason, self.core.counters["refused_scans"])
            return
        # Only a stop-zone trip reacts at once: the command computed from this scan steps the
        # supervisor a moment later (the timer at the latest), with slowdown and approach.
        if self.core.scan_stop_pending:
            self._step(now)

    def _on_odom(self, msg: Odometry) -> None:
        now = self._now_ns()
        p = msg.pose.pose.position
        reason = self.core.odometry(p.x, p.y, now)
        if reason is not None:
            self._refused("odom", reason, self.core.counters["refused_odom"])
        elif self.core.stop_pending:
            self._step(now)

    def _on_imu(self, msg: Imu) -> None:
        now = self._now_ns()
        q = msg.orientation
        reason = self.core.imu(q.x, q.y, q.z, q.w, now)
        if reason is not None:
            self._refused("imu", reason, self.core.counters["refused_imu"])
        elif self.core.stop_pending:
            self._step(now)

    def _on_estop(self, msg: Bool) -> None:
        self.core.estop(msg.data)
        if msg.data:
            self._step(self._now_ns())

    def _on_heartbeat(self, msg: Bool) -> None:
        now = self._now_ns()
        self.core.heartbeat(msg.data, now)
        if self.core.stop_pending:
            self._step(now)

    def _on_reset(self, _request: Trigger.Request, response: Trigger.Response) -> Any:
        now = self._now_ns()
        response.success, response.message = self.core.reset(now)
        # rclpy refuses one call site logging at two severities: one call per severity.
        if response.success:
            self.get_logger().info(f"reset requested: {response.message}")
        else:
            self.get_logger().warning(f"reset requested: {response.message}")
        self._step(now)
        return response

    # --- outputs ------------------------------------------------------------------------------

    def _on_tick(self) -> None:
        self._step(self._now_ns())

    def _step(self, now_ns: int) -> None:
        result = self.core.step(now_ns)
        self._publish(result)
        self._tick.reset()  # the next tick one period after this step (see the docstring)

    def _publish(self, result: StepResult) -> None:
        self._publish_command(result.stamp_ns, result.twist.linear, result.twist.angular)
        for event in result.events:
            self.event_pub.publish(event_message(event, self._hardware_id))
            if event.level:
                self.get_logger().warning(f"{event.kind}: {event.reason}")
            else:
                self.get_logger().info(f"{event.kind}: {event.reason}")
        if result.changed:
            self._publish_status()

    def _publish_command(self, stamp_ns: int, linear: float, angular: float) -> None:
        cmd = self._cmd
        cmd.header.stamp = ns_to_stamp(stamp_ns)
        cmd.twist.linear.x, cmd.twist.angular.z = linear, angular
        self.cmd_pub.publish(cmd)

    def _publish_status(self) -> None:
        now = self._now_ns()
        self.status_pub.publish(
            status_message(self.core.status(now), ns_to_stamp(now), self._hardware_id)
        )

    def destroy_node(self) -> None:
        # Leave the actuators with a zero command rather than the last one.
        with contextlib.suppress(Exception):  # the context may be shutting down already
            self._publish_command(self._now_ns(), 0.0, 0.0)
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return int(run_node(lambda: SafetyNode(), args))


if __name__ == "__main__":
    raise SystemExit(main())
