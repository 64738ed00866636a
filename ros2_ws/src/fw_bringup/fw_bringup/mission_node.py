"""ROS 2 node ``mission``: a simulated robot drives ``mission.seeds`` on its own.

The logic is :class:`fw_bringup.mission.MissionRunner`'s, run in a thread of its own so that
its waits never hold the executor the robot's other nodes may share; this node is its
:class:`~fw_bringup.mission.MissionRobot` over ROS.

Subscribes
    ``fw/sim/ground_truth`` (nav_msgs/Odometry, best effort), ``fw/perception/state``
    (nav_msgs/Odometry, best effort), ``fw/sim/scenario`` (std_msgs/String JSON, latched),
    ``fw/sim/collisions`` and ``fw/safety/events`` (diagnostic_msgs/DiagnosticStatus,
    reliable): counted per episode; ``fw/teleop/cmd_vel`` (geometry_msgs/TwistStamped): the
    expert's take-over steps; ``fw/policy/info`` and ``fw/cloud_agent/status`` (latched JSON):
    what drives.
Publishes
    ``goal_pose`` (geometry_msgs/PoseStamped in ``odom``, latched).
Calls
    the sim node's ``seed`` parameter and ``fw/sim/new_scenario`` / ``fw/sim/reset``,
    ``fw/sim/release_expert`` (after each episode: the expert stops driving),
    ``fw/perception/reset``, ``fw/recorder/episode`` (std_srvs/SetBool).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from diagnostic_msgs.msg import DiagnosticStatus
from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.parameter_client import AsyncParameterClient
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import String
from std_srvs.srv import SetBool, Trigger

from fw_bringup.mission import MissionError, MissionRunner, NotRecordedError, StateSample
from fw_bringup.mission_episode import EpisodeCounters, TruthSample
from fw_bringup.mission_log import MissionLog
from fw_common import frames, qos, topics
from fw_common.conversions import quaternion_from_yaw, stamp_to_ns, yaw_from_quaternion
from fw_common.planar import Pose2
from fw_common.profile.mission import MissionConfig
from fw_common.ros_params import SectionParameters
from fw_common.shutdown import QuietShutdown
from fw_common.spin import run_node

__all__ = ["MissionNode", "main"]

#: The simulator's node name, in the robot's namespace (its ``seed`` parameter).
SIM_NODE = "sim"
_POLL = 0.01
#: The recorder's refusal to close when no requested episode is open (fw_recorder.recorder).
_NOTHING_OPEN = "no requested episode is open"
#: Its refusal to close an episode it accepted but could not open (spool budget, disk).
_NO_RECORDING = "has no recording"
_COUNTED_COMMANDS = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)


def _pose(msg: Odometry) -> Pose2:
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    return float(p.x), float(p.y), yaw_from_quaternion(q.x, q.y, q.z, q.w)


class MissionNode(QuietShutdown, Node):
    """The mission runner's ROS side (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("mission", **kwargs)
        config = SectionParameters(self, MissionConfig).current
        ns = self.get_namespace().strip("/")
        robot_id = config.robot_id or (ns.split("/")[-1] if ns else "robot")
        self._lock = threading.Lock()
        self._truth: TruthSample | None = None
        self._state: StateSample | None = None
        self._scenario: dict[str, Any] | None = None
        self._scenarios_seen = 0
        self._policy_kind = ""
        self._active_release: str | None = None
        self._agent_status_seen = False
        self._collisions = 0
        self._interventions: Counter[str] = Counter()
        self._takeovers = 0

        sub = self.create_subscription
        sub(Odometry, topics.SIM_GROUND_TRUTH, self._on_truth, qos.SENSOR)
        sub(Odometry, topics.PERCEPTION_STATE, self._on_state, qos.SENSOR)
        sub(String, topics.SIM_SCENARIO, self._on_scenario, qos.LATCHED)
        sub(String, topics.POLICY_INFO, self._on_policy_info, qos.LATCHED)
        sub(String, topics.CLOUD_AGENT_STATUS, self._on_agent_status, qos.LATCHED)
        sub(DiagnosticStatus, topics.SIM_COLLISIONS, self._on_collision, qos.EVENT)
        sub(DiagnosticStatus, topics.SAFETY_EVENTS, self._on_safety_event, qos.EVENT)
        # Each take-over step counts: a history deep enough to ride out a busy executor (a
        # command's depth of 1 keeps only the newest).
        sub(TwistStamped, topics.TELEOP_CMD_VEL, self._on_teleop, _COUNTED_COMMANDS)
        self._goal_pub = self.create_publisher(PoseStamped, topics.GOAL_POSE, qos.LATCHED)
        self._new_scenario = self.create_client(Trigger, topics.SIM_NEW_SCENARIO)
        self._reset = self.create_client(Trigger, topics.SIM_RESET)
        self._release_expert = self.create_client(Trigger, topics.SIM_RELEASE_EXPERT)
        self._perception_reset = self.create_client(Trigger, topics.PERCEPTION_RESET)
        self._episode = self.create_client(SetBool, topics.RECORDER_EPISODE)
        self._sim_params = AsyncParameterClient(self, SIM_NODE)

        self._stop = threading.Event()
        self.context.on_shutdown(self._stop.set)
        self.runner = MissionRunner(
            config,
            self,
            robot_id,
            log=MissionLog(Path(config.log_path)) if config.log_path else None,
            stopping=self._stop.is_set,
            info=self.get_logger().info,
        )
        after = config.start_after_release
        self.get_logger().info(
            f"mission: {len(config.seeds)} seeds, {config.time_limit:g} s each, "
            f"log {config.log_path or 'none'}" + (f", after release {after}" if after else "")
        )
        self._thread = threading.Thread(target=self._run, name="fw_mission", daemon=True)
        if config.seeds:
            self._thread.start()

    def _run(self) -> None:
        try:
            self.runner.run()
        except Exception as exc:
            if self._stop.is_set() or not self.context.ok():
                return  # shutting down: the calls in flight fail with the context
            self.get_logger().fatal(f"mission stopped: {exc!r}")  # loud: no done line follows
            raise

    # --- subscriptions ----------------------------------------------------------------------

    def _on_truth(self, msg: Odometry) -> None:
        x, y, yaw = _pose(msg)
        t = msg.twist.twist.linear
        speed = float((t.x * t.x + t.y * t.y) ** 0.5)
        self._truth = TruthSample(stamp_to_ns(msg.header.stamp), x, y, yaw, speed)

    def _on_state(self, msg: Odometry) -> None:
        self._state = StateSample(stamp_to_ns(msg.header.stamp), _pose(msg))

    def _on_scenario(self, msg: String) -> None:
        try:
            scenario = json.loads(msg.data)
        except ValueError:
            self.get_logger().warning("fw/sim/scenario is not JSON", throttle_duration_sec=5.0)
            return
        if isinstance(scenario, dict):
            with self._lock:
                self._scenario = scenario
                self._scenarios_seen += 1

    def _on_policy_info(self, msg: String) -> None:
        try:
            info = json.loads(msg.data)
        except ValueError:
            return
        if isinstance(info, dict):
            self._policy_kind = str(info.get("kind", ""))

    def _on_agent_status(self, msg: String) -> None:
        try:
            status = json.loads(msg.data)
        except ValueError:
            return
        if isinstance(status, dict):
            self._agent_status_seen = True
            active = status.get("active")
            self._active_release = str(active) if active else None

    def _on_collision(self, _msg: DiagnosticStatus) -> None:
        with self._lock:
            self._collisions += 1

    def _on_safety_event(self, msg: DiagnosticStatus) -> None:
        kind = next((kv.value for kv in msg.values if kv.key == "kind"), msg.name)
        with self._lock:
            self._interventions[kind] += 1

    def _on_teleop(self, _msg: TwistStamped) -> None:
        with self._lock:
            self._takeovers += 1

    # --- MissionRobot -------------------------------------------------------------------------

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        clients = {
            "fw/sim/new_scenario": self._new_scenario,
            "fw/sim/reset": self._reset,
            "fw/sim/release_expert": self._release_expert,
            "fw/perception/reset": self._perception_reset,
            "fw/recorder/episode": self._episode,
        }
        for name, client in clients.items():
            if not client.wait_for_service(timeout_sec=max(0.0, deadline - time.monotonic())):
                raise MissionError(f"service {name} is not available (is its node running?)")
        if not self._sim_params.wait_for_services(
            timeout_sec=max(0.0, deadline - time.monotonic())
        ):
            raise MissionError("the simulator's parameter services are not available")
        waits = {
            "ground truth": lambda: self._truth is not None,
            "a scenario": lambda: self._scenario is not None,
            "perception state": lambda: self._state is not None,
            "a goal_pose subscriber": lambda: self._goal_pub.get_subscription_count() > 0,
            "fw/policy/info (the policy node)": lambda: bool(self._policy_kind),
            # An agent's latched status says which release drives (none before it arrives).
            "fw/cloud_agent/status": lambda: (
                self._agent_status_seen or self.count_publishers(topics.CLOUD_AGENT_STATUS) == 0
            ),
        }
        for what, ready in waits.items():
            while not ready():
                if time.monotonic() > deadline or self._stop.is_set():
                    raise MissionError(f"no {what} within {timeout:g} s")
                time.sleep(0.05)

    def active_release(self) -> str | None:
        return self._active_release

    def policy_kind(self) -> str:
        return self._policy_kind

    def start_scenario(self, seed: int, timeout: float) -> dict[str, Any]:
        with self._lock:
            current, seen = self._scenario, self._scenarios_seen
        if current is not None and current.get("seed") == seed:
            self._call(self._reset, Trigger.Request(), "fw/sim/reset", timeout)
            return current
        future = self._sim_params.set_parameters([Parameter("seed", value=seed)])
        results = self._wait(future, "setting the simulator's seed", timeout).results
        if not results or not results[0].successful:
            reason = results[0].reason if results else "no answer"
            raise MissionError(f"the simulator refused seed {seed}: {reason}")
        self._call(self._new_scenario, Trigger.Request(), "fw/sim/new_scenario", timeout)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                scenario, count = self._scenario, self._scenarios_seen
            if count > seen and scenario is not None and scenario.get("seed") == seed:
                return scenario
            if time.monotonic() > deadline or self._stop.is_set():
                raise MissionError(f"fw/sim/scenario never announced seed {seed}")
            time.sleep(_POLL)

    def restart_state(self, timeout: float) -> None:
        self._call(self._perception_reset, Trigger.Request(), "fw/perception/reset", timeout)

    def open_episode(self, timeout: float) -> str:
        response = self._call(self._episode, SetBool.Request(data=True), "open", timeout)
        return str(response.message)

    def close_episode(self, timeout: float) -> str:
        try:
            response = self._call(self._episode, SetBool.Request(data=False), "close", timeout)
        except MissionError as exc:
            if _NOTHING_OPEN in str(exc):
                return ""  # an earlier close got through after all, or the open never did
            if _NO_RECORDING in str(exc):
                raise NotRecordedError(str(exc)) from exc
            raise
        return str(response.message)

    def stop_robot(self, timeout: float) -> None:
        self._call(self._release_expert, Trigger.Request(), "stop", timeout)

    def truth(self) -> TruthSample | None:
        return self._truth

    def state(self) -> StateSample | None:
        return self._state

    def publish_goal(self, goal_odom: Pose2, stamp_ns: int) -> None:
        msg = PoseStamped()
        msg.header.frame_id = frames.ODOM
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
        msg.pose.position.x, msg.pose.position.y = goal_odom[0], goal_odom[1]
        q = msg.pose.orientation
        q.x, q.y, q.z, q.w = quaternion_from_yaw(goal_odom[2])
        self._goal_pub.publish(msg)

    def counters(self) -> EpisodeCounters:
        with self._lock:
            return EpisodeCounters(self._collisions, dict(self._interventions), self._takeovers)

    # --- service calls from the mission thread -----------------------------------------------

    def _wait(self, future: Any, what: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while not future.done():
            if time.monotonic() > deadline or self._stop.is_set():
                future.cancel()
                raise MissionError(f"{what}: no answer within {timeout:g} s")
            time.sleep(_POLL)
        result = future.result()
        if result is None:
            raise MissionError(f"{what}: the call failed")
        return result

    def _call(self, client: Any, request: Any, what: str, timeout: float) -> Any:
        if not client.wait_for_service(timeout_sec=timeout):
            raise MissionError(f"{client.srv_name}: service not available")
        response = self._wait(client.call_async(request), client.srv_name, timeout)
        if not response.success:
            raise MissionError(f"{client.srv_name} ({what}) refused: {response.message}")
        return response

    def destroy_node(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    """Run the mission node until Ctrl-C or shutdown."""
    return run_node(lambda: MissionNode(), args)


if __name__ == "__main__":
    raise SystemExit(main())
