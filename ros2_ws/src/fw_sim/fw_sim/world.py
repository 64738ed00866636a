"""The simulated world: one Husky, a plane and a seeded scenario in one PyBullet client.

Every PyBullet call names this world's ``physicsClientId`` so several worlds run side by side in
one process (a simulated fleet). Time is counted in physics steps; ``sim_time_ns`` never goes
back, not even on reset, so a ROS clock driven by it stays monotonic.

Sensors are scheduled in sim time: :meth:`SimWorld.step` says which are due and the caller
reads only those, so the per-step Python work stays small.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pybullet as p
import pybullet_data

from fw_common.profile.sim import SimConfig
from fw_sim import vec3
from fw_sim.actuation import CommandResult, WheelCommandGate
from fw_sim.contacts import ContactEvent, ContactMonitor
from fw_sim.errors import SimError
from fw_sim.imu import ImuModel, ImuReading
from fw_sim.lidar import ALL_COLLISION_GROUPS, ROBOT_COLLISION_GROUP, Lidar
from fw_sim.native_output import stdout_silenced
from fw_sim.randomisation import RandomisationDraw, draw_randomisation
from fw_sim.scenario import Pose2D, Scenario, generate_scenario

__all__ = ["Due", "GroundTruth", "JointReading", "SimWorld"]

#: Link carrying the lidar and defining the ROS ``base_link`` (the Husky's chassis link).
BASE_LINK_NAME = "base_link"
#: Link of the IMU.
IMU_LINK_NAME = "imu_link"
#: Mixed into the seed of the sensor-noise generator.
_NOISE_STREAM = 0x0153


@dataclass(slots=True)
class Due:
    """Which outputs are due after a step (sim-time schedule)."""

    scan: bool = False
    imu: bool = False
    joint_states: bool = False
    clock: bool = False
    ground_truth: bool = False


@dataclass(frozen=True, slots=True)
class JointReading:
    """Wheel encoders: positions (rad) and velocities (rad/s), in ``names`` order."""

    names: tuple[str, ...]
    positions: tuple[float, ...]
    velocities: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """Pose of ``base_link`` in ``world`` (m, quaternion x y z w) and its twist in
    ``base_link`` (m/s, rad/s)."""

    position: tuple[float, float, float]
    orientation: tuple[float, float, float, float]
    linear_velocity: tuple[float, float, float]
    angular_velocity: tuple[float, float, float]

    @property
    def pose2d(self) -> Pose2D:
        """Planar pose (x, y, yaw)."""
        x, y, z, w = self.orientation
        yaw = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
        return Pose2D(self.position[0], self.position[1], yaw)


class _Schedule:
    """Fires every ``period_ns`` of sim time (first at time 0)."""

    __slots__ = ("next_ns", "period_ns")

    def __init__(self, rate_hz: float) -> None:
        self.period_ns = round(1e9 / rate_hz)
        self.next_ns = 0

    def due(self, now_ns: int) -> bool:
        if now_ns < self.next_ns:
            return False
        self.next_ns += self.period_ns
        if self.next_ns <= now_ns:  # fell behind (rate change): do not burst
            self.next_ns = now_ns + self.period_ns
        return True


class SimWorld:
    """A Husky in a seeded scenario, with sensors, motor drivers and contact events.

    ``gui`` overrides ``config.gui``. ``start_time_ns`` is the initial sim time (ns), so a world
    rebuilt with a new configuration continues its predecessor's clock. Use as a context manager
    or call :meth:`close`.
    """

    def __init__(
        self, config: SimConfig | None = None, *, gui: bool | None = None, start_time_ns: int = 0
    ) -> None:
        self.config = config = config or SimConfig()
        use_gui = config.gui if gui is None else gui
        self.client = p.connect(p.GUI if use_gui else p.DIRECT)
        if self.client < 0:
            raise SimError("could not connect to PyBullet (only one GUI per process)")
        cid = self.client
        if use_gui:
            p.configureDebugVisualizer(p.COV_ENABLE_GUI, 0, physicsClientId=cid)
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=cid)
        p.setGravity(0.0, 0.0, -9.80665, physicsClientId=cid)
        p.setTimeStep(1.0 / config.physics_rate, physicsClientId=cid)
        self.physics_rate = config.physics_rate
        with stdout_silenced():
            self._plane = p.loadURDF("plane.urdf", physicsClientId=cid)
            self.robot = p.loadURDF(config.base.urdf, [0.0, 0.0, 0.0], physicsClientId=cid)
        links: dict[str, int] = {}
        joints: dict[str, int] = {}
        for j in range(p.getNumJoints(self.robot, physicsClientId=cid)):
            info = p.getJointInfo(self.robot, j, physicsClientId=cid)
            joints[info[1].decode()] = j
            links[info[12].decode()] = j
        missing = [n for n in config.robot.wheels.joints if n not in joints]
        if missing or BASE_LINK_NAME not in links:
            raise SimError(f"{config.base.urdf}: missing joints {missing} or {BASE_LINK_NAME}")
        # The robot's wheel joints (robot.wheels), reported in the URDF's order as a driver
        # reporting its joints would.
        self.wheel_joints = tuple(sorted(config.robot.wheels.joints, key=joints.__getitem__))
        self._wheel_ids = [joints[n] for n in self.wheel_joints]
        self._base_link = links[BASE_LINK_NAME]
        self._imu_link = links.get(IMU_LINK_NAME, self._base_link)
        self._nominal_mass = p.getDynamicsInfo(self.robot, self._base_link, physicsClientId=cid)[0]
        for link in range(-1, p.getNumJoints(self.robot, physicsClientId=cid)):
            p.setCollisionFilterGroupMask(
                self.robot,
                link,
                ROBOT_COLLISION_GROUP,
                ALL_COLLISION_GROUPS,
                physicsClientId=cid,
            )
        lc = config.lidar
        self.lidar = Lidar(
            cid,
            self.robot,
            self._base_link,
            beams=lc.beams,
            angle_min=lc.angle_min,
            field_of_view=lc.field_of_view,
            range_min=lc.range_min,
            range_max=lc.range_max,
            mount_xyz=(config.robot.laser.x, config.robot.laser.y, config.robot.laser.z),
            mount_yaw=config.robot.laser.yaw,
        )
        self.imu_model = ImuModel(
            cid,
            self.robot,
            self._imu_link,
            gyro_bias=config.imu.gyro_bias,
            accel_bias=config.imu.accel_bias,
        )
        self._contacts = ContactMonitor(cid, self.robot, self._base_link)
        self._gate = WheelCommandGate(
            self.wheel_joints,
            max_speed=config.base.max_wheel_speed,
            latency_ns=0,
            timeout_ns=round(config.base.command_timeout * 1e9),
        )
        self._applied: list[float] | None = None
        self._torques = [config.base.max_motor_torque] * len(self._wheel_ids)
        self._steps = 0
        self._start_ns = start_time_ns
        self.sim_time_ns = start_time_ns
        self._obstacle_ids: list[int] = []
        self._collisions: list[ContactEvent] = []
        self._make_schedules()
        self.scenario: Scenario
        self.randomisation: RandomisationDraw
        self._rng: np.random.Generator
        self.new_scenario(config.seed)

    # --- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Disconnect from PyBullet (idempotent)."""
        if self.client >= 0:
            p.disconnect(physicsClientId=self.client)
            self.client = -1

    def __enter__(self) -> SimWorld:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _make_schedules(self) -> None:
        c = self.config
        self._scan_schedule = _Schedule(c.lidar.rate)
        self._imu_schedule = _Schedule(c.imu.rate)
        self._joint_schedule = _Schedule(c.joint_states_rate)
        self._clock_schedule = _Schedule(c.clock_rate)
        self._truth_schedule = _Schedule(c.ground_truth_rate)
        self._schedules = (
            self._scan_schedule,
            self._imu_schedule,
            self._joint_schedule,
            self._clock_schedule,
            self._truth_schedule,
        )
        for s in self._schedules:
            s.next_ns = self.sim_time_ns
        self._next_due_ns = self.sim_time_ns

    # --- scenarios ------------------------------------------------------------------------

    def new_scenario(self, seed: int | None = None) -> Scenario:
        """Build the scenario with ``seed`` (default: the current seed + 1) and reset into it."""
        if seed is None:
            seed = self.scenario.seed + 1
        return self.load_scenario(generate_scenario(self.config.scenario, seed))

    def load_scenario(self, scenario: Scenario) -> Scenario:
        """Build a given scenario (e.g. replayed from episode metadata) and reset into it."""
        self.scenario = scenario
        self.randomisation = draw_randomisation(self.config, scenario.seed)
        cid = self.client
        for body in self._obstacle_ids:
            p.removeBody(body, physicsClientId=cid)
        self._obstacle_ids = []
        for obstacle in self.scenario.obstacles:
            half_h = 0.5 * obstacle.height
            if obstacle.kind == "box":
                half = [0.5 * obstacle.size_x, 0.5 * obstacle.size_y, half_h]
                shape = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=cid)
                visual = p.createVisualShape(
                    p.GEOM_BOX,
                    halfExtents=half,
                    rgbaColor=[0.8, 0.4, 0.2, 1],
                    physicsClientId=cid,
                )
            else:
                shape = p.createCollisionShape(
                    p.GEOM_CYLINDER,
                    radius=obstacle.radius,
                    height=obstacle.height,
                    physicsClientId=cid,
                )
                visual = p.createVisualShape(
                    p.GEOM_CYLINDER,
                    radius=obstacle.radius,
                    length=obstacle.height,
                    rgbaColor=[0.2, 0.5, 0.8, 1],
                    physicsClientId=cid,
                )
            body = p.createMultiBody(
                0.0,
                shape,
                visual,
                [obstacle.x, obstacle.y, half_h],
                p.getQuaternionFromEuler([0.0, 0.0, obstacle.yaw]),
                physicsClientId=cid,
            )
            self._obstacle_ids.append(body)
        self._contacts.watch({b: i for i, b in enumerate(self._obstacle_ids)})
        r = self.randomisation
        for j in self._wheel_ids:
            p.changeDynamics(self.robot, j, lateralFriction=r.wheel_friction, physicsClientId=cid)
        p.changeDynamics(
            self.robot,
            self._base_link,
            mass=self._nominal_mass * r.mass_scale,
            physicsClientId=cid,
        )
        self._gate.latency_ns = round(r.actuation_latency * 1e9)
        self.reset()
        return self.scenario

    def reset(self) -> None:
        """Put the robot back at the scenario start, stopped; noise restarts from the seed."""
        cid = self.client
        start = self.scenario.start
        p.resetBasePositionAndOrientation(
            self.robot,
            [start.x, start.y, 0.0],
            p.getQuaternionFromEuler([0.0, 0.0, start.yaw]),
            physicsClientId=cid,
        )
        p.resetBaseVelocity(self.robot, [0, 0, 0], [0, 0, 0], physicsClientId=cid)
        for j in self._wheel_ids:
            p.resetJointState(self.robot, j, 0.0, 0.0, physicsClientId=cid)
        self._gate.reset()
        self._apply_targets(self._gate.targets(self.sim_time_ns))
        self.imu_model.reset()
        self._contacts.watch({b: i for i, b in enumerate(self._obstacle_ids)})
        self._collisions.clear()
        self._rng = np.random.default_rng([self.config.seed, self.scenario.seed, _NOISE_STREAM])

    def metadata(self) -> dict[str, Any]:
        """Scenario and randomisation draw, for the latched topic and episode metadata."""
        data = self.scenario.to_dict()
        data["randomisation"] = self.randomisation.to_dict()
        data["physics_rate"] = self.physics_rate
        return data

    # --- stepping and actuation -----------------------------------------------------------

    def apply_wheel_velocities(
        self, names: Sequence[str], velocities: Sequence[float]
    ) -> CommandResult:
        """Command wheel velocities (rad/s) now; refused commands never move the robot.

        Safe to call from another thread while :meth:`step` runs (see ``WheelCommandGate``).
        """
        return self._gate.submit(names, velocities, self.sim_time_ns)

    def _apply_targets(self, targets: list[float]) -> None:
        p.setJointMotorControlArray(
            self.robot,
            self._wheel_ids,
            p.VELOCITY_CONTROL,
            targetVelocities=targets,
            forces=self._torques,
            physicsClientId=self.client,
        )
        self._applied = targets

    def step(self, due: Due | None = None) -> Due:
        """Advance one physics step; returns (or fills ``due``) with the outputs now due."""
        targets = self._gate.targets(self.sim_time_ns)
        if targets is not self._applied:
            self._apply_targets(targets)
        p.stepSimulation(physicsClientId=self.client)
        self._steps += 1
        now = self.sim_time_ns = self._start_ns + round(self._steps * 1e9 / self.physics_rate)
        if self._obstacle_ids:
            events = self._contacts.check(now)
            if events:
                self._collisions.extend(events)
        if due is None:
            due = Due()
        if now < self._next_due_ns:  # the common case: nothing due this step
            if due.scan or due.imu or due.joint_states or due.clock or due.ground_truth:
                due.scan = due.imu = due.joint_states = due.clock = due.ground_truth = False
            return due
        due.scan = self._scan_schedule.due(now)
        due.imu = self._imu_schedule.due(now)
        due.joint_states = self._joint_schedule.due(now)
        due.clock = self._clock_schedule.due(now)
        due.ground_truth = self._truth_schedule.due(now)
        self._next_due_ns = min(s.next_ns for s in self._schedules)
        return due

    def run(self, seconds: float) -> None:
        """Step for ``seconds`` of sim time without reading sensors."""
        due = Due()
        for _ in range(round(seconds * self.physics_rate)):
            self.step(due)

    @property
    def wheel_targets(self) -> tuple[float, ...]:
        """Velocities (rad/s) the motors currently hold, after latency and watchdog."""
        return tuple(self._applied or ())

    # --- sensors --------------------------------------------------------------------------

    def scan(self) -> npt.NDArray[np.float32]:
        """One lidar scan (m) in LaserScan conventions (see :mod:`fw_sim.lidar`)."""
        r = self.randomisation
        return self.lidar.scan(self._rng, r.lidar_noise_std, r.lidar_dropout)

    def imu(self) -> ImuReading:
        """One IMU sample at the current sim time."""
        scale = self.randomisation.imu_noise_scale
        c = self.config.imu
        return self.imu_model.read(
            self.sim_time_ns, self._rng, c.gyro_noise_std * scale, c.accel_noise_std * scale
        )

    def joint_states(self) -> JointReading:
        """Wheel encoder positions (rad) and velocities (rad/s)."""
        states = p.getJointStates(self.robot, self._wheel_ids, physicsClientId=self.client)
        return JointReading(
            self.wheel_joints,
            tuple(s[0] for s in states),
            tuple(s[1] for s in states),
        )

    def ground_truth(self) -> GroundTruth:
        """Exact pose and body twist of ``base_link`` (evaluation only)."""
        s = p.getLinkState(
            self.robot, self._base_link, computeLinkVelocity=1, physicsClientId=self.client
        )
        com, frame_pos, frame_orn, v_com, omega = s[0], s[4], s[5], s[6], s[7]
        # PyBullet reports the velocity of the centre of mass; move it to the link origin.
        v = vec3.cross(omega, vec3.sub(frame_pos, com))
        v = (v_com[0] + v[0], v_com[1] + v[1], v_com[2] + v[2])
        rot = p.getMatrixFromQuaternion(frame_orn)
        return GroundTruth(
            (frame_pos[0], frame_pos[1], frame_pos[2]),
            (frame_orn[0], frame_orn[1], frame_orn[2], frame_orn[3]),
            vec3.rotate_transposed(rot, v),
            vec3.rotate_transposed(rot, omega),
        )

    @property
    def has_collisions(self) -> bool:
        """Whether contact-begin events wait in :meth:`pop_collisions`."""
        return bool(self._collisions)

    def pop_collisions(self) -> list[ContactEvent]:
        """Contact-begin events since the last call."""
        events, self._collisions = self._collisions, []
        return events

    @property
    def touching(self) -> frozenset[int]:
        """Scenario indices of obstacles the robot touches now."""
        return self._contacts.touching
