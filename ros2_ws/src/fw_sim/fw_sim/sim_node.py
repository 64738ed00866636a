"""The ``sim`` node: a :class:`~fw_sim.world.SimWorld` on the ROS graph.

It publishes what real drivers publish (``scan``, ``imu``, ``joint_states``) plus the sim
``clock``, and evaluation-only topics (``fw/sim/ground_truth``, ``fw/sim/collisions``,
``fw/sim/scenario``); it takes wheel velocity commands on ``fw/joint_commands`` and offers
``fw/sim/reset``, ``fw/sim/new_scenario`` and ``fw/sim/release_expert``. Setting the ``seed``
parameter at run time picks the scenario the next ``new_scenario`` builds, even when it is set
to the value it has (a mission runner selects exact seeds that way); without such a request
``new_scenario`` builds the next seed. The scenario's metadata on ``fw/sim/scenario`` carries
``supervisor_mode``: the mode the expert works in during it.

The privileged expert (:mod:`fw_sim.expert`, planning on the known scenario) works as
``sim.supervisor.mode`` says. ``label`` (the default): it labels every control period
(``sim.expert_rate``, sim time) with the command it would give now, from ground truth, on
``fw/expert/cmd_vel``. ``supervise``: it also acts as an HG-DAgger supervisor
(:mod:`fw_sim.supervisor`): it watches the policy's ``fw/cmd_vel_raw`` and, when the policy is
about to fail, drives through ``fw/teleop/cmd_vel``, the way a person's teleop takes over (the
safety supervisor then reports ``teleop_override``), until it hands back. ``drive``: it drives
every control period through ``fw/teleop/cmd_vel`` (demonstrations). Take-overs and driving
start once the robot has its goal for the scenario (a ``goal_pose`` stamped at or after the
scenario's start, or unstamped) and stop at the next reset or scenario, or when
``fw/sim/release_expert`` is called (the robot's episode is over: a mission runner calls it, so
nothing drives between episodes), as a person supervises a robot's task; ``off``: no expert
at all. The supervisor's settings (mode, ``policy_timeout`` and the rest) are the world's, like
every world setting: one set at run time applies from the next ``new_scenario`` on, so a
scenario is supervised one way from start to end.

Physics runs in a dedicated thread, paced by ``real_time_factor`` (0 = as fast as possible), so
the executor stays free for commands and services. All stamps are sim time. The node itself
runs on wall time: it is the clock source.

Example::

    ros2 run fw_sim sim_node --ros-args -p real_time_factor:=0.0 -p seed:=7
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from typing import Any

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Imu, JointState, LaserScan
from std_msgs.msg import String
from std_srvs.srv import Trigger

from fw_common import frames, qos, topics
from fw_common.profile.sim import SimConfig
from fw_common.ros_params import SectionParameters
from fw_common.shutdown import QuietShutdown
from fw_common.spin import run_node
from fw_sim.contacts import ContactEvent
from fw_sim.joint_state_serializer import JointStateSerializer
from fw_sim.serialized_template import SerializedTemplate
from fw_sim.supervisor import ExpertSupervisor
from fw_sim.world import Due, SimWorld

__all__ = ["CLOCK_QOS", "LABEL_QOS", "SimNode", "main"]

#: rclpy's TimeSource subscribes to /clock best effort with depth 1; best effort matches both
#: best-effort and reliable subscribers, and a stale clock sample is worthless anyway.
CLOCK_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)

#: Expert labels are training data: reliable and with a history, so that a recorder that falls
#: a few periods behind still gets every one (a command's depth of 1 would drop them).
LABEL_QOS = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)

#: A behind-schedule stepper re-anchors its pacing rather than bursting to catch up (s).
_MAX_LAG = 0.25


#: The header stamp of a stamped message, as one slot of a :class:`SerializedTemplate`.
_STAMP = ("header.stamp.sec", "header.stamp.nanosec")


def _fields(prefix: str, names: str) -> tuple[str, ...]:
    return tuple(f"{prefix}.{name}" for name in names)


def _diagonal(variance: float) -> list[float]:
    return [variance, 0.0, 0.0, 0.0, variance, 0.0, 0.0, 0.0, variance]


class SimNode(QuietShutdown, Node):
    """PyBullet simulator node (see the module docstring). ``kwargs`` go to ``Node``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("sim", **kwargs)
        self._params = SectionParameters(self, SimConfig, self._on_change)
        config = self._params.current
        self._lock = threading.Lock()
        self._world = SimWorld(config)
        self._pending_config: SimConfig | None = None
        self._rtf = config.real_time_factor
        self._reanchor = True
        self.refused_commands = 0

        self._scan_pub = self.create_publisher(LaserScan, topics.SCAN, qos.SENSOR)
        self._imu_pub = self.create_publisher(Imu, topics.IMU, qos.SENSOR)
        self._joint_pub = self.create_publisher(JointState, topics.JOINT_STATES, qos.SENSOR)
        self._clock_pub = self.create_publisher(Clock, topics.CLOCK, CLOCK_QOS)
        self._truth_pub = self.create_publisher(Odometry, topics.SIM_GROUND_TRUTH, qos.SENSOR)
        self._collision_pub = self.create_publisher(
            DiagnosticStatus, topics.SIM_COLLISIONS, qos.EVENT
        )
        self._scenario_pub = self.create_publisher(String, topics.SIM_SCENARIO, qos.LATCHED)
        self.create_subscription(JointState, topics.JOINT_COMMANDS, self._on_command, qos.COMMAND)
        self._expert_pub = self.create_publisher(TwistStamped, topics.EXPERT_CMD_VEL, LABEL_QOS)
        self._teleop_pub = self.create_publisher(TwistStamped, topics.TELEOP_CMD_VEL, qos.COMMAND)
        # The policy's latest command: (linear, angular, stamp ns); read by the stepper thread.
        self._policy_command = (0.0, 0.0, -1)
        self.create_subscription(
            TwistStamped, topics.CMD_VEL_RAW, self._on_policy_command, qos.COMMAND
        )
        # The robot's task: the expert supervises or drives once the robot has a goal for the
        # current scenario (see the module docstring). Read by the stepper thread.
        self._engaged = False
        self._scenario_start_ns = self._world.sim_time_ns
        self.create_subscription(PoseStamped, topics.GOAL_POSE, self._on_goal, qos.LATCHED)
        # A seed set at run time, not yet built: the next new_scenario builds it. Set by every
        # set of the parameter (the same value again is a request too).
        self._seed_request: int | None = None
        self.add_post_set_parameters_callback(self._on_seed_set)
        self._make_supervisor()
        self.create_service(Trigger, topics.SIM_RESET, self._on_reset)
        self.create_service(Trigger, topics.SIM_RELEASE_EXPERT, self._on_release_expert)
        self.create_service(Trigger, topics.SIM_NEW_SCENARIO, self._on_new_scenario)
        self._prepare_messages(config)
        self._publish_scenario()

        # Log before stepping starts: rclpy's logger looks up its caller through ``inspect``
        # (a realpath per loaded module), which under the stepper's GIL contention took seconds
        # of the stepper's own time.
        self.get_logger().info(
            f"simulating scenario seed {self._world.scenario.seed} at real-time factor "
            f"{self._rtf:g} ({'as fast as possible' if self._rtf == 0 else 'paced'})"
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fw_sim_stepper", daemon=True)
        # On SIGINT the context shuts down before destroy_node runs: stop stepping first.
        self.context.on_shutdown(self._stop.set)
        self._thread.start()

    # --- parameters -------------------------------------------------------------------------

    def _on_change(self, config: SimConfig) -> None:
        if config.real_time_factor != self._rtf:
            self._rtf = config.real_time_factor
            self._reanchor = True
        current = self._world.config
        # The seed picks the next scenario (new_scenario), not a new world.
        ignored = {"real_time_factor": 0, "seed": 0}
        if {**config.__dict__, **ignored} != {**current.__dict__, **ignored}:
            self._pending_config = config
            self.get_logger().info("world settings changed: applied at the next new_scenario")

    def _on_seed_set(self, params: list[Any]) -> None:
        for param in params:
            if param.name == "seed":
                with self._lock:
                    self._seed_request = int(param.value)

    # --- messages ---------------------------------------------------------------------------

    def _prepare_messages(self, config: SimConfig) -> None:
        """Serialize each sensor message once; publishing then rewrites only what changes.

        At 20× real time the node publishes ~6000 messages a second from the physics thread,
        and rclpy's per-field conversion of a message cost more than a third of that thread's
        time (see :mod:`fw_sim.serialized_template`).
        """
        world = self._world
        lidar = world.lidar
        scan = LaserScan()
        scan.header.frame_id = frames.LASER
        scan.angle_min = lidar.angle_min
        scan.angle_max = lidar.angle_max
        scan.angle_increment = lidar.angle_increment
        scan.time_increment = 0.0  # all beams are cast at the same instant
        scan.scan_time = 1.0 / config.lidar.rate
        scan.range_min = lidar.range_min
        scan.range_max = lidar.range_max
        scan.ranges = [0.0] * lidar.beams
        self._scan = SerializedTemplate(scan, {"stamp": _STAMP, "ranges": ("ranges",)})

        imu = Imu()
        imu.header.frame_id = frames.IMU_LINK
        scale = world.randomisation.imu_noise_scale
        gyro_var = (config.imu.gyro_noise_std * scale) ** 2
        accel_var = (config.imu.accel_noise_std * scale) ** 2
        imu.orientation_covariance = _diagonal(1e-6)
        imu.angular_velocity_covariance = _diagonal(gyro_var)
        imu.linear_acceleration_covariance = _diagonal(accel_var)
        self._imu = SerializedTemplate(
            imu,
            {
                "stamp": _STAMP,
                "orientation": _fields("orientation", "xyzw"),
                "angular_velocity": _fields("angular_velocity", "xyz"),
                "linear_acceleration": _fields("linear_acceleration", "xyz"),
            },
        )

        # Not a template of rclpy's bytes: those carry Fast CDR's uninitialised padding (see
        # fw_sim.joint_state_serializer).
        self._joints = JointStateSerializer(world.wheel_joints)

        truth = Odometry()
        truth.header.frame_id = frames.WORLD
        truth.child_frame_id = frames.BASE_LINK
        self._truth = SerializedTemplate(
            truth,
            {
                "stamp": _STAMP,
                "pose": _fields("pose.pose.position", "xyz")
                + _fields("pose.pose.orientation", "xyzw"),
                "twist": _fields("twist.twist.linear", "xyz")
                + _fields("twist.twist.angular", "xyz"),
            },
        )
        self._clock_msg = SerializedTemplate(Clock(), {"stamp": ("clock.sec", "clock.nanosec")})

    def _make_supervisor(self) -> None:
        """The expert and its gating for the current scenario (the planner runs here)."""
        world = self._world
        config = world.config
        self._supervisor = ExpertSupervisor(
            world.scenario, config.supervisor, footprint=config.robot.footprint
        )
        self._expert_period_ns = round(1e9 / config.expert_rate)
        # On the period's grid of sim time, so labels of every run share their stamps.
        period = self._expert_period_ns
        self._next_expert_ns = (world.sim_time_ns // period + 1) * period

    def _publish_scenario(self) -> None:
        metadata = {**self._world.metadata(), "supervisor_mode": self._supervisor.config.mode}
        self._scenario_pub.publish(String(data=json.dumps(metadata)))

    def _publish_collision(self, event: ContactEvent) -> None:
        obstacle = self._world.scenario.obstacles[event.obstacle_index]
        x, y, z = event.position
        status = DiagnosticStatus(
            level=DiagnosticStatus.WARN,
            name=f"{self.get_fully_qualified_name()}/collision",
            message=f"robot touched obstacle {event.obstacle_index} ({obstacle.kind})",
            hardware_id="fw_sim",
            values=[
                KeyValue(key="stamp_ns", value=str(event.stamp_ns)),
                KeyValue(key="obstacle_index", value=str(event.obstacle_index)),
                KeyValue(key="obstacle_kind", value=obstacle.kind),
                KeyValue(key="robot_link", value=str(event.robot_link)),
                KeyValue(key="x", value=f"{x:.4f}"),
                KeyValue(key="y", value=f"{y:.4f}"),
                KeyValue(key="z", value=f"{z:.4f}"),
                KeyValue(key="scenario_seed", value=str(self._world.scenario.seed)),
            ],
        )
        self._collision_pub.publish(status)

    # --- stepping ---------------------------------------------------------------------------

    def _run(self) -> None:
        due = Due()
        wall0, sim0 = 0.0, 0
        try:
            while not self._stop.is_set():
                with self._lock:
                    world = self._world
                    world.step(due)
                    now = world.sim_time_ns
                    self._publish_due(world, due, now)
                rtf = self._rtf
                if rtf <= 0.0:
                    continue
                if self._reanchor:
                    wall0, sim0, self._reanchor = time.monotonic(), now, False
                    continue
                delay = wall0 + (now - sim0) * 1e-9 / rtf - time.monotonic()
                if delay > 0.0:
                    self._stop.wait(delay)
                elif delay < -_MAX_LAG:
                    self._reanchor = True
        except Exception as exc:
            if self._stop.is_set() or not self.context.ok():
                return  # shutting down: publishers die with the context
            self.get_logger().fatal(f"simulation thread stopped: {exc!r}")  # loud, not silent
            raise

    def _publish_due(self, world: SimWorld, due: Due, now: int) -> None:
        sec, nanosec = divmod(now, 1_000_000_000)
        if due.clock:
            self._clock_msg.write["stamp"](sec, nanosec)
            self._clock_pub.publish(self._clock_msg.data())
        if due.scan:
            write = self._scan.write
            write["stamp"](sec, nanosec)
            write["ranges"](world.scan())
            self._scan_pub.publish(self._scan.data())
        if due.imu:
            imu = world.imu()
            write = self._imu.write
            write["stamp"](sec, nanosec)
            write["orientation"](*imu.orientation)
            write["angular_velocity"](*imu.angular_velocity)
            write["linear_acceleration"](*imu.linear_acceleration)
            self._imu_pub.publish(self._imu.data())
        if due.joint_states:
            joints = world.joint_states()
            self._joint_pub.publish(
                self._joints.serialize(sec, nanosec, joints.positions, joints.velocities)
            )
        if due.ground_truth:
            truth = world.ground_truth()
            write = self._truth.write
            write["stamp"](sec, nanosec)
            write["pose"](*truth.position, *truth.orientation)
            write["twist"](*truth.linear_velocity, *truth.angular_velocity)
            self._truth_pub.publish(self._truth.data())
        if now >= self._next_expert_ns:
            self._next_expert_ns = max(self._next_expert_ns + self._expert_period_ns, now)
            self._publish_expert(world, now)
        if world.has_collisions:
            for event in world.pop_collisions():
                self._publish_collision(event)

    def _publish_expert(self, world: SimWorld, now: int) -> None:
        """The expert's label and, as ``sim.supervisor.mode`` says, its take-over."""
        supervisor = self._supervisor
        config = supervisor.config  # the scenario's (see the module docstring)
        mode = config.mode
        if mode == "off":
            return
        pose = world.ground_truth().pose2d
        if mode == "supervise" and self._engaged:
            linear, angular, stamp_ns = self._policy_command
            if now - stamp_ns > config.policy_timeout * 1e9:
                linear = angular = 0.0  # stale or none: the policy commands nothing
            decision = supervisor.decide(
                pose, linear, angular, supervisor.body_clearance(pose), now
            )
            label = decision.label_linear, decision.label_angular
            take_over = decision.take_over
        else:
            command = supervisor.expert.command(pose)
            label = command.linear, command.angular
            take_over = mode == "drive" and self._engaged
        msg = TwistStamped()
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now, 1_000_000_000)
        msg.header.frame_id = frames.BASE_LINK
        msg.twist.linear.x, msg.twist.angular.z = label
        self._expert_pub.publish(msg)
        if take_over:
            self._teleop_pub.publish(msg)

    # --- commands and services --------------------------------------------------------------

    def _on_command(self, msg: JointState) -> None:
        # No world lock: submitting only validates and queues (thread-safe, see
        # WheelCommandGate), and waiting for the lock here had the stepper and this thread
        # hand it and the GIL back and forth at every command.
        result = self._world.apply_wheel_velocities(msg.name, msg.velocity)
        if not result.accepted:
            self.refused_commands += 1
            self.get_logger().warning(
                f"refused joint command ({self.refused_commands} so far): {result.reason}",
                throttle_duration_sec=1.0,
            )

    def _on_policy_command(self, msg: TwistStamped) -> None:
        stamp = msg.header.stamp
        self._policy_command = (
            msg.twist.linear.x,
            msg.twist.angular.z,
            stamp.sec * 1_000_000_000 + stamp.nanosec,
        )

    def _on_goal(self, msg: PoseStamped) -> None:
        stamp_ns = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        # A goal stamped before the scenario began was the previous scenario's.
        if stamp_ns == 0 or stamp_ns >= self._scenario_start_ns:
            self._engaged = True

    def _disengage(self) -> None:
        """A new episode: the expert waits for the robot's next goal (call with the lock)."""
        self._engaged = False
        self._scenario_start_ns = self._world.sim_time_ns

    def _on_reset(self, _request: Trigger.Request, response: Trigger.Response) -> Any:
        with self._lock:
            self._world.reset()
            self._supervisor.reset()
            self._disengage()
            seed = self._world.scenario.seed
        response.success = True
        response.message = f"robot back at the start of scenario seed {seed}"
        return response

    def _on_release_expert(self, _request: Trigger.Request, response: Trigger.Response) -> Any:
        with self._lock:
            self._supervisor.reset()
            self._disengage()  # a goal stamped before now no longer engages it
        response.success = True
        response.message = "the expert waits for the robot's next goal"
        return response

    def _on_new_scenario(self, _request: Trigger.Request, response: Trigger.Response) -> Any:
        try:
            with self._lock:
                world = self._world
                seed = world.scenario.seed + 1
                if self._seed_request is not None:
                    seed, self._seed_request = self._seed_request, None
                if self._pending_config is not None:
                    config, self._pending_config = self._pending_config, None
                    # The noise stays seeded as at the start (see SimConfig.seed).
                    config = dataclasses.replace(config, seed=world.config.seed)
                    now = world.sim_time_ns
                    world.close()
                    self._world = world = SimWorld(config, start_time_ns=now)
                world.new_scenario(seed)
                self._disengage()
                self._make_supervisor()
                self._prepare_messages(world.config)
                self._publish_scenario()
        except Exception as exc:  # a bad generator configuration must not kill the node
            response.success = False
            response.message = f"new scenario failed: {exc}"
            self.get_logger().error(response.message)
            return response
        response.success = True
        response.message = f"scenario seed {seed}"
        return response

    def destroy_node(self) -> None:
        """Stop the physics thread, then release PyBullet and the ROS entities."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
        with self._lock:
            self._world.close()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    """Run the simulator until Ctrl-C or shutdown."""
    return run_node(lambda: SimNode(), args)


if __name__ == "__main__":
    raise SystemExit(main())
