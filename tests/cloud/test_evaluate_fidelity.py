"""Fidelity: the headless evaluation and the full ROS node graph (SIL) agree on the same
scenarios, so the fast path can be trusted.

Each seed runs twice with the classic policy and nominal physics (the sim profile's, no
randomisation): once through ``flywheel evaluate``'s episode runner (PyBullet world + robot loop
in one process), once as a robot (the sim node, perception, policy, safety and the actuator
bridge in a bringup process, over DDS, at 2x real time) given the scenario's goal by
``fw_bringup.send_goal``. Ground truth judges both.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
import time

import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from nav_msgs.msg import Odometry
from std_msgs.msg import String

from cloud_bridge.evaluate import evaluate
from fw_bringup.headless import REACHED_RADIUS
from fw_bringup.node_parameters import default_profile_path
from fw_common import qos, topics
from fw_common.conversions import stamp_to_ns
from fw_common.profile import load_profile
from support.probe import RosProbe

pytestmark = pytest.mark.system

#: Seed 0 is left out on purpose: its route passes an obstacle at ~0.2 m clearance, inside the
#: safety supervisor's slowdown zone. On a quiet host the two paths agree there (3 runs of 3),
#: but with the 2-core host heavily loaded the node graph stalled there in 2 runs of 4: its
#: nodes fall behind the 2x real-time simulator, which headless (no clock to keep up with)
#: never does. That is the SIL's timing under load, not something the tolerances should absorb.
SEEDS = (1, 2, 3)
RTF = 2.0
WALL_TIMEOUT_S = 40.0  # 80 s of sim time for trips that take 9-12 s
#: Tolerances, and why:
#: - success: must be equal. Both stacks make the same decisions; a different verdict means
#:   the fast path is not the robot.
#: - final position: each run stops once its own wheel odometry puts it within goal_tolerance
#:   (0.3 m) of the goal, so where it stops carries that run's odometry error. Skid-steer
#:   odometry drifts with how the robot turned (test_sil_drive allows 5 % of a straight and 10 %
#:   of a turn), and over DDS each scan reaches the policy a few ms later than headless, so the
#:   turns, and the drift, differ between the runs: measured 0.02-0.42 m apart on these seeds
#:   over repeated runs. 0.5 m bounds that and stays under REACHED_RADIUS (0.6 m): a run that
#:   stopped somewhere else (another side of an obstacle, short of the goal) still fails.
FINAL_POSITION_TOLERANCE_M = 0.5
#: - path length: the same small timing differences shift turns slightly; 10 % of a 5-8 m trip
#:   (0.5-0.8 m) is what a different route around an obstacle would exceed.
PATH_LENGTH_TOLERANCE = 0.10
#: Ground-truth samples are taken at the scan rate (10 Hz) for the path, as headless does.
SAMPLE_NS = 100_000_000


def sil_drive(start_robot, probe: RosProbe, ros_env: dict[str, str], seed: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    robot = start_robot(
        seed=seed,
        nodes="sim,perception,policy,safety,actuator_bridge",
        sets=[f"sim.real_time_factor={RTF}", "policy.kind=classic"],
        name=f"robot_seed{seed}",
    )
    truth = probe.subscribe(Odometry, topics.SIM_GROUND_TRUTH, qos.SENSOR)
    collisions = probe.subscribe(DiagnosticStatus, topics.SIM_COLLISIONS, qos.EVENT)
    scenario = probe.subscribe(String, topics.SIM_SCENARIO, qos.LATCHED)
    assert scenario.wait_for(lambda m: json.loads(m.data)["seed"] == seed, timeout=60)
    goal_msg = scenario.latest()
    assert goal_msg is not None
    goal = json.loads(goal_msg.data)["goal"]
    # The path counts from before the goal: the robot stands still until it has one.
    assert truth.wait_for(timeout=30), "no ground truth"
    truth.clear()
    sent = subprocess.run(
        [sys.executable, "-m", "fw_bringup.send_goal", "--seed", str(seed), "--timeout", "60"],
        env=ros_env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert sent.returncode == 0, sent.stderr
    deadline = time.monotonic() + WALL_TIMEOUT_S
    reached = False
    while time.monotonic() < deadline:
        last = truth.latest()
        if last is not None:
            p, v = last.pose.pose.position, last.twist.twist.linear
            near = math.hypot(goal["x"] - p.x, goal["y"] - p.y) < REACHED_RADIUS
            if near and math.hypot(v.x, v.y) < 0.05:
                reached = True
                break
        time.sleep(0.05)
    samples = list(truth.messages)
    robot.stop()
    last_ns = None
    points = []
    for msg in samples:
        stamp = stamp_to_ns(msg.header.stamp)
        if last_ns is None or stamp - last_ns >= SAMPLE_NS:
            points.append((msg.pose.pose.position.x, msg.pose.pose.position.y))
            last_ns = stamp
    path = sum(math.dist(a, b) for a, b in itertools.pairwise(points))
    final = samples[-1].pose.pose.position
    return {
        "reached": reached,
        "collisions": len(collisions),
        "final": (final.x, final.y),
        "path_length": path,
    }


def test_headless_evaluation_agrees_with_the_node_graph(start_robot, probe, ros_env) -> None:  # type: ignore[no-untyped-def]
    profile = load_profile(default_profile_path("sim"))
    headless = evaluate("classic", SEEDS, profile=profile, randomise=False)
    rows = []
    for episode in headless.episodes:
        sil = sil_drive(start_robot, probe, ros_env, episode.seed)
        offset = math.dist(sil["final"], (episode.final_x, episode.final_y))
        ratio = sil["path_length"] / episode.path_length_m
        rows.append((episode.seed, episode.reached, sil["reached"], round(offset, 3), ratio))
        assert sil["reached"] == episode.reached, rows
        assert sil["collisions"] == episode.collisions == 0, rows
        assert offset <= FINAL_POSITION_TOLERANCE_M, rows
        assert abs(ratio - 1.0) <= PATH_LENGTH_TOLERANCE, rows
    print(f"(seed, headless reached, SIL reached, final offset m, SIL/headless path): {rows}")
