"""The simulated teacher takes the path a person takes: the real sim node labels every control
period on ``fw/expert/cmd_vel`` and, as an HG-DAgger supervisor, takes over from the ``classic``
policy through ``fw/teleop/cmd_vel``; the real safety supervisor reports ``teleop_override``.

One bringup process runs the simulated Husky and the robot's nodes in a cul-de-sac (the start
inside a U whose back wall stands between the robot and its goal: the classic policy does not
get out); the test process gives the goal and listens.
"""

from __future__ import annotations

import json
import math
import time

import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import PoseStamped, TwistStamped
from std_msgs.msg import String

from fw_common import frames, qos, topics
from fw_common.conversions import quaternion_from_yaw
from fw_common.planar import compose, inverse
from fw_sim.expert import ExpertController
from fw_sim.scenario import Scenario
from fw_sim.sim_node import LABEL_QOS
from support.probe import RosProbe

pytestmark = pytest.mark.system

NODES = "sim,perception,policy,safety,actuator_bridge"
SEED = 3
RTF = 3.0
LABEL_PERIOD_NS = 50_000_000  # sim.expert_rate 20 Hz


def stamp_ns(msg: TwistStamped) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def test_expert_labels_and_takeovers_reach_safety(start_robot, probe: RosProbe) -> None:  # type: ignore[no-untyped-def]
    scenario_log = probe.subscribe(String, topics.SIM_SCENARIO, qos.LATCHED)
    labels = probe.subscribe(TwistStamped, topics.EXPERT_CMD_VEL, LABEL_QOS)
    takeovers = probe.subscribe(TwistStamped, topics.TELEOP_CMD_VEL, qos.COMMAND)
    policy = probe.subscribe(TwistStamped, topics.CMD_VEL_RAW, qos.COMMAND)
    events = probe.subscribe(DiagnosticStatus, topics.SAFETY_EVENTS, qos.EVENT)
    goal_pub = probe.publisher(PoseStamped, topics.GOAL_POSE, qos.LATCHED)
    process = start_robot(
        nodes=NODES,
        seed=SEED,
        sets=[
            f"sim.real_time_factor={RTF}",
            "sim.scenario.family=cul_de_sac",
            "sim.supervisor.mode=supervise",
            "sim.supervisor.progress_window=3.0",
        ],
    )
    assert scenario_log.wait_for(timeout=30), "no scenario from the simulator"
    scenario = json.loads(scenario_log.latest().data)  # type: ignore[union-attr]
    assert scenario["family"] == "cul_de_sac" and scenario["seed"] == SEED
    # The goal in odom, whose origin is the start (the bridge's odometry starts at zero).
    start, goal = scenario["start"], scenario["goal"]
    gx, gy, _ = compose(
        inverse((start["x"], start["y"], start["yaw"])), (goal["x"], goal["y"], 0.0)
    )
    msg = PoseStamped()
    msg.header.frame_id = frames.ODOM
    msg.pose.position.x, msg.pose.position.y = gx, gy
    q = quaternion_from_yaw(0.0)
    msg.pose.orientation.x, msg.pose.orientation.y = q[0], q[1]
    msg.pose.orientation.z, msg.pose.orientation.w = q[2], q[3]
    assert policy.wait_for(timeout=30), "the classic policy publishes nothing"
    goal_pub.publish(msg)

    # Labels: every control period of sim time, in base_link, the expert's bounded command.
    assert labels.wait_for_count(40, timeout=20), "no labels on fw/expert/cmd_vel"
    stamps = [stamp_ns(m) for m in list(labels.messages)[:40]]
    # On the 50 ms grid of sim time; the probe may miss a few under load, never most.
    assert all(s % LABEL_PERIOD_NS == 0 for s in stamps)
    assert (stamps[-1] - stamps[0]) // LABEL_PERIOD_NS + 1 <= 1.25 * len(stamps)
    for m in list(labels.messages)[:40]:
        assert m.header.frame_id == frames.BASE_LINK
        assert math.isfinite(m.twist.linear.x) and abs(m.twist.linear.x) <= 0.8 + 1e-9
        assert abs(m.twist.angular.z) <= 1.0 + 1e-9

    # The classic policy gets stuck in the cul-de-sac: the expert takes over on the teleop
    # topic, and safety lets it drive and says so.
    assert takeovers.wait_for(timeout=30), "the expert never took over"
    deadline = time.monotonic() + 15
    overrides: list[DiagnosticStatus] = []
    while time.monotonic() < deadline and not overrides:
        overrides = [
            e
            for e in list(events.messages)
            if any(kv.value == "teleop_override" for kv in e.values)
        ]
        time.sleep(0.1)
    assert overrides, "safety reported no teleop_override"
    # A take-over is the label of the same control period, not a command of its own.
    by_stamp = {stamp_ns(m): m for m in list(labels.messages)}
    for takeover in list(takeovers.messages)[:20]:
        label = by_stamp.get(stamp_ns(takeover))
        assert label is not None, "a take-over without its label"
        assert takeover.twist.linear.x == label.twist.linear.x
        assert takeover.twist.angular.z == label.twist.angular.z
    process.stop()
    process.assert_clean_exit()


def test_labels_by_default_and_no_takeovers(start_robot, probe: RosProbe) -> None:  # type: ignore[no-untyped-def]
    # The sim alone with its defaults (open family, supervisor off): the parked robot gets
    # the expert's label for its start pose, and nobody takes over.
    scenario_log = probe.subscribe(String, topics.SIM_SCENARIO, qos.LATCHED)
    labels = probe.subscribe(TwistStamped, topics.EXPERT_CMD_VEL, LABEL_QOS)
    takeovers = probe.subscribe(TwistStamped, topics.TELEOP_CMD_VEL, qos.COMMAND)
    process = start_robot(nodes="sim", seed=SEED)
    assert scenario_log.wait_for(timeout=30), "no scenario from the simulator"
    scenario = Scenario.from_json(scenario_log.latest().data)  # type: ignore[union-attr]
    assert scenario.family == "open"
    assert labels.wait_for_count(20, timeout=20), "no labels on fw/expert/cmd_vel"
    expected = ExpertController(scenario).command(scenario.start)
    for label in list(labels.messages)[5:20]:  # after the robot has settled on its wheels
        assert label.twist.linear.x == pytest.approx(expected.linear, abs=0.05)
        assert label.twist.angular.z == pytest.approx(expected.angular, abs=0.05)
    assert len(takeovers) == 0
    process.stop()
    process.assert_clean_exit()
