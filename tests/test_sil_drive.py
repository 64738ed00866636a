"""Software-in-the-loop: the simulated Husky driven through the actuator bridge over real DDS.

Each test starts the real bringup (simulator + actuator bridge in one process) and talks to it
from a probe node in the test process. Tolerances are stated where they are used.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import pytest

from support.robot_view import RobotView, wrap

pytestmark = pytest.mark.system

ROBOT_NODES = "sim,actuator_bridge"


@pytest.fixture
def robot(start_robot, probe):  # type: ignore[no-untyped-def]
    process = start_robot(nodes=ROBOT_NODES)
    view = RobotView(probe)
    view.wait_ready()
    assert probe.wait_for_subscribers(view.cmd_vel), "actuator bridge not subscribed to cmd_vel"
    view.process = process  # type: ignore[attr-defined]
    return view


def test_commanded_twists_move_the_robot_the_right_way(robot: RobotView) -> None:
    # Each motion starts from rest, so one phase's momentum does not count for the next.
    robot.settle(0.5)
    start = robot.pose()
    robot.drive(0.5, 0.0, 2.0)
    robot.settle(1.0)
    after_forward = robot.pose()
    # Forward is +x of base_link: displacement along the initial heading, not sideways.
    dx, dy = after_forward.x - start.x, after_forward.y - start.y
    along = dx * math.cos(start.yaw) + dy * math.sin(start.yaw)
    across = -dx * math.sin(start.yaw) + dy * math.cos(start.yaw)
    assert along > 0.5, f"moved only {along:.2f} m forward"
    assert abs(across) < 0.15 * along

    robot.drive(0.0, 0.6, 2.0)
    robot.settle(1.0)
    after_turn = robot.pose()
    assert wrap(after_turn.yaw - after_forward.yaw) > 0.4, "positive angular.z must turn left"
    # A skid-steer base scrubs while it turns: PyBullet's Husky drifts 0.1-0.4 m in a 2 s turn
    # in place (measured headless, wheels at ±1 to ±5 rad/s). Half of what the same wheel
    # speeds would drive in a straight line (1 m) still tells a turn from a drive.
    assert after_turn.distance_to(after_forward) < 0.5, "turning in place should stay near"

    robot.drive(-0.4, 0.0, 2.0)
    robot.settle(1.0)
    after_back = robot.pose()
    heading = after_turn.yaw
    back = (after_back.x - after_turn.x) * math.cos(heading) + (
        after_back.y - after_turn.y
    ) * math.sin(heading)
    assert back < -0.4, "negative linear.x must drive backwards"
    robot.process.assert_clean_exit()  # type: ignore[attr-defined]


def test_zero_command_stops_the_robot(robot: RobotView) -> None:
    robot.drive(0.6, 0.3, 2.0)
    assert robot.speed() > 0.2
    robot.drive(0.0, 0.0, 1.5)
    assert robot.speed() < 0.05
    still = robot.pose()
    robot.drive(0.0, 0.0, 1.0)
    assert robot.pose().distance_to(still) < 0.02


# Wheel odometry against ground truth. Straight: within 5 % of the distance travelled and 0.1 m
# sideways. Turn: heading within 10 % of the angle turned (skid-steer slip is modelled by the
# profile's robot.wheels.separation_multiplier, calibrated against this simulator).
STRAIGHT_TOLERANCE = 0.05
TURN_TOLERANCE = 0.10


def _displacement(a, b):  # type: ignore[no-untyped-def]
    return math.hypot(b.x - a.x, b.y - a.y)


def test_wheel_odometry_agrees_with_ground_truth(robot: RobotView) -> None:
    robot.settle(0.5)
    gt0, od0 = robot.pose(), robot.odom_pose()
    robot.drive(0.6, 0.0, 4.0)
    robot.settle(1.0)
    gt1, od1 = robot.pose(), robot.odom_pose()
    gt_dist, od_dist = _displacement(gt0, gt1), _displacement(od0, od1)
    assert gt_dist > 1.5
    assert abs(od_dist - gt_dist) <= STRAIGHT_TOLERANCE * gt_dist, (gt_dist, od_dist)

    robot.drive(0.0, 0.8, 3.0)
    robot.settle(1.0)
    gt2, od2 = robot.pose(), robot.odom_pose()
    gt_turn, od_turn = wrap(gt2.yaw - gt1.yaw), wrap(od2.yaw - od1.yaw)
    assert gt_turn > 1.0
    assert abs(od_turn - gt_turn) <= TURN_TOLERANCE * gt_turn, (gt_turn, od_turn)


def test_wheels_stop_when_the_command_source_dies(robot: RobotView, launch, ros_env) -> None:  # type: ignore[no-untyped-def]
    # A killed process must not leave shared-memory files behind: UDP only.
    env = dict(ros_env, FASTDDS_BUILTIN_TRANSPORTS="UDPv4")
    source = launch(
        [
            sys.executable,
            str(Path(__file__).parent / "support" / "cmd_vel_publisher.py"),
            "--linear",
            "0.6",
            "--rate",
            "20",
        ],
        name="cmd_source",
        env=env,
    )
    assert source.wait_for_output("publishing", 30)
    moving = robot.ground_truth.wait_for(
        lambda m: m.twist.twist.linear.x > 0.3 or abs(m.twist.twist.linear.y) > 0.3, 60
    )
    assert moving is not None, "robot never moved under the command source"
    killed_at = robot.sim_now_ns()
    source.kill()
    # Watchdog (0.5 s) + ramp down at the acceleration limit (25 rad/s², ~0.15 s from 3.6 rad/s)
    # + one control period: the wheel commands must be zero within 1.0 s of sim time.
    zero = robot.joint_commands.wait_for(
        lambda m: robot.sim_now_ns() > killed_at and all(v == 0.0 for v in m.velocity), 30
    )
    assert zero is not None, "wheel commands never went to zero"
    assert robot.sim_now_ns() - killed_at <= 1.0e9 + 0.3e9
    robot.wait_sim(1.5)
    assert robot.speed() < 0.05


@pytest.mark.parametrize(
    ("linear", "angular", "frame"),
    [
        (math.nan, 0.0, "base_link"),
        (math.inf, 0.0, "base_link"),
        (0.0, -math.inf, ""),
        (0.5, 0.0, "map"),
    ],
    ids=["nan", "inf", "-inf-angular", "wrong-frame"],
)
def test_bad_twists_never_move_the_robot(  # type: ignore[no-untyped-def]
    start_robot, probe, linear, angular, frame
) -> None:
    process = start_robot(nodes=ROBOT_NODES)
    robot = RobotView(probe)
    robot.wait_ready()
    assert probe.wait_for_subscribers(robot.cmd_vel)
    start = robot.pose()
    end = time.monotonic() + 3.0
    while time.monotonic() < end:
        robot.send(linear, angular, frame)
        time.sleep(0.05)
    assert robot.pose().distance_to(start) < 0.02
    assert abs(wrap(robot.pose().yaw - start.yaw)) < 0.02
    assert process.wait_for_output("refused cmd_vel", 10)
    process.assert_clean_exit()
