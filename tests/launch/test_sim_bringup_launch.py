"""launch_testing: the simulated robot brought up by ``launch/sim.launch.py``, as a robot runs it.

Runs twice, one process per node and ``single_process:=true``. Active tests watch the graph from
an rclpy probe in the test process: the robot's topics appear with the right types, sensors keep
their configured rates (measured on sim-time stamps, so a loaded machine does not matter), a
command (and, once the policy and safety supervisor run, a goal) moves the robot, an e-stop stops
it. After shutdown every process must have exited with code 0 and printed no traceback.

    launch_test tests/launch/test_sim_bringup_launch.py    # needs launch_testing (a ROS 2 install)
    python -m pytest tests/launch                           # same, through its pytest plugin

Where launch_testing is not installed (PyPI-only hosts) the module is skipped with the reason.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
import sys
import time
import unittest
from pathlib import Path

import pytest

pytest.importorskip(
    "launch_testing",
    reason="launch_testing is not installed (it ships with ROS 2 installs, not on PyPI); "
    "run these where it is, with `launch_test` or pytest",
)
pytest.importorskip(
    "launch_ros", reason="launch_ros is not installed (it ships with ROS 2 installs, not on PyPI)"
)

import launch_testing
import launch_testing.actions
import launch_testing.asserts
from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "tests") not in sys.path:  # `launch_test` does not run tests/conftest.py
    sys.path.insert(0, str(REPO / "tests"))

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from geometry_msgs.msg import PoseStamped, TwistStamped  # noqa: E402
from nav_msgs.msg import Odometry  # noqa: E402
from rosgraph_msgs.msg import Clock  # noqa: E402
from sensor_msgs.msg import Imu, JointState, LaserScan  # noqa: E402
from std_msgs.msg import Bool, String  # noqa: E402
from std_srvs.srv import Trigger  # noqa: E402

from fw_bringup.launch_plan import plan_robot, plan_sim  # noqa: E402
from fw_bringup.nodes import NODES  # noqa: E402
from fw_common import qos, topics  # noqa: E402
from fw_common.conversions import stamp_to_ns  # noqa: E402
from support.probe import MessageLog, RosProbe  # noqa: E402
from support.robot_view import Pose  # noqa: E402

SIM_LAUNCH = REPO / "launch" / "sim.launch.py"
SEED = "3"
# An empty arena: the command test drives straight ahead and must not hit anything.
OVERRIDES = "sim.scenario.box_count=0 sim.scenario.cylinder_count=0"
# Generous waits for a shared, loaded machine; assertions are on behaviour, not speed.
START_TIMEOUT = 90.0
# Median stamp interval within 25 % of the configured period.
RATE_TOLERANCE = 0.25
RATE_SAMPLES = 30

HAS_SAFETY = "safety" in NODES
HAS_POLICY = "policy" in NODES
# With the safety supervisor, it alone publishes cmd_vel; a person's command goes in as teleop.
COMMAND_TOPIC = topics.TELEOP_CMD_VEL if HAS_SAFETY else topics.CMD_VEL


def _planned_profile():  # type: ignore[no-untyped-def]
    """The profile exactly as sim.launch.py applies it (same arguments, same mapping)."""
    return plan_sim("sim", seed=SEED, overrides=OVERRIDES).profile


@pytest.mark.launch_test
@launch_testing.parametrize("single_process", ["false", "true"])
def generate_test_description(single_process: str):  # type: ignore[no-untyped-def]
    sim = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(SIM_LAUNCH)),
        launch_arguments={
            "seed": SEED,
            "gui": "false",
            "overrides": OVERRIDES,
            "single_process": single_process,
        }.items(),
    )
    return LaunchDescription([sim, launch_testing.actions.ReadyToTest()]), {
        "single_process": single_process
    }


def _expected_topics() -> dict[str, str]:
    """Topic → type that must be published, for the nodes this checkout has."""
    expected = {
        topics.SCAN: "sensor_msgs/msg/LaserScan",
        topics.IMU: "sensor_msgs/msg/Imu",
        topics.JOINT_STATES: "sensor_msgs/msg/JointState",
        topics.CLOCK: "rosgraph_msgs/msg/Clock",
        topics.SIM_GROUND_TRUTH: "nav_msgs/msg/Odometry",
        topics.SIM_SCENARIO: "std_msgs/msg/String",
        topics.ODOM: "nav_msgs/msg/Odometry",
        topics.JOINT_COMMANDS: "sensor_msgs/msg/JointState",
    }
    if "perception" in NODES:
        expected[topics.PERCEPTION_SCAN] = "sensor_msgs/msg/LaserScan"
        expected[topics.PERCEPTION_STATE] = "nav_msgs/msg/Odometry"
    if HAS_POLICY:
        expected[topics.CMD_VEL_RAW] = "geometry_msgs/msg/TwistStamped"
        expected[topics.POLICY_INFO] = "std_msgs/msg/String"
    if HAS_SAFETY:
        expected[topics.CMD_VEL] = "geometry_msgs/msg/TwistStamped"
        expected[topics.SAFETY_STATUS] = "diagnostic_msgs/msg/DiagnosticArray"
    return {"/" + name.lstrip("/"): type_name for name, type_name in expected.items()}


class TestSimBringup(unittest.TestCase):
    """Active tests, in name order, against one launched robot."""

    probe: RosProbe
    ground_truth: MessageLog[Odometry]
    odom: MessageLog[Odometry]

    @classmethod
    def setUpClass(cls) -> None:
        cls.probe = RosProbe("launch_test_probe")
        cls.ground_truth = cls.probe.subscribe(Odometry, topics.SIM_GROUND_TRUTH, qos.SENSOR)
        cls.odom = cls.probe.subscribe(Odometry, topics.ODOM, qos.SENSOR)
        cls.command = cls.probe.publisher(TwistStamped, COMMAND_TOPIC, qos.COMMAND)
        assert cls.ground_truth.wait_for(timeout=START_TIMEOUT), "no ground truth: sim not up"
        assert cls.odom.wait_for(timeout=START_TIMEOUT), "no odometry: actuator bridge not up"

    @classmethod
    def tearDownClass(cls) -> None:
        cls.probe.close()

    # --- helpers -------------------------------------------------------------------------

    def _pose(self) -> Pose:
        msg = self.ground_truth.latest()
        assert msg is not None
        return Pose.of(msg)

    def _speed(self) -> float:
        msg = self.ground_truth.latest()
        assert msg is not None
        t = msg.twist.twist
        return math.hypot(t.linear.x, t.linear.y) + 0.3 * abs(t.angular.z)

    def _drive(self, linear: float, angular: float, sim_seconds: float) -> None:
        """Publish a twist at 20 Hz (wall) until ``sim_seconds`` of sim time have passed."""
        end = self._pose().stamp_ns + int(sim_seconds * 1e9)
        deadline = time.monotonic() + 30 + 20 * sim_seconds
        while self._pose().stamp_ns < end:
            self.assertLess(time.monotonic(), deadline, "simulated time stalled while driving")
            msg = TwistStamped()
            msg.header.frame_id = "base_link"
            msg.header.stamp = self.probe.node.get_clock().now().to_msg()
            msg.twist.linear.x = linear
            msg.twist.angular.z = angular
            self.command.publish(msg)
            time.sleep(0.05)

    # --- tests ---------------------------------------------------------------------------

    def test_1_topics_appear_with_their_types(self, single_process: str) -> None:
        expected = _expected_topics()
        deadline = time.monotonic() + START_TIMEOUT
        missing: dict[str, str] = dict(expected)
        while missing and time.monotonic() < deadline:
            for name in list(missing):
                publishers = self.probe.node.get_publishers_info_by_topic(name)
                if publishers:
                    types = {p.topic_type for p in publishers}
                    self.assertEqual(types, {missing[name]}, f"{name} has the wrong type")
                    del missing[name]
            time.sleep(0.2)
        self.assertFalse(missing, f"never published ({single_process=}): {missing}")

    def test_2_sensors_keep_their_configured_rates(self, single_process: str) -> None:
        sim = _planned_profile().sim
        # Stamps are sim time: the intervals are what the robot sees, whatever the wall speed.
        cases = [
            (LaserScan, topics.SCAN, sim.lidar.rate, lambda m: m.header.stamp),
            (Imu, topics.IMU, sim.imu.rate, lambda m: m.header.stamp),
            (JointState, topics.JOINT_STATES, sim.joint_states_rate, lambda m: m.header.stamp),
            # Wheel odometry is computed on every joint state.
            (Odometry, topics.ODOM, sim.joint_states_rate, lambda m: m.header.stamp),
            (Clock, topics.CLOCK, sim.clock_rate, lambda m: m.clock),
        ]
        logs = [
            (name, rate, stamp, self.probe.subscribe(msg_type, name, qos.SENSOR))
            for msg_type, name, rate, stamp in cases
        ]
        for name, rate, stamp, log in logs:
            self.assertTrue(
                log.wait_for_count(RATE_SAMPLES, timeout=START_TIMEOUT), f"{name}: too few"
            )
            stamps = sorted({stamp_to_ns(stamp(m)) for m in log.messages})
            intervals = [(b - a) * 1e-9 for a, b in itertools.pairwise(stamps)]
            period = statistics.median(intervals)
            self.assertAlmostEqual(
                period,
                1.0 / rate,
                delta=RATE_TOLERANCE / rate,
                msg=f"{name}: median interval {period:.4f} s, configured {rate} Hz",
            )

    def test_3_a_command_moves_the_robot(self, single_process: str) -> None:
        self.assertTrue(
            self.probe.wait_for_subscribers(self.command, timeout=START_TIMEOUT),
            f"nobody subscribes to {COMMAND_TOPIC}",
        )
        start = self._pose()
        self._drive(0.5, 0.0, 2.0)
        moved = self._pose()
        along = (moved.x - start.x) * math.cos(start.yaw) + (moved.y - start.y) * math.sin(
            start.yaw
        )
        self.assertGreater(along, 0.4, f"moved only {along:.2f} m forward on {COMMAND_TOPIC}")
        self._drive(0.0, 0.0, 1.5)
        self.assertLess(self._speed(), 0.05, "a zero command must stop the robot")

    def test_4_a_goal_moves_the_robot(self, single_process: str) -> None:
        if not (HAS_POLICY and HAS_SAFETY):
            self.skipTest(
                "needs fw_policy and fw_safety in fw_bringup.nodes.NODES (the policy's "
                "fw/cmd_vel_raw reaches the wheels only through the safety supervisor)"
            )
        scenario_log = self.probe.subscribe(String, topics.SIM_SCENARIO, qos.LATCHED)
        scenario = scenario_log.wait_for(timeout=START_TIMEOUT)
        self.assertIsNotNone(scenario, "no scenario from the simulator")
        assert scenario is not None
        response = self.probe.call(Trigger, topics.SIM_RESET, Trigger.Request(), timeout=30)
        self.assertTrue(response.success, response.message)
        self._drive(0.0, 0.0, 1.0)  # settle at the start (teleop zero, then it times out)
        goal = json.loads(scenario.data)["goal"]
        world, odom = self._pose(), self._odom_pose()
        # The scenario's goal (world frame) in odom, from the robot's pose in both frames.
        rot = odom.yaw - world.yaw
        dx, dy = goal["x"] - world.x, goal["y"] - world.y
        msg = PoseStamped()
        msg.header.frame_id = "odom"
        msg.pose.position.x = odom.x + dx * math.cos(rot) - dy * math.sin(rot)
        msg.pose.position.y = odom.y + dx * math.sin(rot) + dy * math.cos(rot)
        msg.pose.orientation.w = 1.0
        self.probe.publisher(PoseStamped, topics.GOAL_POSE, qos.LATCHED).publish(msg)
        start_distance = math.hypot(goal["x"] - world.x, goal["y"] - world.y)
        progress = self.ground_truth.wait_for(
            lambda m: (
                start_distance
                - math.hypot(
                    goal["x"] - m.pose.pose.position.x, goal["y"] - m.pose.pose.position.y
                )
                > min(1.0, 0.5 * start_distance)
            ),
            timeout=START_TIMEOUT,
        )
        self.assertIsNotNone(progress, f"the robot did not head for the goal {goal}")

    def test_5_an_estop_stops_the_robot(self, single_process: str) -> None:
        if not HAS_SAFETY:
            self.skipTest("fw_safety has not landed in fw_bringup.nodes.NODES (no e-stop path)")
        status = self.probe.subscribe(DiagnosticArray, topics.SAFETY_STATUS, qos.STATUS)
        estop = self.probe.publisher(Bool, topics.ESTOP, qos.LATCHED)
        self._drive(0.5, 0.0, 1.5)
        self.assertGreater(self._speed(), 0.2, "the robot should be moving before the e-stop")
        estop.publish(Bool(data=True))
        # Keep commanding: the e-stop must win over a live command source.
        self._drive(0.5, 0.0, 2.0)
        self.assertLess(self._speed(), 0.05, "the robot still moves under an e-stop")
        still = self._pose()
        self._drive(0.5, 0.0, 1.0)
        self.assertLess(self._pose().distance_to(still), 0.02, "the e-stop did not hold")
        self.assertTrue(status.wait_for(timeout=START_TIMEOUT), "no safety status")

    def _odom_pose(self) -> Pose:
        msg = self.odom.latest()
        assert msg is not None
        return Pose.of(msg)


@launch_testing.post_shutdown_test()
class TestSimBringupShutdown(unittest.TestCase):
    """What launch expects of every node on SIGINT: exit code 0 and no traceback."""

    def test_every_process_exited_cleanly(self, proc_info, single_process: str) -> None:  # type: ignore[no-untyped-def]
        launch_testing.asserts.assertExitCodes(proc_info)

    def test_no_process_printed_a_traceback(self, proc_output, single_process: str) -> None:  # type: ignore[no-untyped-def]
        for name in proc_output.process_names():
            text = "".join(io.text.decode(errors="replace") for io in proc_output[name])
            self.assertNotIn("Traceback", text, f"{name}:\n{text[-3000:]}")
            # An executor reports a callback that failed (a publish on a context SIGINT
            # invalidated, say) as FATAL: a clean exit prints none.
            self.assertNotIn("[FATAL]", text, f"{name}:\n{text[-3000:]}")

    def test_the_planned_processes_ran(self, proc_info, single_process: str) -> None:  # type: ignore[no-untyped-def]
        planned = plan_robot("sim", use_sim_time="true", single_process=single_process)
        names = list(proc_info.process_names())
        # The simulator, plus one process per robot node or the one bringup process.
        self.assertEqual(len(names), 1 + len(planned.processes), f"processes: {names}")
