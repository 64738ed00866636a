"""The ``sim`` section: the PyBullet robot and world (fw_sim).

Defaults are the Clearpath Husky of pybullet_data's ``husky/husky.urdf`` with the sensors of a
typical field robot (a 360-beam 2D lidar at 10 Hz and a 100 Hz IMU). Where the lidar sits and
which joints are the wheels come from the robot section (``robot``), as on a real robot. Rates
are in simulated time: a 10 Hz scan is published every 0.1 s of sim time whatever the real-time
factor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fw_common.profile.body import RobotBody
from fw_common.profile.schema import setting

__all__ = [
    "SCENARIO_FAMILIES",
    "SUPERVISOR_MODES",
    "ImuConfig",
    "LidarConfig",
    "RandomisationConfig",
    "ScenarioConfig",
    "SimBaseConfig",
    "SimConfig",
    "SupervisorConfig",
]

#: Scenario families (see fw_sim.scenario): ``open`` scatters obstacles in an open arena;
#: the others enclose the arena with walls and build what a reactive controller gets wrong;
#: ``mixed`` draws one of them from the seed.
SCENARIO_FAMILIES = ("open", "walls", "corridor", "cul_de_sac", "narrow_gap", "clutter", "mixed")

#: What the simulated expert does (see :class:`SupervisorConfig`).
SUPERVISOR_MODES = ("off", "label", "supervise", "drive")


def _check_range(name: str, bounds: list[float]) -> None:
    low, high = bounds
    if low > high:
        raise ValueError(f"{name}: lower bound {low!r} is above upper bound {high!r}")


@dataclass(frozen=True)
class SimBaseConfig:
    """The simulated robot base and its motor drivers (the wheels are ``robot.wheels``)."""

    # URDF of the robot, relative to pybullet_data (or an absolute path).
    urdf: str = setting(
        "husky/husky.urdf", "Robot URDF (pybullet_data-relative or absolute).", read_only=True
    )
    # Torque limit of each wheel motor (N·m); PyBullet calls it the VELOCITY_CONTROL "force".
    # Skid-steer turning in place needs enough torque to scrub the wheels sideways.
    max_motor_torque: float = setting(
        60.0, "Maximum torque of each wheel motor (N·m).", minimum=1.0, maximum=10000.0
    )
    # Commands above this wheel speed are clamped, as a motor driver saturates (rad/s).
    max_wheel_speed: float = setting(
        20.0, "Wheel speed limit of the motor drivers (rad/s).", minimum=0.1, maximum=500.0
    )
    # The motor driver's own watchdog: no command for this long (sim time) → wheels to zero (s).
    command_timeout: float = setting(
        1.0,
        "Motor driver watchdog: zero the wheels without a command for this long (s).",
        minimum=0.01,
        maximum=60.0,
    )
    # Delay between a command arriving and the motors acting on it (s, sim time).
    actuation_latency: float = setting(0.0, "Actuation latency (s).", minimum=0.0, maximum=1.0)
    # Lateral friction coefficient of the wheels (dimensionless; combined with the ground's 1.0).
    wheel_friction: float = setting(
        1.0, "Wheel lateral friction coefficient.", minimum=0.01, maximum=5.0
    )


@dataclass(frozen=True)
class LidarConfig:
    """A planar lidar simulated by PyBullet ray casting, mounted at ``robot.laser``."""

    # Number of beams per scan, spread evenly over the field of view.
    beams: int = setting(360, "Beams per scan.", minimum=1, maximum=4096)
    # Field of view (rad); 2π is a full turn starting at angle_min.
    field_of_view: float = setting(
        2.0 * math.pi, "Field of view (rad).", minimum=0.01, maximum=2.0 * math.pi
    )
    # Angle of the first beam in the laser frame (rad, 0 = forward, counter-clockwise).
    angle_min: float = setting(
        -math.pi, "Angle of the first beam (rad).", minimum=-2.0 * math.pi, maximum=2.0 * math.pi
    )
    # Closest range the sensor reports (m); nearer returns are reported as -inf (REP-117).
    range_min: float = setting(0.1, "Minimum range (m).", minimum=0.0, maximum=100.0)
    # Farthest range (m); beams with no return within it are +inf (REP-117).
    range_max: float = setting(12.0, "Maximum range (m).", minimum=0.1, maximum=200.0)
    # Scan rate in sim time (Hz).
    rate: float = setting(10.0, "Scan rate (Hz).", minimum=0.1, maximum=100.0)
    # Standard deviation of the additive Gaussian range noise (m).
    noise_std: float = setting(0.01, "Range noise std (m).", minimum=0.0, maximum=1.0)
    # Probability that a beam returns nothing in a scan; a dropped beam is NaN (REP-117:
    # "erroneous/invalid measurement"), unlike a beam that saw nothing in range (+inf).
    dropout_probability: float = setting(
        0.0, "Per-beam dropout probability (dropped beams are NaN).", minimum=0.0, maximum=1.0
    )


@dataclass(frozen=True)
class ImuConfig:
    """A 6-axis IMU with orientation, at the URDF's imu_link, axes aligned with base_link."""

    # Sample rate in sim time (Hz).
    rate: float = setting(100.0, "IMU rate (Hz).", minimum=1.0, maximum=1000.0)
    # White noise std of each angular rate axis (rad/s).
    gyro_noise_std: float = setting(0.002, "Gyro noise std (rad/s).", minimum=0.0, maximum=1.0)
    # White noise std of each linear acceleration axis (m/s²).
    accel_noise_std: float = setting(
        0.02, "Accelerometer noise std (m/s^2).", minimum=0.0, maximum=10.0
    )
    # Constant gyro bias, x y z (rad/s).
    gyro_bias: list[float] = setting(
        [0.0, 0.0, 0.0], "Gyro bias x y z (rad/s).", min_length=3, max_length=3
    )
    # Constant accelerometer bias, x y z (m/s²).
    accel_bias: list[float] = setting(
        [0.0, 0.0, 0.0], "Accelerometer bias x y z (m/s^2).", min_length=3, max_length=3
    )


@dataclass(frozen=True)
class ScenarioConfig:
    """The seeded scenario generator: arena, obstacles, start and goal."""

    # Which kind of world to build (fw_sim.scenario): 'open' (scattered boxes and cylinders,
    # no walls), 'walls' (long walls across the way), 'corridor' (a bent corridor), 'cul_de_sac'
    # (the start inside a dead end that opens away from the goal), 'narrow_gap' (a wall across
    # the arena with one gap a little wider than the robot), 'clutter' (dense small obstacles)
    # or 'mixed' (one of those drawn from the seed). Every family but 'open' encloses the arena.
    family: str = setting(
        "open",
        "Scenario family: open, walls, corridor, cul_de_sac, narrow_gap, clutter or mixed.",
        choices=SCENARIO_FAMILIES,
    )

    # Side of the square arena centred on the origin in which everything is placed (m).
    arena_size: float = setting(10.0, "Arena side (m).", minimum=4.0, maximum=200.0)
    # Number of box obstacles.
    box_count: int = setting(5, "Box obstacles.", minimum=0, maximum=200)
    # Number of cylinder obstacles.
    cylinder_count: int = setting(3, "Cylinder obstacles.", minimum=0, maximum=200)
    # Range of box side lengths (m).
    box_size_range: list[float] = setting(
        [0.4, 1.2], "Box side length range (m).", min_length=2, max_length=2
    )
    # Range of cylinder radii (m).
    cylinder_radius_range: list[float] = setting(
        [0.15, 0.5], "Cylinder radius range (m).", min_length=2, max_length=2
    )
    # Obstacle height (m); taller than the laser so the scan sees every obstacle.
    obstacle_height: float = setting(1.0, "Obstacle height (m).", minimum=0.05, maximum=10.0)
    # Minimum free gap between any two obstacles (m). Larger than the robot's turning diameter
    # (~1.22 m for the Husky) so the free space stays connected and the goal reachable.
    obstacle_gap: float = setting(
        1.6, "Minimum gap between obstacles (m).", minimum=0.0, maximum=20.0
    )
    # Minimum distance from the start and goal positions to any obstacle surface (m).
    clearance: float = setting(
        1.2, "Start/goal clearance from obstacles (m).", minimum=0.0, maximum=20.0
    )
    # Minimum straight-line distance between start and goal (m).
    min_start_goal_distance: float = setting(
        5.0, "Minimum start-goal distance (m).", minimum=0.0, maximum=200.0
    )
    # Rejection-sampling budget per object before the generator gives up with an error.
    max_attempts: int = setting(2000, "Placement attempts per object.", minimum=1, maximum=1000000)
    # Thickness of the walls of the walled families (m).
    wall_thickness: float = setting(0.2, "Wall thickness (m).", minimum=0.05, maximum=2.0)
    # Width of the way through a 'narrow_gap' wall (m); the Husky is 0.67 m wide and its safety
    # zones add a few cm on each side.
    gap_width_range: list[float] = setting(
        [1.2, 1.5], "narrow_gap: width range of the gap (m).", min_length=2, max_length=2
    )
    # Free width between the walls of a 'corridor' or a 'cul_de_sac' (m).
    corridor_width_range: list[float] = setting(
        [1.8, 2.4],
        "corridor / cul_de_sac: free width range between the walls (m).",
        min_length=2,
        max_length=2,
    )
    # Number of obstacles of a 'clutter' scenario.
    clutter_count: int = setting(18, "clutter: obstacles.", minimum=0, maximum=400)
    # Minimum free gap between two 'clutter' obstacles (m): below the Husky's turning diameter,
    # so the way needs planning, above its width.
    clutter_gap: float = setting(
        1.0, "clutter: minimum gap between obstacles (m).", minimum=0.0, maximum=20.0
    )

    def __post_init__(self) -> None:
        _check_range("box_size_range", self.box_size_range)
        _check_range("cylinder_radius_range", self.cylinder_radius_range)
        _check_range("gap_width_range", self.gap_width_range)
        _check_range("corridor_width_range", self.corridor_width_range)
        if min(self.gap_width_range) <= 0 or min(self.corridor_width_range) <= 0:
            raise ValueError("gap and corridor widths must be positive")
        if min(self.box_size_range) <= 0 or min(self.cylinder_radius_range) <= 0:
            raise ValueError("obstacle sizes must be positive")
        if self.min_start_goal_distance > self.arena_size * math.sqrt(2.0) - 1.0:
            raise ValueError("min_start_goal_distance does not fit in the arena")


@dataclass(frozen=True)
class RandomisationConfig:
    """Domain randomisation: ranges drawn once per scenario from its seed (uniform)."""

    # Master switch; when off the nominal values of the other sections are used.
    enabled: bool = setting(False, "Draw the values below per scenario.")
    # Wheel lateral friction coefficient range.
    friction_range: list[float] = setting(
        [0.6, 1.2], "Wheel friction range.", min_length=2, max_length=2
    )
    # Scale applied to the chassis mass (dimensionless).
    mass_scale_range: list[float] = setting(
        [0.8, 1.25], "Chassis mass scale range.", min_length=2, max_length=2
    )
    # Lidar range noise std range (m).
    lidar_noise_std_range: list[float] = setting(
        [0.0, 0.03], "Lidar noise std range (m).", min_length=2, max_length=2
    )
    # Scale applied to both IMU noise stds (dimensionless).
    imu_noise_scale_range: list[float] = setting(
        [0.5, 2.0], "IMU noise scale range.", min_length=2, max_length=2
    )
    # Lidar per-beam dropout probability range.
    lidar_dropout_range: list[float] = setting(
        [0.0, 0.05], "Lidar dropout probability range.", min_length=2, max_length=2
    )
    # Actuation latency range (s).
    actuation_latency_range: list[float] = setting(
        [0.0, 0.05], "Actuation latency range (s).", min_length=2, max_length=2
    )

    def __post_init__(self) -> None:
        for name in (
            "friction_range",
            "mass_scale_range",
            "lidar_noise_std_range",
            "imu_noise_scale_range",
            "lidar_dropout_range",
            "actuation_latency_range",
        ):
            bounds = getattr(self, name)
            _check_range(name, bounds)
            if bounds[0] < 0:
                raise ValueError(f"{name}: must not be negative")
        if self.lidar_dropout_range[1] > 1.0:
            raise ValueError("lidar_dropout_range: a probability is at most 1")
        if self.friction_range[0] <= 0 or self.mass_scale_range[0] <= 0:
            raise ValueError("friction and mass scale must be positive")
        if self.actuation_latency_range[1] > 1.0:
            raise ValueError("actuation_latency_range: at most 1 s")


@dataclass(frozen=True)
class SupervisorConfig:
    """The simulated HG-DAgger supervisor (fw_sim.supervisor): the privileged expert takes
    over on ``fw/teleop/cmd_vel``, as a person with a teleop would, when the policy is about to
    fail, and hands back when it is safe again."""

    # What the expert does: 'off' nothing; 'label' publishes its command as a label on
    # fw/expert/cmd_vel every control period (the default); 'supervise' also takes over from
    # the policy on fw/teleop/cmd_vel when the policy is about to fail (HG-DAgger); 'drive'
    # drives every control period on fw/teleop/cmd_vel (demonstrations, as a person with a
    # teleop). Take-overs and driving wait for the robot's goal: a goal_pose stamped at or after
    # the scenario's start (or unstamped), and stop at the next reset or scenario.
    mode: str = setting(
        "label",
        "Expert: off, label (labels only), supervise (HG-DAgger take-overs) or drive "
        "(drives every step through fw/teleop/cmd_vel).",
        choices=SUPERVISOR_MODES,
    )
    # Take over when the body's predicted clearance along the policy's command falls below this
    # (m). The expert itself passes the narrowest gaps with ~0.3 m on each side.
    clearance: float = setting(
        0.15, "Take over below this predicted clearance (m).", minimum=0.0, maximum=5.0
    )
    # How far ahead the policy's command is rolled out to predict the clearance (s).
    horizon: float = setting(1.0, "Clearance prediction horizon (s).", minimum=0.05, maximum=10.0)
    # Take over when the cost-to-go to the goal has not fallen by progress_distance for this
    # long (s).
    progress_window: float = setting(
        6.0, "Take over after this long without progress (s).", minimum=0.5, maximum=600.0
    )
    # What counts as progress within the window (m of cost-to-go).
    progress_distance: float = setting(
        0.5, "Progress expected within the window (m).", minimum=0.01, maximum=100.0
    )
    # Hysteresis: hand back only when the policy's command predicts this much more clearance
    # than the take-over threshold (m) ...
    hand_back_margin: float = setting(
        0.2, "Hand back above clearance + this margin (m).", minimum=0.0, maximum=5.0
    )
    # ... after at least this long in control (s) ...
    min_takeover: float = setting(1.0, "Shortest take-over (s).", minimum=0.0, maximum=60.0)
    # ... and, after a take-over for lack of progress, once the expert has brought the robot
    # this much closer to the goal (m of cost-to-go).
    hand_back_progress: float = setting(
        2.0, "Progress the expert makes before handing back (m).", minimum=0.0, maximum=100.0
    )
    # The policy's command counts as zero when older than this (s, sim time).
    policy_timeout: float = setting(
        0.5, "The policy's command is stale after this long (s).", minimum=0.01, maximum=10.0
    )


@dataclass(frozen=True)
class SimConfig:
    """Simulated world and sensors."""

    # Seed of the first scenario and of every random draw in the simulator; new_scenario
    # moves on to seed + 1, seed + 2, ... A runtime change of this setting picks the scenario
    # the next new_scenario builds (then on from there); the noise keeps the start's seed.
    seed: int = setting(
        0, "Scenario and noise seed; set at run time: the next new_scenario's seed.", minimum=0
    )
    # Physics step rate (Hz); 240 Hz is PyBullet's default and stable for the Husky.
    physics_rate: float = setting(
        240.0, "Physics rate (Hz).", minimum=30.0, maximum=2000.0, read_only=True
    )
    # Sim seconds per wall second: 1 = real time, N = N× faster, 0 = as fast as possible.
    real_time_factor: float = setting(
        1.0, "Real-time factor (0 = as fast as possible).", minimum=0.0, maximum=1000.0
    )
    # Open the PyBullet GUI instead of headless DIRECT mode (one GUI per process).
    gui: bool = setting(False, "Show the PyBullet GUI.", read_only=True)
    # Rate of the sim clock topic (Hz, sim time); bounds the resolution of sim-time timers.
    clock_rate: float = setting(100.0, "Clock publish rate (Hz).", minimum=1.0, maximum=2000.0)
    # Rate of wheel joint states (Hz, sim time).
    joint_states_rate: float = setting(50.0, "Joint state rate (Hz).", minimum=1.0, maximum=1000.0)
    # Rate of the ground-truth odometry (Hz, sim time); evaluation only.
    ground_truth_rate: float = setting(
        50.0, "Ground-truth rate (Hz).", minimum=1.0, maximum=1000.0
    )
    # The robot base and its motor drivers.
    base: SimBaseConfig = setting(SimBaseConfig(), "Robot base and motor drivers.")
    # The 2D lidar.
    lidar: LidarConfig = setting(LidarConfig(), "2D lidar.")
    # The IMU.
    imu: ImuConfig = setting(ImuConfig(), "IMU.")
    # The scenario generator.
    scenario: ScenarioConfig = setting(ScenarioConfig(), "Scenario generator.")
    # Domain randomisation.
    randomisation: RandomisationConfig = setting(RandomisationConfig(), "Domain randomisation.")
    # Rate of the privileged expert's labels on fw/expert/cmd_vel (Hz, sim time): the robot's
    # control rate.
    expert_rate: float = setting(
        20.0, "Expert label rate on fw/expert/cmd_vel (Hz).", minimum=1.0, maximum=200.0
    )
    # The simulated HG-DAgger supervisor.
    supervisor: SupervisorConfig = setting(SupervisorConfig(), "HG-DAgger expert supervisor.")
    # The robot's body (laser mount, wheel joints and geometry), from the profile's robot
    # section; read only.
    robot: RobotBody = setting(RobotBody(), "The robot's body, from the profile's robot section.")

    def __post_init__(self) -> None:
        if self.lidar.range_min >= self.lidar.range_max:
            raise ValueError("lidar.range_min must be below lidar.range_max")
        for name in ("clock_rate", "joint_states_rate", "ground_truth_rate", "expert_rate"):
            if getattr(self, name) > self.physics_rate:
                raise ValueError(f"{name} is above physics_rate")
        if self.lidar.rate > self.physics_rate or self.imu.rate > self.physics_rate:
            raise ValueError("sensor rates must not exceed physics_rate")
