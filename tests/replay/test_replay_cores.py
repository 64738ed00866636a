"""Replay regression through the robot loop: perception → policy (classic) → safety.

Golden episodes (``bags/``, ``make bags``, seeds and commands in bags/README.md), each recorded
from the simulated robot running the whole stack:

* ``sim_seed3_drive``: the classic policy drives to the scenario goal;
* ``sim_seed2_safety``: a person drives into a box (teleop override, slowdown, approach, stop
  zone), then an e-stop.

Every replay runs the robot's own steps (:class:`fw_bringup.robot_loop.RobotLoop`, the code the
nodes wrap) and compares with the *recorded* outputs by stamp (tolerances and their reasons:
``compare.py``, ``CORE``):

* the whole loop on the raw streams (``scan``, ``joint_states``, ``imu``, ``goal_pose``, teleop
  and e-stop, fed by :func:`fw_bringup.recorded_inputs.feed_recorded`, as the cloud's dataset
  build does) → ``fw/perception/{scan,state,goal}`` and ``fw/cmd_vel_raw``, with the observation
  vector an ONNX policy is fed, which must agree with the one from the recorded perception
  outputs;
* perception alone on the recorded ``odom``; the policy alone on the recorded perception
  outputs;
* safety: recorded ``fw/cmd_vel_raw``, ``fw/teleop/cmd_vel``, ``scan``, ``odom``, ``imu``,
  ``fw/estop`` in recorded-time order → ``cmd_vel`` and ``fw/safety/events``.

The last tests change one setting of each stage and check that the same comparison then
fails: the suite notices a behaviour change.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from fw_bringup.recorded_inputs import LOOP_INPUTS, feed_recorded
from fw_bringup.robot_loop import RobotLoop
from fw_common.conversions import stamp_to_ns, yaw_from_quaternion
from fw_common.laser_scan import LaserScanData
from fw_common.observation import spec_by_name
from fw_common.profile import RobotProfile, SafetyConfig, load_profile
from fw_perception.perception_step import PerceptionStep
from fw_policy.policy_step import PolicyStep
from fw_policy.registry import build_policy
from fw_safety.supervisor import POLICY, TELEOP, SafetySupervisor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import (
    CORE,
    LOOP,
    after_startup,
    check_commands,
    check_events,
    check_goals,
    check_safety,
    check_scans,
    check_states,
)
from records import (
    Command,
    Pose2D,
    SafetyStep,
    ScanOut,
    odom_pose,
    pose_stamped,
    scan_out,
    twist_command,
)
from replay_harness import decoded_bag, stamp_ns

REPO = Path(__file__).resolve().parents[2]
BAGS = REPO / "bags"
PROFILE = REPO / "ros2_ws" / "src" / "fw_bringup" / "config" / "profiles" / "sim.yaml"
EPISODES = ["sim_seed3_drive", "sim_seed2_safety"]
Decoded = list[tuple[str, int, Any]]


@pytest.fixture(scope="module")
def profile() -> RobotProfile:
    return load_profile(PROFILE)


def episode(name: str) -> Decoded:
    folder = BAGS / name
    if not folder.is_dir():
        pytest.fail(f"golden bag missing: {folder} (run `make bags`)")
    return decoded_bag(folder)


def recorded(bag: Decoded, topic: str, convert: Any) -> list[Any]:
    return [convert(msg) for t, _, msg in bag if t == topic]


@dataclass
class Replayed:
    """Stage outputs of a replay, as the comparison records."""

    scans: list[ScanOut] = field(default_factory=list)
    states: list[Pose2D] = field(default_factory=list)
    goals: list[Pose2D] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    #: The policy's observation vector per scan stamp (ns).
    observations: dict[int, npt.NDArray[np.float32]] = field(default_factory=dict)


def _scan_record(scan: LaserScanData) -> ScanOut:
    return ScanOut(
        scan.stamp_ns,
        scan.ranges,
        scan.range_min,
        scan.range_max,
        scan.angle_min,
        scan.angle_increment,
    )


def run_loop(bag: Decoded, profile: RobotProfile) -> Replayed:
    """The whole robot loop on the raw streams, as the dataset build runs it."""
    loop, out = RobotLoop(profile), Replayed()
    for topic, t_ns, msg in bag:
        if topic not in LOOP_INPUTS:
            continue
        step = feed_recorded(loop, topic, msg, t_ns)
        assert step is not None
        if step.cleaned_scan is not None:
            out.scans.append(_scan_record(step.cleaned_scan))
        if step.state is not None:
            s = step.state
            out.states.append(Pose2D(s.stamp_ns, s.x, s.y, s.yaw, s.linear, s.angular))
        if step.goal is not None:
            out.goals.append(Pose2D(step.goal.stamp_ns, step.goal.x, step.goal.y, step.goal.yaw))
        command = step.policy_command
        if command is not None:
            out.commands.append(
                Command(command.stamp_ns, command.linear, command.angular, command.reason)
            )
            if command.observation is not None:
                out.observations[command.stamp_ns] = command.observation
    return out


def run_perception(bag: Decoded, profile: RobotProfile) -> Replayed:
    """Perception's step alone, on the recorded scan, imu, goal and (bridge's) odometry."""
    step, out = PerceptionStep(profile.perception), Replayed()
    for topic, _, msg in bag:
        if topic == "/scan":
            cleaned = step.scan(LaserScanData.from_msg(msg))
            if not isinstance(cleaned, str):
                out.scans.append(_scan_record(cleaned))
        elif topic == "/imu":
            step.imu(msg.angular_velocity.z, stamp_to_ns(msg.header.stamp))
        elif topic == "/goal_pose":
            p, q = msg.pose.position, msg.pose.orientation
            step.goal(msg.header.frame_id, p.x, p.y, yaw_from_quaternion(q.x, q.y, q.z, q.w))
        elif topic == "/odom":
            o = odom_pose(msg)
            update = step.odometry(o.x, o.y, o.yaw, o.linear, o.angular, o.stamp_ns)
            if isinstance(update, str):
                continue
            s = update.state
            out.states.append(Pose2D(s.stamp_ns, s.x, s.y, s.yaw, s.linear, s.angular))
            if update.goal is not None:
                g = update.goal
                out.goals.append(Pose2D(g.stamp_ns, g.x, g.y, g.yaw))
    return out


def run_policy(bag: Decoded, profile: RobotProfile) -> Replayed:
    """The policy's step alone, on the recorded perception outputs."""
    spec = spec_by_name(profile.policy.observation_spec)
    step = PolicyStep(profile.policy, spec, build_policy(profile.policy, spec).policy)
    out = Replayed()
    for topic, _, msg in bag:
        if topic == "/fw/perception/state":
            s = odom_pose(msg)
            step.state(s.stamp_ns, s.linear, s.angular)
        elif topic == "/fw/perception/goal":
            g = pose_stamped(msg)
            step.goal(g.stamp_ns, g.x, g.y)
        elif topic == "/fw/perception/scan":
            command = step.scan(LaserScanData.from_msg(msg))
            assert command is not None
            out.commands.append(
                Command(command.stamp_ns, command.linear, command.angular, command.reason)
            )
            if command.observation is not None:
                out.observations[command.stamp_ns] = command.observation
    return out


#: Topics the safety node subscribes (with the sim profile's ``scan_topic: scan``).
SAFETY_COMMANDS = ("/fw/cmd_vel_raw", "/fw/teleop/cmd_vel")
SAFETY_SENSORS = ("/scan", "/odom", "/imu", "/fw/estop")


def _feed_safety(core: SafetySupervisor, topic: str, msg: Any, now_ns: int) -> None:
    if topic in SAFETY_COMMANDS:
        source = POLICY if topic == "/fw/cmd_vel_raw" else TELEOP
        t = msg.twist
        core.command(source, t.linear.x, t.angular.z, msg.header.frame_id, stamp_ns(msg), now_ns)
    elif topic == "/scan":
        s = LaserScanData.from_msg(msg)
        core.scan(
            s.angle_min, s.angle_max, s.angle_increment, s.range_min, s.range_max, s.ranges, now_ns
        )
    elif topic == "/odom":
        p = msg.pose.pose.position
        core.odometry(p.x, p.y, now_ns)
    elif topic == "/imu":
        q = msg.orientation
        core.imu(q.x, q.y, q.z, q.w, now_ns)
    elif topic == "/fw/estop":
        core.estop(msg.data)


def replay_safety(bag: Decoded, config: SafetyConfig) -> list[tuple[SafetyStep, Command]]:
    """The safety supervisor over a decoded bag, stepped once per recorded ``cmd_vel`` at its
    receive time, and paired with that recorded output.

    The node steps on every command, every scan that trips the stop zone, e-stops and a 20 Hz
    timer; the recorder saw each of those outputs. Sensors are fed in recorded order with their
    receive time as the node's ``now`` (those received before the recorder's first ``/clock``,
    at time 0, are left out). Commands are fed by stamp: the recorded output's stamp names the
    command the node had received last, so a command the recorder logged just after that
    output is fed before the step, and one logged just before an output still stamped with the
    previous command is held back (the recorder's and the node's executors saw the same
    messages in slightly different orders).
    """
    core = SafetySupervisor(config)
    commands = [(stamp_ns(m), i) for i, (t, _, m) in enumerate(bag) if t in SAFETY_COMMANDS]
    command_stamps = {s for s, _ in commands}
    fed: set[int] = set()
    clock_ns = next((t for topic, t, _ in bag if topic == "/clock"), 0)
    out = []
    for i, (topic, t_ns, msg) in enumerate(bag):
        if t_ns < clock_ns:
            continue
        if topic in SAFETY_SENSORS:
            _feed_safety(core, topic, msg, t_ns)
        elif topic == "/cmd_vel":
            recorded_cmd = twist_command(msg)
            by_stamp = recorded_cmd.stamp_ns in command_stamps
            for stamp, j in commands:
                if j not in fed and ((stamp <= recorded_cmd.stamp_ns) if by_stamp else j < i):
                    c_topic, c_t, c_msg = bag[j]
                    _feed_safety(core, c_topic, c_msg, min(c_t, t_ns))
                    fed.add(j)
            r = core.step(t_ns)
            step = SafetyStep(
                t_ns,
                r.stamp_ns,
                r.twist.linear,
                r.twist.angular,
                r.state,
                tuple(e.kind for e in r.events),
            )
            out.append((step, recorded_cmd))
    return out


def recorded_events(bag: Decoded) -> list[tuple[int, str]]:
    return [(t, m.name.removeprefix("safety/")) for topic, t, m in bag if topic.endswith("events")]


def replayed_events(steps: list[Any]) -> list[tuple[int, str]]:
    return [(step.now_ns, kind) for step, _ in steps for kind in step.events]


def first_clock(bag: Decoded) -> int:
    return next(t for topic, t, _ in bag if topic == "/clock")


def command_stamps(bag: Decoded) -> set[int]:
    return {stamp_ns(m) for t, _, m in bag if t in SAFETY_COMMANDS}


# --- the golden episodes are what the suite needs -------------------------------------------


@pytest.mark.parametrize("name", EPISODES)
def test_golden_episode_records_every_stage(name: str) -> None:
    topics = {t for t, _, _ in episode(name)}
    needed = {
        "/clock",
        "/scan",
        "/imu",
        "/odom",
        "/joint_states",
        "/goal_pose",
        "/fw/perception/scan",
        "/fw/perception/state",
        "/fw/perception/goal",
        "/fw/cmd_vel_raw",
        "/cmd_vel",
        "/fw/safety/status",
        "/fw/policy/info",
        "/fw/sim/scenario",
    }
    assert needed <= topics, f"missing: {sorted(needed - topics)}"
    size = sum(f.stat().st_size for f in BAGS.rglob("*") if f.is_file())
    assert size < 2_000_000, f"bags/ holds {size} bytes"


def test_safety_episode_has_real_interventions() -> None:
    kinds = [k for _, k in recorded_events(episode("sim_seed2_safety"))]
    assert {"teleop_override", "stop_zone", "estop"} <= set(kinds), kinds


# --- perception ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EPISODES)
def test_perception_core_reproduces_recorded_outputs(name: str, profile: RobotProfile) -> None:
    bag = episode(name)
    replay = run_perception(bag, profile)
    check_scans(replay.scans, recorded(bag, "/fw/perception/scan", scan_out), CORE)
    check_states(replay.states, recorded(bag, "/fw/perception/state", odom_pose), CORE)
    check_goals(replay.goals, recorded(bag, "/fw/perception/goal", pose_stamped), CORE)


# --- policy ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EPISODES)
def test_policy_core_reproduces_recorded_commands(name: str, profile: RobotProfile) -> None:
    bag = episode(name)
    replay = run_policy(bag, profile)
    check_commands(replay.commands, recorded(bag, "/fw/cmd_vel_raw", twist_command), CORE)


@pytest.mark.parametrize("name", EPISODES)
def test_the_robot_loop_on_raw_streams_reproduces_recorded_outputs(
    name: str, profile: RobotProfile
) -> None:
    """Raw sensors → the whole loop, against the recorded perception outputs and
    cmd_vel_raw; the observation vectors (what an ONNX policy is fed) from the loop and from
    the recorded perception outputs agree to 1e-2 (normalised units, [-1, 1]; the heading's
    difference, see ``compare.LOOP``)."""
    bag = episode(name)
    loop = run_loop(bag, profile)
    check_scans(loop.scans, recorded(bag, "/fw/perception/scan", scan_out), LOOP)
    check_states(loop.states, recorded(bag, "/fw/perception/state", odom_pose), LOOP)
    check_goals(loop.goals, recorded(bag, "/fw/perception/goal", pose_stamped), LOOP)
    check_commands(loop.commands, recorded(bag, "/fw/cmd_vel_raw", twist_command), LOOP)
    direct = run_policy(bag, profile).observations
    common = sorted(set(direct) & set(loop.observations))
    assert len(common) >= 0.8 * len(direct), f"{len(common)} of {len(direct)} observations"
    worst = max(float(np.abs(direct[s] - loop.observations[s]).max()) for s in common)
    assert worst <= 1e-2, f"observation vectors differ by {worst}"


# --- safety ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EPISODES)
def test_safety_core_reproduces_recorded_cmd_vel_and_events(
    name: str, profile: RobotProfile
) -> None:
    bag = episode(name)
    steps = replay_safety(bag, profile.safety)
    check_safety(steps, command_stamps(bag), CORE)
    start = first_clock(bag)
    check_events(
        after_startup(replayed_events(steps), start),
        after_startup(recorded_events(bag), start),
        CORE,
    )


# --- the suite can fail ----------------------------------------------------------------------


def test_changed_median_window_is_caught(profile: RobotProfile) -> None:
    bag = episode("sim_seed3_drive")
    changed = dataclasses.replace(profile, perception=_with(profile.perception, median_window=5))
    replay = run_perception(bag, changed)
    with pytest.raises(AssertionError, match="cleaned scans differ"):
        check_scans(replay.scans, recorded(bag, "/fw/perception/scan", scan_out), CORE)


def test_changed_imu_weight_is_caught(profile: RobotProfile) -> None:
    bag = episode("sim_seed3_drive")
    changed = dataclasses.replace(profile, perception=_with(profile.perception, imu_weight=0.5))
    replay = run_perception(bag, changed)
    with pytest.raises(AssertionError, match="fused pose off"):
        check_states(replay.states, recorded(bag, "/fw/perception/state", odom_pose), CORE)


def test_changed_policy_gain_is_caught(profile: RobotProfile) -> None:
    bag = episode("sim_seed3_drive")
    classic = _with(profile.policy.classic, heading_gain=profile.policy.classic.heading_gain * 1.2)
    changed = dataclasses.replace(profile, policy=_with(profile.policy, classic=classic))
    commands = run_policy(bag, changed).commands
    with pytest.raises(AssertionError, match="reproduced exactly for"):
        check_commands(commands, recorded(bag, "/fw/cmd_vel_raw", twist_command), CORE)


def test_changed_stop_zone_is_caught(profile: RobotProfile) -> None:
    bag = episode("sim_seed2_safety")
    zones = profile.safety.zones
    stop = _with(zones.stop, distance=zones.stop.distance + 0.3)
    changed = _with(profile.safety, zones=_with(zones, stop=stop))
    steps = replay_safety(bag, changed)
    with pytest.raises(AssertionError, match=r"event|cmd_vel within"):
        check_safety(steps, command_stamps(bag), CORE)
        start = first_clock(bag)
        check_events(
            after_startup(replayed_events(steps), start),
            after_startup(recorded_events(bag), start),
            CORE,
        )


def _with(section: Any, **changes: Any) -> Any:
    return dataclasses.replace(section, **changes)
