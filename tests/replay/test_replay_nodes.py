"""Replay regression through the real nodes: recorded raw inputs over DDS into perception →
policy (classic) → safety processes, outputs compared with the recording.

One bringup process runs ``perception,policy,safety`` on sim time (the sim profile's
``robot.simulated``: ``use_sim_time`` for every node); the test plays the golden bag's
``/clock``, ``scan``, ``imu``, ``odom``, ``goal_pose``, ``fw/teleop/cmd_vel`` and ``fw/estop``
at the recorded pace, and collects ``fw/perception/*``, ``fw/cmd_vel_raw``, ``cmd_vel`` and
``fw/safety/events``. The nodes chain live (the policy takes the replayed perception's outputs,
safety the replayed policy's commands), so this is the whole edge loop minus sim and bridge.

Tolerances: ``compare.NODE``, looser than the core replay's (best-effort loss in the replay as
well as in the recording, and a /clock published by this test process, with a few ms of jitter
on a loaded host, drives every node's time).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import Odometry
from sensor_msgs.msg import LaserScan

from fw_common import qos, topics
from fw_safety.diagnostics import event_values

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import (
    NODE,
    after_startup,
    check_cmd_vel_by_stamp,
    check_commands,
    check_events,
    check_goals,
    check_scans,
    check_states,
)
from records import odom_pose, pose_stamped, scan_out, twist_command
from replay_harness import decoded_bag, play, read_bag

SAFETY_COMMANDS = ("/fw/cmd_vel_raw", "/fw/teleop/cmd_vel")

pytestmark = pytest.mark.system

BAGS = Path(__file__).resolve().parents[2] / "bags"
INPUTS = {
    "/clock": qos.SENSOR,
    "/scan": qos.SENSOR,
    "/imu": qos.SENSOR,
    "/odom": qos.SENSOR,
    "/goal_pose": qos.LATCHED,
    "/fw/teleop/cmd_vel": qos.COMMAND,
    "/fw/estop": qos.LATCHED,
}

#: Subscriptions each input must have before playing: /clock one per node (rclpy's time
#: source), scan/imu/odom both perception and safety.
SUBSCRIBERS = {"/clock": 3, "/scan": 2, "/imu": 2, "/odom": 2}


def _events(messages: list[DiagnosticStatus]) -> list[tuple[int, str]]:
    return [(int(event_values(m)["stamp_ns"]), m.name.removeprefix("safety/")) for m in messages]


# The test process publishes the recorded inputs on the recorded clock: a stall of it longer
# than a command timeout (0.5 s) changes which source the safety node sees as fresh, and an
# extra teleop_override event follows (seen once in six full runs on a quiet host). One rerun;
# a real behaviour change fails both.
@pytest.mark.flaky(reruns=1)
@pytest.mark.parametrize("name", ["sim_seed3_drive", "sim_seed2_safety"])
def test_nodes_reproduce_recorded_outputs(name: str, start_robot, probe) -> None:
    folder = BAGS / name
    if not folder.is_dir():
        pytest.fail(f"golden bag missing: {folder} (run `make bags`)")
    start_robot(nodes="perception,policy,safety", name=f"replay_{name}")
    scans = probe.subscribe(LaserScan, topics.PERCEPTION_SCAN, qos.SENSOR)
    states = probe.subscribe(Odometry, topics.PERCEPTION_STATE, qos.SENSOR)
    goals = probe.subscribe(PoseStamped, topics.PERCEPTION_GOAL, qos.SENSOR)
    raw = probe.subscribe(TwistStamped, topics.CMD_VEL_RAW, qos.COMMAND)
    cmd_vel = probe.subscribe(TwistStamped, topics.CMD_VEL, qos.COMMAND)
    events = probe.subscribe(DiagnosticStatus, topics.SAFETY_EVENTS, qos.EVENT)
    play(probe, read_bag(folder), INPUTS, settle_s=2.0, subscribers=SUBSCRIBERS)

    bag = decoded_bag(folder)

    def recorded(topic: str, convert):  # type: ignore[no-untyped-def]
        return [convert(m) for t, _, m in bag if t == topic]

    check_scans(
        [scan_out(m) for m in scans.messages], recorded("/fw/perception/scan", scan_out), NODE
    )
    check_states(
        [odom_pose(m) for m in states.messages], recorded("/fw/perception/state", odom_pose), NODE
    )
    check_goals(
        [pose_stamped(m) for m in goals.messages],
        recorded("/fw/perception/goal", pose_stamped),
        NODE,
    )
    check_commands(
        [twist_command(m) for m in raw.messages], recorded("/fw/cmd_vel_raw", twist_command), NODE
    )
    # Commands are matched by stamp: the replayed policy's (stamps of the replayed scans, the
    # recorded ones) and the replayed teleop's.
    stamps = {c.stamp_ns for t, _, m in bag if t in SAFETY_COMMANDS for c in [twist_command(m)]}
    check_cmd_vel_by_stamp(
        [twist_command(m) for m in cmd_vel.messages],
        recorded("/cmd_vel", twist_command),
        stamps,
        NODE,
    )
    start = next(t for topic, t, _ in bag if topic == "/clock")
    check_events(
        after_startup(_events(list(events.messages)), start),
        after_startup(_events([m for t, _, m in bag if t == "/fw/safety/events"]), start),
        NODE,
    )
