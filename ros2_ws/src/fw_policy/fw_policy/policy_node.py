"""ROS 2 lifecycle node ``policy``: perception outputs → velocity commands.

Subscribes
    ``fw/perception/scan`` (sensor_msgs/LaserScan, best effort): each scan triggers a command
    (``trigger: scan``), or the newest one is used by a timer (``trigger: timer``).
    ``fw/perception/state`` (nav_msgs/Odometry, best effort): current velocity.
    ``fw/perception/goal`` (geometry_msgs/PoseStamped in ``base_link``, best effort).
    All three are read from their serialized bytes (fw_common.cdr_fields), which come by
    direct call when perception is composed into the same process first
    (fw_common.intra_process). Malformed bytes are logged and ignored.
Publishes
    ``fw/cmd_vel_raw`` (geometry_msgs/TwistStamped, reliable; ``output_topic``): stamped with
    the *scan's* stamp, so latency is measurable end to end. Zero when there is no goal, the
    goal is reached, an input is stale, or the policy cannot decide.
    ``fw/policy/info`` (std_msgs/String, JSON, latched): what runs. A JSON string rather than
    DiagnosticStatus because it is structured, nested (action scale, fallback reason) and read
    by programs (the cloud agent, tests) more than by people. Keys: ``state`` (lifecycle),
    ``kind``, ``requested_kind``, ``fallback`` (+ ``fallback_reason``), ``spec``, ``spec_id``,
    and for ``onnx`` ``model_path``, ``model_sha256``, ``model_version``, ``loaded_at``,
    ``action_scale``, ``intra_op_threads``; ``refused`` holds the last refused swap.

Lifecycle: configure builds the policy (loads, checks and warms up the model, or falls back to
``fallback_kind`` and says so) and creates the topics; activate enables commands. With
``autostart`` (default) the node configures and activates itself at start, so a plain executor
runs it. ``model_path`` / ``kind`` changes at run time are validated in the parameter callback
(the model is loaded and warmed up there); a refused change leaves the running policy as is.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import numpy as np
from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import Odometry
from rcl_interfaces.msg import SetParametersResult
from rclpy.lifecycle import Node as LifecycleNode
from rclpy.lifecycle import State, TransitionCallbackReturn
from rclpy.parameter import Parameter
from sensor_msgs.msg import LaserScan
from std_msgs.msg import String

from fw_common import intra_process, qos, topics
from fw_common.cdr_fields import (
    CdrError,
    LaserScanFields,
    read_laser_scan,
    read_odometry,
    read_pose_stamped,
)
from fw_common.errors import ProfileError
from fw_common.intra_process import ControlPublisher, DirectSubscription, control_subscription
from fw_common.observation import spec_by_name
from fw_common.profile import PolicyConfig
from fw_common.profile.schema import flatten_section, section_from_flat
from fw_common.ros_params import SectionParameters
from fw_common.spin import run_node
from fw_common.throttled_log import KeyedThrottle
from fw_common.twist_out import TwistStampedOut
from fw_policy.base import PolicyInput
from fw_policy.classic import FollowTheGap
from fw_policy.errors import ModelRejectedError
from fw_policy.gating import stop_reason
from fw_policy.registry import BuiltPolicy, build_policy, make_policy

__all__ = ["PolicyNode", "main"]

_LOG_THROTTLE_S = 2.0


class _State(NamedTuple):
    """What the policy uses of the fused state: its stamp and velocity."""

    stamp_ns: int
    linear: float
    angular: float


class _Goal(NamedTuple):
    """The goal in base_link (m) and its stamp."""

    stamp_ns: int
    x: float
    y: float


_SWAP_KEYS = ("kind", "model_path", "intra_op_threads", "fallback_kind")


class PolicyNode(LifecycleNode):
    """Thin wrapper around the policy registry (:mod:`fw_policy.registry`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("policy", **kwargs)
        self.params = SectionParameters(self, PolicyConfig, self._on_params)
        config = self.params.current
        try:
            self.spec = spec_by_name(config.observation_spec)
        except KeyError as exc:
            raise ValueError(str(exc)) from None
        self.built: BuiltPolicy | None = None
        self._pending: tuple[PolicyConfig, BuiltPolicy] | None = None
        self._refused: dict[str, str] | None = None
        self._active = False
        self._scan: LaserScanFields | None = None
        self._state: _State | None = None
        self._goal: _Goal | None = None
        self._malformed_log = KeyedThrottle(self.get_logger(), _LOG_THROTTLE_S)
        self._last_stop_reason: str | None = None
        self.commands = 0
        self.stops: dict[str, int] = {}
        # Written as bytes; a TwistStamped object only for a consumer that takes objects.
        self._cmd = TwistStampedOut("base_link")
        self._cmd_pub: ControlPublisher | None = None
        self._entities: list[Any] = []
        self.info_pub = self.create_publisher(String, topics.POLICY_INFO, qos.LATCHED)
        self.add_on_set_parameters_callback(self._validate_swap)
        if config.autostart:
            self.trigger_configure()
            self.trigger_activate()

    # --- lifecycle -----------------------------------------------------------------------
    def on_configure(self, state: State) -> TransitionCallbackReturn:
        config = self.params.current
        self.built = build_policy(config, self.spec)
        if self.built.fallback_reason is not None:
            self.get_logger().warning(
                f"falling back to {self.built.policy.kind!r}: {self.built.fallback_reason}"
            )
        # Scan in and command out are the control path: composed with perception and the
        # safety supervisor in one process, they go by direct call (fw_common.intra_process).
        self._cmd_pub = ControlPublisher(
            self, TwistStamped, config.output_topic, qos.COMMAND, lifecycle=True
        )
        # All three inputs are read from their bytes (fw_common.cdr_fields), direct or over
        # DDS: rclpy's Python messages cost more than the policy's own work, state and goal
        # arrive at the odometry rate, in front of the scans.
        self._entities = [
            control_subscription(
                self, LaserScan, topics.PERCEPTION_SCAN, self._on_scan, qos.SENSOR, raw=True
            ),
            control_subscription(
                self, Odometry, topics.PERCEPTION_STATE, self._on_state, qos.SENSOR, raw=True
            ),
            control_subscription(
                self, PoseStamped, topics.PERCEPTION_GOAL, self._on_goal, qos.SENSOR, raw=True
            ),
        ]
        if config.trigger == "timer":
            self._entities.append(self.create_timer(1.0 / config.timer_rate, self._on_timer))
        self._publish_info("inactive")
        self.get_logger().info(
            f"configured: {self._describe_short()} -> {config.output_topic} "
            f"(trigger={config.trigger})"
        )
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: State) -> TransitionCallbackReturn:
        self._active = True
        self._publish_info("active")
        return super().on_activate(state)

    def on_deactivate(self, state: State) -> TransitionCallbackReturn:
        self._active = False
        self._publish_info("inactive")
        return super().on_deactivate(state)

    def _release(self) -> None:
        self._active = False
        for entity in self._entities:
            if isinstance(entity, DirectSubscription):
                entity.destroy()
            elif hasattr(entity, "cancel"):
                self.destroy_timer(entity)
            else:
                self.destroy_subscription(entity)
        self._entities = []
        if self._cmd_pub is not None:
            self._cmd_pub.destroy()
            self._cmd_pub = None
        self.built = None

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        self._release()
        self._publish_info("unconfigured")
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: State) -> TransitionCallbackReturn:
        # A transition that raised (e.g. configure, half done) must not leave a publisher or
        # direct subscriptions behind: the next configure would add a second set.
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def destroy_node(self) -> None:
        intra_process.release(self)
        super().destroy_node()

    def on_shutdown(self, state: State) -> TransitionCallbackReturn:
        self._release()
        self._publish_info("finalized")
        return TransitionCallbackReturn.SUCCESS

    # --- model swaps -----------------------------------------------------------------------
    def _candidate(self, params: list[Parameter]) -> PolicyConfig | None:
        flat = flatten_section(self.params.current)
        for p in params:
            if p.name in flat:
                flat[p.name] = list(p.value) if isinstance(p.value, list | tuple) else p.value
        try:
            return section_from_flat(PolicyConfig, flat, self.get_name())
        except ProfileError:
            return None  # SectionParameters refuses it with the full reason

    def _validate_swap(self, params: list[Parameter]) -> SetParametersResult:
        self._pending = None
        if self.built is None or not any(p.name in _SWAP_KEYS for p in params):
            return SetParametersResult(successful=True)
        candidate = self._candidate(params)
        if candidate is None:
            return SetParametersResult(successful=True)
        try:
            policy = make_policy(candidate.kind, candidate, self.spec)
            if candidate.kind != "onnx" and candidate.model_path:
                # A model named at run time must be usable even while another kind drives.
                make_policy("onnx", candidate, self.spec)
        except ModelRejectedError as exc:
            reason = f"refused model {candidate.model_path!r}: {exc}"
            self.get_logger().warning(f"{reason}; keeping {self._describe_short()}")
            self._refused = {"model_path": candidate.model_path, "reason": str(exc)}
            self._publish_info("active" if self._active else "inactive")
            return SetParametersResult(successful=False, reason=reason)
        self._pending = (candidate, BuiltPolicy(policy, candidate.kind))
        return SetParametersResult(successful=True)

    def _on_params(self, config: PolicyConfig) -> None:
        pending, self._pending = self._pending, None
        if self.built is None:
            return
        if pending is not None and pending[0] == config:
            self.built = pending[1]
            self.get_logger().info(f"now running {self._describe_short()}")
        elif isinstance(self.built.policy, FollowTheGap):
            self.built = BuiltPolicy(
                FollowTheGap(config.classic),
                self.built.requested_kind,
                self.built.fallback_reason,
            )
        self._publish_info("active" if self._active else "inactive")

    def _describe_short(self) -> str:
        if self.built is None:
            return "nothing"
        info = self.built.policy.describe()
        if info["kind"] == "onnx":
            return f"onnx {info['model_version']} ({info['model_sha256'][:12]})"
        return str(info["kind"])

    def _publish_info(self, lifecycle_state: str) -> None:
        info: dict[str, Any] = {
            "state": lifecycle_state,
            "spec": self.spec.name,
            "spec_version": self.spec.version,
            "spec_id": self.spec.spec_id,
        }
        if self.built is not None:
            info.update(self.built.describe())
        if self._refused is not None:
            info["refused"] = self._refused
        self.info_pub.publish(String(data=json.dumps(info, sort_keys=True)))

    # --- commands --------------------------------------------------------------------------
    def _malformed(self, topic: str, exc: CdrError) -> None:
        # One call site for every input: throttled per topic (fw_common.throttled_log). The
        # last good input goes stale, and the policy stops.
        self._malformed_log.warning(topic, f"ignored {topic}: malformed message: {exc}")

    def _on_state(self, data: bytes) -> None:
        try:
            s = read_odometry(data)
        except CdrError as exc:
            self._malformed(topics.PERCEPTION_STATE, exc)
            return
        self._state = _State(s.stamp_ns, s.linear_x, s.angular_z)

    def _on_goal(self, data: bytes) -> None:
        try:
            g = read_pose_stamped(data)
        except CdrError as exc:
            self._malformed(topics.PERCEPTION_GOAL, exc)
            return
        self._goal = _Goal(g.stamp_ns, g.x, g.y)

    def _on_scan(self, data: bytes) -> None:
        try:
            scan = read_laser_scan(data)
        except CdrError as exc:
            self._malformed(topics.PERCEPTION_SCAN, exc)
            return
        self._scan = scan
        if self.params.current.trigger == "scan":
            self._step(scan, scan.stamp_ns)

    def _on_timer(self) -> None:
        now_ns = self.get_clock().now().nanoseconds
        if self._scan is None:
            self._publish(0.0, 0.0, "no scan yet", None)
            return
        self._step(self._scan, now_ns)

    def _stop_reason(self, scan_ns: int, now_ns: int) -> str | None:
        config = self.params.current
        state, goal = self._state, self._goal
        return stop_reason(
            scan_ns,
            now_ns,
            state_ns=None if state is None else state.stamp_ns,
            goal_ns=None if goal is None else goal.stamp_ns,
            goal_xy=None if goal is None else (goal.x, goal.y),
            input_timeout=config.input_timeout,
            goal_tolerance=config.goal_tolerance,
        )

    def _step(self, scan: LaserScanFields, now_ns: int) -> None:
        if not self._active or self.built is None:
            return
        reason = self._stop_reason(scan.stamp_ns, now_ns)
        if reason is not None:
            self._publish(0.0, 0.0, reason, scan)
            return
        state, goal = self._state, self._goal
        assert state is not None and goal is not None
        inputs = PolicyInput(
            ranges=np.asarray(scan.ranges, dtype=np.float32),  # native order (a no-op on LE)
            angle_min=scan.angle_min,
            angle_increment=scan.angle_increment,
            range_min=scan.range_min,
            goal_xy=(goal.x, goal.y),
            linear=state.linear,
            angular=state.angular,
        )
        try:
            action = self.built.policy.act(inputs)
        except ValueError as exc:
            self._publish(0.0, 0.0, f"policy error: {exc}", scan)
            return
        self._publish(action.linear, action.angular, None, scan)

    def _publish(
        self, linear: float, angular: float, reason: str | None, scan: LaserScanFields | None
    ) -> None:
        if reason is not None:
            key = reason.split(":")[0]
            self.stops[key] = self.stops.get(key, 0) + 1
            if reason != self._last_stop_reason:
                self.get_logger().info(f"zero command: {reason}")
        elif self._last_stop_reason is not None:
            self.get_logger().info(f"driving with {self._describe_short()}")
        self._last_stop_reason = reason
        if self._cmd_pub is None:
            return
        # The scan's stamp: latency is measured from it downstream.
        stamp_ns = self.get_clock().now().nanoseconds if scan is None else scan.stamp_ns
        out = (stamp_ns, float(linear), float(angular))
        msg = self._cmd.fill_message(*out) if self._cmd_pub.needs_message else None
        self._cmd_pub.publish(msg, serialized=self._cmd.serialized(*out))
        self.commands += 1


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: PolicyNode(), args)


if __name__ == "__main__":
    raise SystemExit(main())
