"""Replay adapters: the perception, policy and safety cores driven like their nodes drive them.

Each ``*Replay`` class takes deserialized messages in recorded order and returns what the node
would have published, as plain records keyed by header stamp (ns), so a test can compare them
with the recorded outputs. Only the nodes' glue is reproduced here (which callback calls which
core method with which fields); every decision is the cores' own code:

* perception: :class:`ScanCleaner`, :class:`StateFusion`, :func:`goal_in_base`;
* policy: :class:`FollowTheGap` (``classic``) on a :class:`PolicyInput` built from the
  perception outputs, behind the node's input gate (:func:`fw_policy.gating.stop_reason`);
* safety: :class:`SafetySupervisor`, stepped at the times the node stepped (the recorded
  ``cmd_vel`` receive times).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from fw_common.conversions import stamp_to_ns, yaw_from_quaternion
from fw_common.observation import ObservationSpec
from fw_common.profile import PerceptionConfig, PolicyConfig, SafetyConfig
from fw_perception.goal import goal_in_base
from fw_perception.scan_filter import ScanCleaner
from fw_perception.state_fusion import StateFusion
from fw_policy.base import PolicyInput
from fw_policy.classic import FollowTheGap
from fw_policy.gating import stop_reason
from fw_safety.supervisor import POLICY, TELEOP, SafetySupervisor

__all__ = [
    "Command",
    "PerceptionReplay",
    "PolicyReplay",
    "Pose2D",
    "SafetyReplay",
    "SafetyStep",
    "ScanOut",
]


@dataclass(frozen=True)
class ScanOut:
    """A cleaned scan: stamp (ns), ranges (m, float32, REP-117 values), limits (m), and the
    beam angles ``angle_min + i * angle_increment`` (rad)."""

    stamp_ns: int
    ranges: npt.NDArray[np.float32]
    range_min: float
    range_max: float
    angle_min: float = 0.0
    angle_increment: float = 0.0


@dataclass(frozen=True)
class Pose2D:
    """A planar pose or state: stamp (ns), x, y (m), yaw (rad), linear (m/s), angular (rad/s)."""

    stamp_ns: int
    x: float
    y: float
    yaw: float
    linear: float = 0.0
    angular: float = 0.0


@dataclass(frozen=True)
class Command:
    """A twist command with the stamp it carries (ns); ``reason`` why it is zero, if known."""

    stamp_ns: int
    linear: float
    angular: float
    reason: str | None = None


def scan_out(msg: Any) -> ScanOut:
    return ScanOut(
        stamp_to_ns(msg.header.stamp),
        np.asarray(msg.ranges, dtype=np.float32),
        float(msg.range_min),
        float(msg.range_max),
        float(msg.angle_min),
        float(msg.angle_increment),
    )


def odom_pose(msg: Any) -> Pose2D:
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    t = msg.twist.twist
    return Pose2D(
        stamp_to_ns(msg.header.stamp),
        p.x,
        p.y,
        yaw_from_quaternion(q.x, q.y, q.z, q.w),
        t.linear.x,
        t.angular.z,
    )


def pose_stamped(msg: Any) -> Pose2D:
    p, q = msg.pose.position, msg.pose.orientation
    return Pose2D(stamp_to_ns(msg.header.stamp), p.x, p.y, yaw_from_quaternion(q.x, q.y, q.z, q.w))


def twist_command(msg: Any) -> Command:
    return Command(stamp_to_ns(msg.header.stamp), msg.twist.linear.x, msg.twist.angular.z)


class PerceptionReplay:
    """``PerceptionNode``'s callbacks on the perception cores."""

    def __init__(self, config: PerceptionConfig) -> None:
        self.config = config
        self.cleaner = ScanCleaner.from_config(config)
        self.fusion = StateFusion(config.imu_weight, config.imu_timeout)
        self.goal_odom: tuple[float, float, float] | None = None
        self.scans: list[ScanOut] = []
        self.states: list[Pose2D] = []
        self.goals: list[Pose2D] = []

    def feed(self, topic: str, msg: Any) -> None:
        if topic == "/scan":
            try:
                c = self.cleaner.clean(
                    msg.ranges, msg.angle_min, msg.angle_increment, msg.range_min, msg.range_max
                )
            except ValueError:
                return
            self.scans.append(
                ScanOut(
                    stamp_to_ns(msg.header.stamp),
                    c.ranges.astype(np.float32),
                    c.range_min,
                    c.range_max,
                    float(msg.angle_min),
                    float(msg.angle_increment),
                )
            )
        elif topic == "/imu":
            self.fusion.imu(msg.angular_velocity.z, stamp_to_ns(msg.header.stamp))
        elif topic == "/goal_pose":
            g = pose_stamped(msg)
            if msg.header.frame_id in (self.config.odom_frame, "") and all(
                math.isfinite(v) for v in (g.x, g.y, g.yaw)
            ):
                self.goal_odom = (g.x, g.y, g.yaw)
        elif topic == "/odom":
            o = odom_pose(msg)
            s = self.fusion.odom(o.x, o.y, o.yaw, o.linear, o.angular, o.stamp_ns)
            if isinstance(s, str):
                return
            self.states.append(Pose2D(s.stamp_ns, s.x, s.y, s.yaw, s.linear, s.angular))
            if self.goal_odom is not None:
                gx, gy, gyaw = goal_in_base(self.goal_odom, (s.x, s.y, s.yaw))
                self.goals.append(Pose2D(s.stamp_ns, gx, gy, gyaw))


class PolicyReplay:
    """``PolicyNode`` with ``trigger: scan`` and the ``classic`` kind, on its cores.

    Also computes the observation vector (:meth:`ObservationSpec.featurize`) of every decision:
    what an ``onnx`` policy would be fed from the same perception outputs.
    """

    def __init__(self, config: PolicyConfig, spec: ObservationSpec) -> None:
        self.config = config
        self.spec = spec
        self.policy = FollowTheGap(config.classic)
        self.state: Pose2D | None = None
        self.goal: Pose2D | None = None
        self.commands: list[Command] = []
        self.observations: dict[int, npt.NDArray[np.float32]] = {}

    def _stop_reason(self, scan_ns: int) -> str | None:
        """The node's input gate for a scan-triggered step (now = the scan's stamp)."""
        state, goal = self.state, self.goal
        return stop_reason(
            scan_ns,
            scan_ns,
            state_ns=None if state is None else state.stamp_ns,
            goal_ns=None if goal is None else goal.stamp_ns,
            goal_xy=None if goal is None else (goal.x, goal.y),
            input_timeout=self.config.input_timeout,
            goal_tolerance=self.config.goal_tolerance,
        )

    def feed(self, topic: str, msg: Any) -> None:
        if topic == "/fw/perception/state":
            self.state = odom_pose(msg)
        elif topic == "/fw/perception/goal":
            self.goal = pose_stamped(msg)
        elif topic == "/fw/perception/scan":
            self.step(scan_out(msg))

    def step(self, scan: ScanOut) -> Command:
        reason = self._stop_reason(scan.stamp_ns)
        if reason is not None:
            cmd = Command(scan.stamp_ns, 0.0, 0.0, reason)
        else:
            assert self.state is not None and self.goal is not None
            inputs = PolicyInput(
                ranges=scan.ranges,
                angle_min=scan.angle_min,
                angle_increment=scan.angle_increment,
                range_min=scan.range_min,
                goal_xy=(self.goal.x, self.goal.y),
                linear=self.state.linear,
                angular=self.state.angular,
            )
            self.observations[scan.stamp_ns] = self.spec.featurize(
                inputs.ranges,
                inputs.angle_min,
                inputs.angle_increment,
                inputs.goal_xy,
                inputs.linear,
                inputs.angular,
            )
            try:
                action = self.policy.act(inputs)
                cmd = Command(scan.stamp_ns, action.linear, action.angular)
            except ValueError as exc:
                cmd = Command(scan.stamp_ns, 0.0, 0.0, f"policy error: {exc}")
        self.commands.append(cmd)
        return cmd


@dataclass(frozen=True)
class SafetyStep:
    """One supervisor step: when (ROS time, ns), the output and the events it started."""

    now_ns: int
    stamp_ns: int
    linear: float
    angular: float
    state: str
    events: tuple[str, ...] = ()


@dataclass
class SafetyReplay:
    """``SafetyNode``'s callbacks on :class:`SafetySupervisor`, with the node's clock replaced
    by the recorded receive times (the recorder and the node both run on ``/clock``)."""

    config: SafetyConfig
    core: SafetySupervisor = field(init=False)
    steps: list[SafetyStep] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.core = SafetySupervisor(self.config)

    def feed(self, topic: str, msg: Any, now_ns: int) -> None:
        core = self.core
        if topic in ("/fw/cmd_vel_raw", "/fw/teleop/cmd_vel"):
            core.command(
                POLICY if topic == "/fw/cmd_vel_raw" else TELEOP,
                msg.twist.linear.x,
                msg.twist.angular.z,
                msg.header.frame_id,
                stamp_to_ns(msg.header.stamp),
                now_ns,
            )
        elif topic == "/" + self.config.scan_topic.lstrip("/"):
            core.scan(
                msg.angle_min,
                msg.angle_max,
                msg.angle_increment,
                msg.range_min,
                msg.range_max,
                msg.ranges,
                now_ns,
            )
        elif topic == "/odom":
            p = msg.pose.pose.position
            core.odometry(p.x, p.y, now_ns)
        elif topic == "/imu":
            q = msg.orientation
            core.imu(q.x, q.y, q.z, q.w, now_ns)
        elif topic == "/fw/estop":
            core.estop(msg.data)

    def step(self, now_ns: int) -> SafetyStep:
        r = self.core.step(now_ns)
        out = SafetyStep(
            now_ns,
            r.stamp_ns,
            r.twist.linear,
            r.twist.angular,
            r.state,
            tuple(e.kind for e in r.events),
        )
        self.steps.append(out)
        return out


def by_stamp(items: Iterable[Any]) -> dict[int, Any]:
    """Records keyed by ``stamp_ns`` (the last one wins for a repeated stamp)."""
    return {item.stamp_ns: item for item in items}


def pairs(ours: dict[int, Any], recorded: dict[int, Any]) -> Iterator[tuple[Any, Any]]:
    """(replayed, recorded) for every stamp both have."""
    for stamp, ref in recorded.items():
        if stamp in ours:
            yield ours[stamp], ref


#: Topics the safety node subscribes (with the sim profile's ``scan_topic: scan``).
SAFETY_COMMANDS = ("/fw/cmd_vel_raw", "/fw/teleop/cmd_vel")
SAFETY_SENSORS = ("/scan", "/odom", "/imu", "/fw/estop")


def replay_safety(
    decoded: list[tuple[str, int, Any]], config: SafetyConfig
) -> list[tuple[SafetyStep, Command]]:
    """Run :class:`SafetySupervisor` over a decoded bag (``(topic, t_ns, msg)`` in recorded
    order) and pair each step with the recorded ``cmd_vel`` it reproduces.

    The node steps on every command, every scan, e-stops and a 20 Hz timer; the recorder saw
    each of those outputs, so the core is stepped once per recorded ``cmd_vel``, at its receive
    time. Sensors are fed in recorded order with their receive time as the node's ``now``
    (those received before the recorder's first ``/clock``, at time 0, are left out).
    Commands are fed by stamp: the recorded output's stamp names the command the node had
    received last (every output carries its command's stamp), so a command the recorder logged
    just after that output is fed before the step, at the step's time, and one it logged just
    before an output still stamped with the previous command is held back until then (the
    recorder's and the node's executors saw the same messages in slightly different orders).
    """
    replay = SafetyReplay(config)
    commands = [
        (stamp_to_ns(m.header.stamp), i)
        for i, (t, _, m) in enumerate(decoded)
        if t in SAFETY_COMMANDS
    ]
    command_stamps = {s for s, _ in commands}
    fed: set[int] = set()

    def feed_command(i: int, now_ns: int) -> None:
        if i not in fed:
            topic, t_ns, msg = decoded[i]
            replay.feed(topic, msg, min(t_ns, now_ns))
            fed.add(i)

    # What the recorder received before its first /clock is stamped 0: it has no time.
    clock_ns = next((t for topic, t, _ in decoded if topic == "/clock"), 0)
    out = []
    for i, (topic, t_ns, msg) in enumerate(decoded):
        if t_ns < clock_ns:
            continue
        if topic in SAFETY_SENSORS:
            replay.feed(topic, msg, t_ns)
        elif topic == "/cmd_vel":
            recorded = twist_command(msg)
            for stamp, j in commands:
                if (stamp <= recorded.stamp_ns) if recorded.stamp_ns in command_stamps else j < i:
                    feed_command(j, t_ns)
            out.append((replay.step(t_ns), recorded))
    return out
