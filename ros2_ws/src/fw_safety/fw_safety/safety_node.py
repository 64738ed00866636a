"""ROS 2 node ``safety``: the only path from command sources to ``cmd_vel``.

Subscribes
    ``fw/cmd_vel_raw`` (geometry_msgs/TwistStamped, reliable): the policy (by direct call when
    the policy is composed into the same process first; fw_common.intra_process).
    ``fw/teleop/cmd_vel`` (geometry_msgs/TwistStamped, reliable): a person; wins while fresh.
    ``scan`` (sensor_msgs/LaserScan, best effort; the ``scan_topic`` setting or a remap).
    ``odom`` (nav_msgs/Odometry, best effort), ``imu`` (sensor_msgs/Imu, best effort).
    Both command topics, scan, odometry and IMU are read from their serialized bytes
    (fw_common.cdr_fields); malformed bytes are refused like bad values (a command that does
    not parse is a fresh zero from its source).
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
import functools
from collections.abc import Callable
from typing import Any

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import Imu, LaserScan
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

from fw_common import intra_process, qos, topics
from fw_common.cdr_fields import (
    CdrError,
    read_imu,
    read_laser_scan,
    read_odometry,
    read_twist_stamped,
)
from fw_common.conversions import ns_to_stamp
from fw_common.intra_process import ControlPublisher, control_subscription
from fw_common.profile import SafetyConfig
from fw_common.ros_params import SectionParameters
from fw_common.spin import run_node
from fw_common.throttled_log import KeyedThrottle
from fw_common.twist_out import TwistStampedOut
from fw_safety.diagnostics import event_message, status_message
from fw_safety.supervisor import POLICY, TELEOP, SafetySupervisor, StepResult

__all__ = ["SafetyNode", "main"]

_LOG_THROTTLE_S = 2.0
#: The supervisor's refusal counter for each input read from bytes.
_REFUSED_COUNTER = {"scan": "refused_scans", "odom": "refused_odom", "imu": "refused_imu"}


class SafetyNode(Node):
    """Thin wrapper around :class:`SafetySupervisor`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("safety", **kwargs)
        self.params = SectionParameters(self, SafetyConfig, self._reconfigure)
        config = self.params.current
        self.core = SafetySupervisor(config)
        self._refusal_log = KeyedThrottle(self.get_logger(), _LOG_THROTTLE_S)
        self._hardware_id = self.get_namespace()

        # The actuator bridge composed into this process after it takes cmd_vel by direct
        # call (fw_common.intra_process), and then only from this node.
        self.cmd_pub = ControlPublisher(self, TwistStamped, topics.CMD_VEL, qos.COMMAND)
        self.status_pub = self.create_publisher(DiagnosticArray, topics.SAFETY_STATUS, qos.STATUS)
        self.event_pub = self.create_publisher(DiagnosticStatus, topics.SAFETY_EVENTS, qos.EVENT)
        # Commands out are written as bytes (fw_common.twist_out).
        self._out = TwistStampedOut(config.base_frame)

        # The policy's command is the control path: composed with the policy in one process,
        # it comes by direct call (fw_common.intra_process).
        # Commands are read from their bytes (fw_common.cdr_fields), the policy's direct too.
        control_subscription(
            self,
            TwistStamped,
            topics.CMD_VEL_RAW,
            self._command_callback(POLICY),
            qos.COMMAND,
            raw=True,
        )
        self.create_subscription(
            TwistStamped,
            topics.TELEOP_CMD_VEL,
            self._command_callback(TELEOP),
            qos.COMMAND,
            raw=True,
        )
        # Serialized (raw): a Python LaserScan, Odometry or Imu costs more than the checks
        # (fw_common.cdr_fields), and the scan lands on this executor next to perception's
        # copy, odometry and IMU faster than the scans.
        self.create_subscription(LaserScan, config.scan_topic, self._on_scan, qos.SENSOR, raw=True)
        self.create_subscription(Odometry, topics.ODOM, self._on_odom, qos.SENSOR, raw=True)
        self.create_subscription(Imu, topics.IMU, self._on_imu, qos.SENSOR, raw=True)
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

    def _refused(self, what: str, reason: str, count: int, malformed: bool = False) -> None:
        # Per input, and malformed bytes apart from bad values (a broken publisher next to a
        # bad sensor): see fw_common.throttled_log.
        self._refusal_log.warning((what, malformed), f"refused {what} ({count} so far): {reason}")

    def _malformed(self, what: str, exc: CdrError) -> None:
        """Bytes that are no well-formed message: refused like bad values (no watchdog fed)."""
        counter = _REFUSED_COUNTER[what]
        self.core.counters[counter] += 1
        reason = f"malformed message: {exc}"
        self._refused(what, reason, self.core.counters[counter], malformed=True)

    # --- inputs -------------------------------------------------------------------------------

    def _command_callback(self, source: str) -> Callable[[bytes], None]:
        def on_command(data: bytes) -> None:
            now = self._now_ns()
            what = f"{source} command"
            try:
                cmd = read_twist_stamped(data)
            except CdrError as exc:
                reason = self.core.unreadable_command(source, f"malformed message: {exc}", now)
                self._refused(what, reason, self.core.counters["refused_commands"], True)
            else:
                refused = self.core.command(
                    source, cmd.linear_x, cmd.angular_z, cmd.frame_id, cmd.stamp_ns, now
                )
                if refused is not None:
                    self._refused(what, refused, self.core.counters["refused_commands"])
            self._step(now)

        return on_command

    def _on_scan(self, data: bytes) -> None:
        now = self._now_ns()
        try:
            scan = read_laser_scan(data)
        except CdrError as exc:
            self._malformed("scan", exc)
            return
        reason = self.core.scan(
            scan.angle_min,
            scan.angle_max,
            scan.angle_increment,
            scan.range_min,
            scan.range_max,
            scan.ranges,
            now,
        )
        if reason is not None:
            self._refused("scan", reason, self.core.counters["refused_scans"])
            return
        # Only a stop-zone trip reacts here: the scan is also on its way to perception and the
        # policy, and in one process this callback may run ahead of them. Stepping (zones, the
        # approach rule) and publishing on every scan sat in front of that chain; the command
        # computed from this scan steps a millisecond or two later, the timer at the latest.
        if self.core.scan_stop_pending:
            self._step(now)

    def _on_odom(self, data: bytes) -> None:
        now = self._now_ns()
        try:
            odom = read_odometry(data)
        except CdrError as exc:
            self._malformed("odom", exc)
            return
        reason = self.core.odometry(odom.x, odom.y, now)
        if reason is not None:
            self._refused("odom", reason, self.core.counters["refused_odom"])
        elif self.core.stop_pending:
            self._step(now)

    def _on_imu(self, data: bytes) -> None:
        now = self._now_ns()
        try:
            imu = read_imu(data)
        except CdrError as exc:
            self._malformed("imu", exc)
            return
        reason = self.core.imu(imu.qx, imu.qy, imu.qz, imu.qw, now)
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
        out, command = self._out, (stamp_ns, linear, angular)
        # The bridge composed into this process takes the object; the bytes are written after
        # it has it (fw_common.intra_process), for DDS.
        msg = out.fill_message(*command) if self.cmd_pub.needs_message else None
        self.cmd_pub.publish(msg, serialized=functools.partial(out.serialized, *command))

    def _publish_status(self) -> None:
        now = self._now_ns()
        self.status_pub.publish(
            status_message(self.core.status(now), ns_to_stamp(now), self._hardware_id)
        )

    def destroy_node(self) -> None:
        # Leave the actuators with a zero command rather than the last one.
        with contextlib.suppress(Exception):  # the context may be shutting down already
            self._publish_command(self._now_ns(), 0.0, 0.0)
        intra_process.release(self)
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return int(run_node(lambda: SafetyNode(), args))


if __name__ == "__main__":
    raise SystemExit(main())
