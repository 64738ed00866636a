"""The edge loop drives: sim → perception → policy (→ safety) → actuator bridge, over real DDS.

One bringup process runs the simulated Husky and the robot nodes; the test process gives goals on
``goal_pose`` (from the sim's scenario, put into ``odom`` with ground truth) and judges with
ground truth and the sim's collision events, which the robot stack never sees.

Speed: the simulator runs at ``RTF`` × real time. At 2× the 10 Hz scan arrives every 50 ms of
wall time while one perception → policy → bridge pass takes a few ms, so the control loop keeps
up even on a loaded machine; timeouts below are in wall seconds with a wide margin.

Until fw_safety is registered in the bringup, the policy's output is pointed at ``cmd_vel``
(``policy.output_topic``), a test-only shortcut; with fw_safety present the commands go through
it as on a robot.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any

import pytest
from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import Odometry
from rcl_interfaces.srv import SetParameters
from rclpy.parameter import Parameter
from std_msgs.msg import String

from fw_bringup.nodes import NODES
from fw_common import qos, topics
from fw_common.conversions import quaternion_from_yaw, yaw_from_quaternion
from fw_common.planar import compose, inverse
from support.probe import MessageLog, RosProbe

pytestmark = pytest.mark.system

RTF = 2.0
#: The policy stops within its goal_tolerance (0.3 m) of its *estimated* goal; odometry error
#: over a few metres adds to that, so ground truth is judged with a wider radius.
REACHED_RADIUS = 0.6
SCENARIO_TIMEOUT_S = 45.0  # wall seconds: 90 s of sim time for a 5-10 m trip
HAS_SAFETY = "safety" in NODES
#: Where the policy's commands go (see the module docstring).
POLICY_OUTPUT = topics.CMD_VEL_RAW if HAS_SAFETY else topics.CMD_VEL


def stack_nodes() -> str:
    names = ["sim", "perception", "policy", "actuator_bridge"]
    if HAS_SAFETY:
        names.insert(3, "safety")
    return ",".join(names)


def stack_sets(*extra: str) -> list[str]:
    sets = [f"sim.real_time_factor={RTF}", *extra]
    if not HAS_SAFETY:
        sets.append("policy.output_topic=cmd_vel")
    return sets


def pose_of(msg: Odometry) -> tuple[float, float, float]:
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    return p.x, p.y, yaw_from_quaternion(q.x, q.y, q.z, q.w)


class Mission:
    """Scenario goals for one robot, judged with ground truth."""

    def __init__(self, probe: RosProbe) -> None:
        self.probe = probe
        self.scenario: MessageLog[String] = probe.subscribe(
            String, topics.SIM_SCENARIO, qos.LATCHED
        )
        self.truth: MessageLog[Odometry] = probe.subscribe(
            Odometry, topics.SIM_GROUND_TRUTH, qos.SENSOR
        )
        self.state: MessageLog[Odometry] = probe.subscribe(
            Odometry, topics.PERCEPTION_STATE, qos.SENSOR
        )
        self.collisions: MessageLog[DiagnosticStatus] = probe.subscribe(
            DiagnosticStatus, topics.SIM_COLLISIONS, qos.EVENT
        )
        self.info: MessageLog[String] = probe.subscribe(String, topics.POLICY_INFO, qos.LATCHED)
        self.commands: MessageLog[TwistStamped] = probe.subscribe(
            TwistStamped, POLICY_OUTPUT, qos.COMMAND
        )
        self.goal_pub = probe.publisher(PoseStamped, topics.GOAL_POSE, qos.LATCHED)

    def close(self) -> None:
        """Withdraw the latched goal: a later robot on this graph must not receive it."""
        self.probe.node.destroy_publisher(self.goal_pub)

    def wait_ready(self, seed: int | None = None) -> None:
        assert self.scenario.wait_for(
            lambda m: seed is None or json.loads(m.data)["seed"] == seed, timeout=60
        ), "no scenario from the simulator"
        assert self.truth.wait_for(timeout=30), "no ground truth"
        assert self.state.wait_for(timeout=30), "no fw/perception/state from perception"
        assert self.info.wait_for(timeout=30), "no fw/policy/info"

    def current_scenario(self) -> dict[str, Any]:
        msg = self.scenario.latest()
        assert msg is not None
        return json.loads(msg.data)

    def truth_pose(self) -> tuple[float, float, float]:
        msg = self.truth.latest()
        assert msg is not None
        return pose_of(msg)

    def latest_info(self) -> dict[str, Any]:
        msg = self.info.latest()
        assert msg is not None
        return json.loads(msg.data)

    def publish_goal_odom(self, x: float, y: float, yaw: float) -> None:
        goal = PoseStamped()
        goal.header.frame_id = "odom"
        goal.pose.position.x, goal.pose.position.y = x, y
        qx, qy, qz, qw = quaternion_from_yaw(yaw)
        goal.pose.orientation.x, goal.pose.orientation.y = qx, qy
        goal.pose.orientation.z, goal.pose.orientation.w = qz, qw
        self.goal_pub.publish(goal)

    def _world_to_odom(self) -> tuple[float, float, float]:
        """T_odom_world from a ground-truth and a perception-state sample both taken after
        the robot came to rest (so their slightly different stamps do not matter)."""
        assert self.truth.wait_for_count(len(self.truth) + 1, timeout=10), "ground truth stopped"
        assert self.state.wait_for_count(len(self.state) + 1, timeout=10), "state stopped"
        state, truth = self.state.latest(), self.truth.latest()
        assert state is not None and truth is not None
        return compose(pose_of(state), inverse(pose_of(truth)))

    def wait_still(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.truth.latest()
            if msg is not None:
                v = msg.twist.twist
                if abs(v.linear.x) + abs(v.linear.y) < 0.02 and abs(v.angular.z) < 0.02:
                    return
            time.sleep(0.05)
        raise AssertionError("robot did not come to rest")

    def hold(self) -> None:
        """Goal = where the robot is: the policy stops."""
        state = self.state.latest()
        assert state is not None
        self.publish_goal_odom(*pose_of(state))

    def send_scenario_goal(self) -> tuple[float, float]:
        goal = self.current_scenario()["goal"]
        self.wait_still()
        goal_odom = compose(self._world_to_odom(), (goal["x"], goal["y"], 0.0))
        self.publish_goal_odom(*goal_odom)
        return goal["x"], goal["y"]

    def distance_to(self, goal: tuple[float, float]) -> float:
        x, y, _ = self.truth_pose()
        return math.hypot(goal[0] - x, goal[1] - y)

    def drive(self, goal: tuple[float, float], timeout: float) -> tuple[bool, int]:
        """Wait until ground truth comes within REACHED_RADIUS and the robot has stopped there
        (the policy's own goal check); (reached, collisions meanwhile)."""
        before = len(self.collisions)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.distance_to(goal) >= REACHED_RADIUS:
            time.sleep(0.1)
        try:
            self.wait_still(timeout=max(deadline - time.monotonic(), 1.0))
        except AssertionError:
            return False, len(self.collisions) - before
        return self.distance_to(goal) < REACHED_RADIUS, len(self.collisions) - before


def set_policy_params(probe: RosProbe, **values: Any) -> Any:
    request = SetParameters.Request()
    request.parameters = [Parameter(k, value=v).to_parameter_msg() for k, v in values.items()]
    response = probe.call(SetParameters, "/policy/set_parameters", request, timeout=30.0)
    assert len(response.results) == len(values)
    return response.results


def test_classic_policy_reaches_seeded_goals_without_collisions(start_robot, probe) -> None:
    # A fresh robot per seed: odometry starts at the scenario's start pose, as on a real
    # mission (fw/sim/new_scenario teleports the robot under a running odometry).
    results = []
    for seed in range(5):
        robot = start_robot(
            seed=seed,
            nodes=stack_nodes(),
            sets=stack_sets("policy.kind=classic"),
            name=f"robot_seed{seed}",
        )
        mission = Mission(probe)
        mission.wait_ready(seed)
        assert mission.latest_info()["kind"] == "classic"
        goal = mission.send_scenario_goal()
        reached, collisions = mission.drive(goal, SCENARIO_TIMEOUT_S)
        results.append((seed, reached, collisions, round(mission.distance_to(goal), 2)))
        # Every command carries the stamp of the scan it was computed from (sim time).
        stamps = [m.header.stamp for m in mission.commands.messages]
        assert stamps and all(t.sec or t.nanosec for t in stamps)
        mission.close()
        # The whole composed robot exits 0 on SIGINT, without a traceback, as launch expects.
        robot.assert_clean_exit()
    print(f"(seed, reached, collisions, distance left m): {results}")
    successes = [r for r in results if r[1] and r[2] == 0]
    assert len(successes) >= 4, f"(seed, reached, collisions, distance left): {results}"


def make_model(path: Path, kind: str, *args: str) -> Path:
    from fw_policy.model_file import main as make

    assert make([kind, str(path), *args]) == 0
    return path


def test_onnx_swap_while_driving_and_bad_models_are_refused(
    start_robot, probe, tmp_path: Path
) -> None:
    # A model that turns in place at 0.5 of its 1.0 rad/s scale: easy to recognise on the wire
    # and in ground truth, and it keeps the robot where it is (no collision to chance).
    turn = make_model(
        tmp_path / "turn.onnx",
        "constant",
        "--action",
        "0",
        "0.5",
        "--action-scale",
        "0.8",
        "1.0",
        "--version",
        "turn-v1",
    )
    nan = make_model(tmp_path / "nan.onnx", "nan")
    wrong_spec = make_model(tmp_path / "spec.onnx", "mlp", "--spec-id", "00000000deadbeef")
    # Configured for onnx with a model that does not exist: falls back to classic, says so.
    robot = start_robot(
        seed=3,
        nodes=stack_nodes(),
        sets=stack_sets("policy.kind=onnx", f"policy.model_path={tmp_path / 'missing.onnx'}"),
    )
    mission = Mission(probe)
    mission.wait_ready()
    info = mission.latest_info()
    assert info["kind"] == "classic" and info["fallback"] is True, info
    assert "does not exist" in info["fallback_reason"]

    goal = mission.send_scenario_goal()
    start_distance = mission.distance_to(goal)
    deadline = time.monotonic() + 30
    while mission.distance_to(goal) > start_distance - 0.8 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert mission.distance_to(goal) <= start_distance - 0.8, "classic fallback did not drive"

    # A model with non-finite output is refused; classic keeps driving toward the goal.
    (result,) = set_policy_params(probe, model_path=str(nan))
    assert not result.successful and "non-finite" in result.reason, result.reason
    refused_at = mission.distance_to(goal)
    time.sleep(2.0)
    assert mission.distance_to(goal) < refused_at - 0.3, "robot stopped after a refused model"
    assert mission.latest_info()["kind"] == "classic"

    # Swap to the ONNX model while driving.
    results = set_policy_params(probe, model_path=str(turn), kind="onnx")
    assert all(r.successful for r in results), [r.reason for r in results]
    assert mission.info.wait_for(
        lambda m: (
            json.loads(m.data).get("model_sha256") == hashlib.sha256(turn.read_bytes()).hexdigest()
        ),
        timeout=10,
    ), mission.latest_info()
    info = mission.latest_info()
    assert info["kind"] == "onnx" and info["model_version"] == "turn-v1"
    assert info["spec_id"] and info["loaded_at"]
    swapped = time.monotonic()
    time.sleep(1.0)
    recent = [m for m in mission.commands.since(swapped + 0.5)]
    assert recent, "no commands after the swap"
    assert all(
        abs(m.twist.angular.z - 0.5) < 1e-3 and abs(m.twist.linear.x) < 1e-3 for m in recent
    ), [(m.twist.linear.x, m.twist.angular.z) for m in recent[:5]]
    yaw0 = mission.truth_pose()[2]
    time.sleep(2.0)
    turned = math.remainder(mission.truth_pose()[2] - yaw0, 2 * math.pi)
    assert turned > 0.3, f"robot turned only {turned:.2f} rad on the ONNX model"

    # Wrong spec and a corrupt file are refused; the ONNX model keeps driving.
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(turn.read_bytes()[:100])
    for bad, why in ((wrong_spec, "observation spec"), (corrupt, "cannot load")):
        (result,) = set_policy_params(probe, model_path=str(bad))
        assert not result.successful and why in result.reason, result.reason
    refused = time.monotonic()
    time.sleep(1.0)
    assert mission.latest_info()["model_version"] == "turn-v1"
    assert mission.latest_info()["refused"]["model_path"] == str(corrupt)
    after = mission.commands.since(refused + 0.3)
    assert after and all(abs(m.twist.angular.z - 0.5) < 1e-3 for m in after)
    robot.stop()
