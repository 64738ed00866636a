"""The robot loop: the edge stack's decisions on plain values, with no ROS anywhere below it.

One robot's steps composed as its nodes compose them over topics:

    scan ─► PerceptionStep ─► PolicyStep ─► SafetySupervisor ─► ActuatorBridgeCore ─► wheels
    joint_states ─► ActuatorBridgeCore (odometry) ─► PerceptionStep (state, goal) ─► PolicyStep
    imu ─► PerceptionStep (gyro), SafetySupervisor (tilt);  teleop ─► SafetySupervisor

Three hosts run this one loop, which is what "no train/serve skew" means here: the ROS nodes
(each a thin wrapper around one of the steps), the golden-bag replays in the tests, and the cloud
(the dataset build re-runs it on recorded sensor streams; headless evaluation runs it against the
PyBullet world). Each input method reacts as the node that takes that topic does, and returns
everything the nodes would publish in reaction (:class:`LoopOutput`); :meth:`RobotLoop.tick`
runs the nodes' timers at the control rate: safety's watchdog step and the bridge's wheel
command. Times are integer nanoseconds on the robot's clock (sim time in simulation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fw_actuator_bridge.bridge import ActuatorBridgeCore, WheelCommand
from fw_actuator_bridge.odometry import OdometryState
from fw_common.laser_scan import LaserScanData
from fw_common.observation import spec_by_name
from fw_common.profile import RobotProfile
from fw_perception.perception_step import GoalInBase, PerceptionStep
from fw_perception.state_fusion import FusedState
from fw_policy.base import Action, Policy, PolicyInput
from fw_policy.policy_step import PolicyCommand, PolicyStep
from fw_policy.registry import build_policy
from fw_safety.supervisor import POLICY, TELEOP, SafetySupervisor, StepResult

__all__ = ["LoopOutput", "PendingDecision", "RobotLoop"]


@dataclass
class LoopOutput:
    """What the nodes would publish in reaction to one input or tick (None: nothing)."""

    #: ``odom`` (the bridge's wheel odometry).
    odometry: OdometryState | None = None
    #: ``fw/perception/scan``.
    cleaned_scan: LaserScanData | None = None
    #: ``fw/perception/state``.
    state: FusedState | None = None
    #: ``fw/perception/goal``.
    goal: GoalInBase | None = None
    #: ``fw/cmd_vel_raw``.
    policy_command: PolicyCommand | None = None
    #: One per supervisor step: ``cmd_vel`` and the ``fw/safety/events`` it started.
    safety: list[StepResult] = field(default_factory=list)
    #: ``fw/joint_commands`` (the bridge's control tick).
    wheels: WheelCommand | None = None
    #: Inputs refused on the way, ``"<input>: <reason>"``.
    refused: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PendingDecision:
    """A scan waiting for the policy's action (:meth:`RobotLoop.scan_to_decision`)."""

    #: The scan's output so far (safety's reaction to it, the cleaned scan).
    out: LoopOutput
    cleaned_scan: LaserScanData
    #: What the policy is asked (the observation spec's vector among them).
    inputs: PolicyInput
    now_ns: int
    #: Which of the loop's decisions this is: only the latest, unfinished one is accepted.
    sequence: int = -1


class _Timer:
    """A periodic timer on the loop's clock: due once per period, from the first call on."""

    def __init__(self, rate_hz: float) -> None:
        self.period_ns = round(1e9 / rate_hz)
        self.next_ns: int | None = None

    def due(self, now_ns: int) -> bool:
        if self.next_ns is not None and now_ns < self.next_ns:
            return False
        self.next_ns = now_ns + self.period_ns
        return True


class RobotLoop:
    """One robot's perception, policy, safety supervisor and actuator bridge, composed.

    ``policy`` replaces the policy the profile's ``policy`` section builds (e.g. a model
    under evaluation); its kind's fallback rules apply only to the built one.
    """

    def __init__(self, profile: RobotProfile, policy: Policy | None = None) -> None:
        self.profile = profile
        spec = spec_by_name(profile.policy.observation_spec)
        if policy is None:
            policy = build_policy(profile.policy, spec).policy
        self.perception = PerceptionStep(profile.perception)
        self.policy = PolicyStep(profile.policy, spec, policy)
        self.safety = SafetySupervisor(profile.safety)
        self.bridge = ActuatorBridgeCore(profile.actuator_bridge)
        self._safety_period_ns = round(1e9 / profile.safety.control_rate)
        self._last_safety_step_ns: int | None = None
        self._bridge_timer = _Timer(profile.actuator_bridge.control_rate)
        self._policy_timer = _Timer(profile.policy.timer_rate)
        #: Decisions handed out so far, and the sequence number of the one still waiting.
        self._decisions = 0
        self._open_decision: int | None = None

    # --- sensor and command inputs --------------------------------------------------------------

    def scan(self, scan: LaserScanData, now_ns: int) -> LoopOutput:
        """A raw lidar scan: safety's zones see it as it is, perception cleans it, and the
        policy (``trigger: scan``) turns it into a command that goes down the chain."""
        step = self.scan_to_decision(scan, now_ns)
        if isinstance(step, PendingDecision):
            return self.finish_decision(step, self.policy.act(step.inputs))
        return step

    # :meth:`scan` in halves around the policy's action, for a caller that chooses the action
    # itself (a learning agent stepping the loop one decision at a time): the same calls in the
    # same order, so the halves decide exactly what :meth:`scan` decides.

    def scan_to_decision(self, scan: LaserScanData, now_ns: int) -> LoopOutput | PendingDecision:
        """:meth:`scan` up to the policy's action: the decision waiting for it, or the output
        when the policy is not asked (its gate stopped the robot, a refused scan, ``trigger:
        timer``). A newer scan supersedes a decision still waiting."""
        self._open_decision = None
        out = LoopOutput()
        refused = self.safety.scan(
            scan.angle_min,
            scan.angle_max,
            scan.angle_increment,
            scan.range_min,
            scan.range_max,
            scan.ranges,
            now_ns,
        )
        if refused is not None:
            out.refused.append(f"safety scan: {refused}")
        elif self.safety.scan_stop_pending:
            self._safety_step(now_ns, out)
        cleaned = self.perception.scan(scan)
        if isinstance(cleaned, str):
            out.refused.append(f"perception scan: {cleaned}")
            return out
        out.cleaned_scan = cleaned
        asked = self.policy.ask_scan(cleaned)
        if isinstance(asked, PolicyInput):
            self._decisions += 1
            self._open_decision = self._decisions
            return PendingDecision(out, cleaned, asked, now_ns, self._decisions)
        if asked is not None:
            self._policy_command(asked, now_ns, out)
        return out

    def finish_decision(self, pending: PendingDecision, action: Action | ValueError) -> LoopOutput:
        """:meth:`scan` from the policy's ``action`` (or its refusal) on: the command goes down
        the chain; the scan's whole output. Raises ``ValueError`` for a decision that is not
        the latest :meth:`scan_to_decision` handed out, or is finished already: its command
        would act on an old scan, or twice."""
        if pending.sequence != self._open_decision:
            raise ValueError(
                f"decision {pending.sequence} is not the one waiting "
                f"({self._open_decision or 'none'}): superseded by a newer scan or finished"
            )
        self._open_decision = None
        command = self.policy.answer(pending.cleaned_scan, pending.inputs, action)
        self._policy_command(command, pending.now_ns, pending.out)
        return pending.out

    def joint_states(
        self, names: Sequence[str], positions: Sequence[float], stamp_ns: int, now_ns: int
    ) -> LoopOutput:
        """Wheel encoders: odometry (bridge) → fused state and goal (perception) → the policy's
        inputs; the odometry also feeds safety's watchdog and geofence."""
        out = LoopOutput()
        odometry = self.bridge.joint_state(names, positions, stamp_ns)
        if isinstance(odometry, str):
            out.refused.append(f"joint_states: {odometry}")
            return out
        out.odometry = odometry
        refused = self.safety.odometry(odometry.x, odometry.y, now_ns)
        if refused is not None:
            out.refused.append(f"safety odom: {refused}")
        elif self.safety.stop_pending:
            self._safety_step(now_ns, out)
        update = self.perception.odometry(
            odometry.x,
            odometry.y,
            odometry.yaw,
            odometry.linear,
            odometry.angular,
            odometry.stamp_ns,
        )
        if isinstance(update, str):
            out.refused.append(f"perception odom: {update}")
            return out
        out.state, out.goal = update.state, update.goal
        self.policy.state(update.state.stamp_ns, update.state.linear, update.state.angular)
        if update.goal is not None:
            self.policy.goal(update.goal.stamp_ns, update.goal.x, update.goal.y)
        return out

    def imu(
        self,
        yaw_rate: float,
        orientation: tuple[float, float, float, float],
        stamp_ns: int,
        now_ns: int,
    ) -> LoopOutput:
        """An IMU sample: the gyro's z rate (rad/s) for perception, the orientation quaternion
        (x, y, z, w) for safety's tilt check."""
        out = LoopOutput()
        refused = self.perception.imu(yaw_rate, stamp_ns)
        if refused is not None:
            out.refused.append(f"perception imu: {refused}")
        refused = self.safety.imu(*orientation, now_ns)
        if refused is not None:
            out.refused.append(f"safety imu: {refused}")
        elif self.safety.stop_pending:
            self._safety_step(now_ns, out)
        return out

    def goal(self, frame_id: str, x: float, y: float, yaw: float) -> str | None:
        """A goal pose in ``odom`` (``goal_pose``); the reason when it is refused."""
        return self.perception.goal(frame_id, x, y, yaw)

    def teleop(
        self, linear: float, angular: float, frame_id: str, stamp_ns: int, now_ns: int
    ) -> LoopOutput:
        """A person's (or the simulated expert's) command on ``fw/teleop/cmd_vel``."""
        out = LoopOutput()
        refused = self.safety.command(TELEOP, linear, angular, frame_id, stamp_ns, now_ns)
        if refused is not None:
            out.refused.append(f"teleop: {refused}")
        self._safety_step(now_ns, out)
        return out

    def estop(self, pressed: bool, now_ns: int) -> LoopOutput:
        """The e-stop topic's value: pressed latches a stop at once; released changes nothing
        until an explicit reset (:meth:`SafetySupervisor.reset`)."""
        out = LoopOutput()
        self.safety.estop(pressed)
        if pressed:
            self._safety_step(now_ns, out)
        return out

    # --- timers ---------------------------------------------------------------------------------

    def tick(self, now_ns: int) -> LoopOutput:
        """The nodes' timers due at ``now_ns``: the policy's (``trigger: timer``), safety's
        step when nothing else stepped it for one period, and the bridge's wheel command."""
        out = LoopOutput()
        if self.profile.policy.trigger == "timer" and self._policy_timer.due(now_ns):
            self._policy_command(self.policy.tick(now_ns), now_ns, out)
        # Safety's timer re-arms on every step (see its node): it fires only when nothing
        # else stepped the supervisor for a whole period.
        last = self._last_safety_step_ns
        if last is None or now_ns - last >= self._safety_period_ns:
            self._safety_step(now_ns, out)
        if self._bridge_timer.due(now_ns):
            out.wheels = self.bridge.tick(now_ns)
        return out

    # --- the chain ------------------------------------------------------------------------------

    def _policy_command(self, command: PolicyCommand, now_ns: int, out: LoopOutput) -> None:
        out.policy_command = command
        refused = self.safety.command(
            POLICY, command.linear, command.angular, "", command.stamp_ns, now_ns
        )
        if refused is not None:
            out.refused.append(f"policy command: {refused}")
        self._safety_step(now_ns, out)

    def _safety_step(self, now_ns: int, out: LoopOutput) -> None:
        result = self.safety.step(now_ns)
        self._last_safety_step_ns = now_ns
        out.safety.append(result)
        twist = result.twist
        refused = self.bridge.command(twist.linear, twist.angular, "", now_ns)
        if refused is not None:
            out.refused.append(f"cmd_vel: {refused}")
