"""A robot started by hand drives once `python -m fw_bringup.send_goal` gives it a goal."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time

import pytest
from nav_msgs.msg import Odometry
from std_msgs.msg import String

from fw_bringup.send_goal import goal_in_odom
from fw_common import qos, topics

pytestmark = pytest.mark.system


def _send_goal(ros_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fw_bringup.send_goal", *args],
        env=ros_env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def _xy(msg: Odometry) -> tuple[float, float]:
    return msg.pose.pose.position.x, msg.pose.pose.position.y


def test_goal_in_odom_moves_a_world_goal_by_the_robots_two_poses() -> None:
    # The robot stands at world (1, 2) facing +y; odometry started there: odom = (0, 0, 0).
    goal = goal_in_odom((0.0, 0.0, 0.0), (1.0, 2.0, math.pi / 2), (1.0, 5.0))
    assert goal[0] == pytest.approx(3.0) and goal[1] == pytest.approx(0.0)


def test_bad_arguments_are_refused_with_the_reason(ros_env: dict[str, str]) -> None:
    for args, reason in (
        ((), "give either x y, or --scenario"),
        (("1.0",), "needs both x and y"),
        (("nan", "1"), "not a finite number"),
        (("1", "2", "--seed", "3"), "give either x y, or --scenario"),
    ):
        result = _send_goal(ros_env, *args)
        assert result.returncode == 2 and reason in result.stderr, (args, result.stderr)


def test_robot_started_by_hand_drives_to_the_goal_it_is_sent(
    start_robot, probe, ros_env: dict[str, str]
) -> None:
    robot = start_robot(seed=3)
    truth = probe.subscribe(Odometry, f"/{topics.SIM_GROUND_TRUTH}", qos.SENSOR)
    state = probe.subscribe(Odometry, f"/{topics.PERCEPTION_STATE}", qos.SENSOR)
    scenario = probe.subscribe(String, f"/{topics.SIM_SCENARIO}", qos.LATCHED)
    assert scenario.wait_for(timeout=60), robot.output()[-3000:]
    assert truth.wait_for(timeout=30) and state.wait_for(timeout=30), robot.output()[-3000:]
    goal = json.loads(scenario.latest().data)["goal"]

    def distance() -> float:
        x, y = _xy(truth.latest())
        return math.hypot(goal["x"] - x, goal["y"] - y)

    time.sleep(1.0)
    start = distance()
    assert _xy(truth.latest()) == pytest.approx(_xy(truth.messages[0]), abs=0.02), "moved alone"

    wrong = _send_goal(ros_env, "--seed", "4", "--timeout", "20")
    assert wrong.returncode == 1 and "runs scenario seed 3, not 4" in wrong.stderr, wrong

    sent = _send_goal(ros_env, "--seed", "3")
    assert sent.returncode == 0, sent.stderr + robot.output()[-3000:]
    assert "taken" in sent.stdout
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and distance() > start - 1.5:
        time.sleep(0.2)
    assert distance() < start - 1.5, f"{start:.2f} m -> {distance():.2f} m"

    # x y in odom: back to where it started (odom's origin); it turns round and heads there.
    def from_origin() -> float:
        return math.hypot(*_xy(state.latest()))

    away = from_origin()
    back = _send_goal(ros_env, "0", "0")
    assert back.returncode == 0, back.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and from_origin() > away - 0.5:
        time.sleep(0.2)
    assert from_origin() < away - 0.5, f"{away:.2f} m -> {from_origin():.2f} m from the start"
    robot.assert_clean_exit()
