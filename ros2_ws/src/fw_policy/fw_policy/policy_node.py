"""ROS 2 lifecycle node ``policy``: perception outputs → velocity commands.

Subscribes
    ``fw/perception/scan`` (sensor_msgs/LaserScan, best effort): each scan triggers a command
    (``trigger: scan``), or the newest one is used by a timer (``trigger: timer``).
    ``fw/perception/state`` (nav_msgs/Odometry, best effort): current velocity.
    ``fw/perception/goal`` (geometry_msgs/PoseStamped in ``base_link``, best effort).
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

The decisions (input gate, featurize, act, zero on stale input or error) are
:class:`fw_policy.policy_step.PolicyStep`'s; this node converts messages and publishes.

Lifecycle: configure builds the policy (loads, checks and warms up the model, or falls back to
``fallback_kind`` and says so) and creates the topics; activate enables commands. With
``autostart`` (default) the node configures and activates itself at start, so a plain executor
runs it. ``model_path`` / ``kind`` changes at run time are validated in the parameter callback
(the model is loaded and warmed up there); a refused change leaves the running policy as is.
"""

from __future__ import annotations

import json
from typing import Any

from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import Odometry
from rcl_interfaces.msg import SetParametersResult
from rclpy.lifecycle import Node as LifecycleNode
from rclpy.lifecycle import State, TransitionCallbackReturn
from rclpy.parameter import Parameter
from sensor_msgs.msg import LaserScan
from std_msgs.msg import String

from fw_common import qos, topics
from fw_common.conversions import ns_to_stamp, stamp_to_ns
from fw_common.errors import ProfileError
from fw_common.laser_scan import LaserScanData
from fw_common.observation import spec_by_name
from fw_common.profile import PolicyConfig
from fw_common.profile.schema import flatten_section, section_from_flat
from fw_common.ros_params import SectionParameters
from fw_common.shutdown import QuietShutdown
from fw_common.spin import run_node
from fw_policy.classic import FollowTheGap
from fw_policy.errors import ModelRejectedError
from fw_policy.policy_step import PolicyCommand, PolicyStep
from fw_policy.registry import BuiltPolicy, build_policy, make_policy

__all__ = ["PolicyNode", "main"]

_SWAP_KEYS = ("kind", "model_path", "intra_op_threads", "fallback_kind")


class PolicyNode(QuietShutdown, LifecycleNode):
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
        self.step: PolicyStep | None = None
        self._last_stop_reason: str | None = None
        self._cmd = TwistStamped()
        self._cmd.header.frame_id = "base_link"
        self._cmd_pub: Any = None
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
        self.step = PolicyStep(config, self.spec, self.built.policy)
        self._cmd_pub = self.create_lifecycle_publisher(
            TwistStamped, config.output_topic, qos.COMMAND
        )
        self._entities = [
            self.create_subscription(LaserScan, topics.PERCEPTION_SCAN, self._on_scan, qos.SENSOR),
            self.create_subscription(
                Odometry, topics.PERCEPTION_STATE, self._on_state, qos.SENSOR
            ),
            self.create_subscription(
                PoseStamped, topics.PERCEPTION_GOAL, self._on_goal, qos.SENSOR
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
            if hasattr(entity, "cancel"):
                self.destroy_timer(entity)
            else:
                self.destroy_subscription(entity)
        self._entities = []
        if self._cmd_pub is not None:
            self.destroy_lifecycle_publisher(self._cmd_pub)
            self._cmd_pub = None
        self.built = None
        self.step = None

    def on_cleanup(self, state: State) -> TransitionCallbackReturn:
        self._release()
        self._publish_info("unconfigured")
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: State) -> TransitionCallbackReturn:
        # A transition that raised (e.g. configure, half done) must not leave a publisher or
        # direct subscriptions behind: the next configure would add a second set.
        self._release()
        return TransitionCallbackReturn.SUCCESS

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
        if self.step is not None:
            self.step.reconfigure(config)
            self.step.policy = self.built.policy
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
    def _on_state(self, msg: Odometry) -> None:
        if self.step is not None:
            twist = msg.twist.twist
            self.step.state(stamp_to_ns(msg.header.stamp), twist.linear.x, twist.angular.z)

    def _on_goal(self, msg: PoseStamped) -> None:
        if self.step is not None:
            p = msg.pose.position
            self.step.goal(stamp_to_ns(msg.header.stamp), p.x, p.y)

    def _on_scan(self, msg: LaserScan) -> None:
        if self.step is None:
            return
        command = self.step.scan(LaserScanData.from_msg(msg))
        if command is not None and self._active:
            self._publish(command)

    def _on_timer(self) -> None:
        if self.step is not None and self._active:
            self._publish(self.step.tick(self.get_clock().now().nanoseconds))

    def _publish(self, command: PolicyCommand) -> None:
        reason = command.reason
        if reason is not None and reason != self._last_stop_reason:
            self.get_logger().info(f"zero command: {reason}")
        elif reason is None and self._last_stop_reason is not None:
            self.get_logger().info(f"driving with {self._describe_short()}")
        self._last_stop_reason = reason
        if self._cmd_pub is None:
            return
        cmd = self._cmd
        cmd.header.stamp = ns_to_stamp(command.stamp_ns)  # the scan's: latency is measured
        cmd.twist.linear.x = command.linear
        cmd.twist.angular.z = command.angular
        self._cmd_pub.publish(cmd)


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: PolicyNode(), args)


if __name__ == "__main__":
    raise SystemExit(main())
