"""The ``safety`` section: the safety supervisor (fw_safety) between command sources and cmd_vel.

Every stop and limit of the software safety layer lives here. The robot's footprint and laser
mount come from the robot section (``robot``); the zones are shaped from that footprint plus
``footprint_padding``. Times are ROS time (sim time under ``use_sim_time``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fw_common.profile.body import RobotBody
from fw_common.profile.schema import setting

__all__ = [
    "ApproachZoneConfig",
    "GeofenceConfig",
    "HeartbeatConfig",
    "InputsConfig",
    "SafetyConfig",
    "SafetyLimitsConfig",
    "SlowdownZoneConfig",
    "StopZoneConfig",
    "TiltConfig",
    "WatchdogsConfig",
    "ZonesConfig",
]


@dataclass(frozen=True)
class InputsConfig:
    """Command sources with twist_mux semantics: the freshest highest-priority one drives."""

    # A policy command older than this is ignored (s).
    policy_timeout: float = setting(
        0.5, "Policy command (fw/cmd_vel_raw) timeout (s).", minimum=0.01, maximum=10.0
    )
    # A teleop command older than this is ignored; while fresh, teleop overrides the policy (s).
    teleop_timeout: float = setting(
        0.5, "Teleop command (fw/teleop/cmd_vel) timeout (s).", minimum=0.01, maximum=10.0
    )
    # Accept teleop at all (a robot without an operator link can turn it off).
    teleop_enabled: bool = setting(True, "Accept teleop commands (priority over the policy).")


@dataclass(frozen=True)
class SafetyLimitsConfig:
    """Velocity and acceleration limits (velocity-smoother semantics, per axis)."""

    # Highest forward speed (m/s).
    max_linear_forward: float = setting(
        1.0, "Maximum forward speed (m/s).", minimum=0.0, maximum=10.0
    )
    # Highest reverse speed, as a positive number (m/s).
    max_linear_reverse: float = setting(
        0.5, "Maximum reverse speed (m/s, positive).", minimum=0.0, maximum=10.0
    )
    # Highest yaw rate either way (rad/s).
    max_angular: float = setting(1.5, "Maximum yaw rate (rad/s).", minimum=0.0, maximum=20.0)
    # Rate at which linear speed may grow in magnitude (m/s^2).
    linear_acceleration: float = setting(
        1.0, "Linear acceleration limit (m/s^2).", minimum=0.01, maximum=100.0
    )
    # Rate at which linear speed may shrink in magnitude when no stop is demanded (m/s^2).
    linear_deceleration: float = setting(
        2.0, "Linear deceleration limit (m/s^2).", minimum=0.01, maximum=100.0
    )
    # Rate at which yaw rate may grow in magnitude (rad/s^2).
    angular_acceleration: float = setting(
        3.0, "Angular acceleration limit (rad/s^2).", minimum=0.01, maximum=200.0
    )
    # Rate at which yaw rate may shrink in magnitude when no stop is demanded (rad/s^2).
    angular_deceleration: float = setting(
        5.0, "Angular deceleration limit (rad/s^2).", minimum=0.01, maximum=200.0
    )


@dataclass(frozen=True)
class StopZoneConfig:
    """Points in this box ahead of (or behind) the robot block motion that way."""

    # Use the stop zone.
    enabled: bool = setting(True, "Use the stop zone.")
    # Length of the zone beyond the footprint edge in the direction of travel (m).
    distance: float = setting(
        0.3, "Stop zone length beyond the footprint edge (m).", minimum=0.0, maximum=10.0
    )
    # Widening of the zone on each side of the footprint (m).
    lateral_margin: float = setting(
        0.05, "Stop zone widening on each side (m).", minimum=0.0, maximum=5.0
    )
    # Points needed inside the zone before it acts (filters single noisy returns).
    min_points: int = setting(3, "Points needed to trigger the stop zone.", minimum=1)


@dataclass(frozen=True)
class SlowdownZoneConfig:
    """Points in this (larger) box in the direction of travel scale the command down."""

    # Use the slowdown zone.
    enabled: bool = setting(True, "Use the slowdown zone.")
    # Length of the zone beyond the footprint edge in the direction of travel (m).
    distance: float = setting(
        1.0, "Slowdown zone length beyond the footprint edge (m).", minimum=0.0, maximum=20.0
    )
    # Widening of the zone on each side of the footprint (m).
    lateral_margin: float = setting(
        0.2, "Slowdown zone widening on each side (m).", minimum=0.0, maximum=5.0
    )
    # Points needed inside the zone before it acts.
    min_points: int = setting(3, "Points needed to trigger the slowdown zone.", minimum=1)
    # Scale applied to the whole twist while the zone is occupied (dimensionless).
    ratio: float = setting(
        0.4, "Twist scale while the slowdown zone is occupied.", minimum=0.0, maximum=1.0
    )


@dataclass(frozen=True)
class ApproachZoneConfig:
    """Keep the time to collision of the current command at or above ``time_to_collision``."""

    # Use the approach rule.
    enabled: bool = setting(True, "Use the approach (time-to-collision) rule.")
    # Minimum time to collision kept for the current command (s).
    time_to_collision: float = setting(
        1.2, "Minimum time to collision for the current command (s).", minimum=0.05, maximum=30.0
    )
    # Poses simulated along the command's arc within time_to_collision.
    simulation_steps: int = setting(12, "Poses simulated along the arc.", minimum=1, maximum=200)
    # Points that must enter the padded footprint to count as a collision.
    min_points: int = setting(2, "Points needed to count as a collision.", minimum=1)


@dataclass(frozen=True)
class ZonesConfig:
    """Collision zones from the scan; the most restrictive one wins."""

    # The stop zone.
    stop: StopZoneConfig = setting(StopZoneConfig(), "Stop zone.")
    # The slowdown zone.
    slowdown: SlowdownZoneConfig = setting(SlowdownZoneConfig(), "Slowdown zone.")
    # The approach (time-to-collision) rule.
    approach: ApproachZoneConfig = setting(ApproachZoneConfig(), "Approach rule.")
    # A scan with more NaN (erroneous) beams than this fraction is refused as blind (0..1).
    max_invalid_fraction: float = setting(
        0.5, "Refuse scans with a larger fraction of NaN beams.", minimum=0.0, maximum=1.0
    )


@dataclass(frozen=True)
class WatchdogsConfig:
    """Inputs that must keep arriving; a stale one stops the robot until it is fresh again."""

    # Stop when no valid scan has arrived for this long (s); 0 disables.
    scan_timeout: float = setting(
        0.5, "Scan watchdog timeout (s); 0 disables.", minimum=0.0, maximum=10.0
    )
    # Stop when no valid odometry has arrived for this long (s); 0 disables.
    odom_timeout: float = setting(
        0.5, "Odometry watchdog timeout (s); 0 disables.", minimum=0.0, maximum=10.0
    )
    # Stop when no valid IMU sample has arrived for this long (s); 0 disables.
    imu_timeout: float = setting(
        0.5, "IMU watchdog timeout (s); 0 disables.", minimum=0.0, maximum=10.0
    )


@dataclass(frozen=True)
class HeartbeatConfig:
    """A lock that must keep being fed (std_msgs/Bool true) or the robot e-stops (latched)."""

    # off: ignored; armed_on_first: enforced once the first heartbeat arrived; required:
    # enforced from start (the robot cannot move until a heartbeat arrives and a reset).
    mode: str = setting(
        "armed_on_first",
        "Heartbeat lock: off, armed_on_first or required.",
        choices=("off", "armed_on_first", "required"),
    )
    # Missing heartbeats for this long latch an e-stop (s).
    timeout: float = setting(0.5, "Heartbeat timeout (s).", minimum=0.01, maximum=10.0)


@dataclass(frozen=True)
class TiltConfig:
    """Roll or pitch beyond these angles latches a stop (IMU orientation)."""

    # Use the tilt check.
    enabled: bool = setting(True, "Use the tilt check.")
    # Largest roll magnitude (rad).
    max_roll: float = setting(0.35, "Maximum |roll| (rad).", minimum=0.0, maximum=math.pi)
    # Largest pitch magnitude (rad).
    max_pitch: float = setting(0.35, "Maximum |pitch| (rad).", minimum=0.0, maximum=math.pi)


@dataclass(frozen=True)
class GeofenceConfig:
    """Odometry outside this polygon (odom frame) latches a stop."""

    # Use the geofence.
    enabled: bool = setting(False, "Use the geofence.")
    # Polygon vertices x0 y0 x1 y1 ... in the odom frame (m); at least 3 vertices.
    polygon: list[float] = setting(
        [-50.0, -50.0, 50.0, -50.0, 50.0, 50.0, -50.0, 50.0],
        "Geofence polygon x0 y0 x1 y1 ... in odom (m).",
        min_length=6,
    )
    # Stop this far inside the boundary already (m).
    margin: float = setting(0.0, "Inner margin to the boundary (m).", minimum=0.0, maximum=100.0)

    def __post_init__(self) -> None:
        if len(self.polygon) % 2:
            raise ValueError("polygon: needs an even number of values (x y pairs)")


@dataclass(frozen=True)
class SafetyConfig:
    """The software safety supervisor (non-rated; rated stops stay in hardware)."""

    # Topic of the LaserScan the zones are computed from (the raw scan, or a cleaned one).
    scan_topic: str = setting("scan", "LaserScan topic the collision zones use.", read_only=True)
    # Rate of the steady output and of the watchdog checks (Hz).
    control_rate: float = setting(
        20.0, "Output and watchdog rate (Hz).", minimum=1.0, maximum=500.0, read_only=True
    )
    # Rate of fw/safety/status (Hz); it is also published on every state change.
    status_rate: float = setting(
        2.0, "Status rate (Hz).", minimum=0.1, maximum=100.0, read_only=True
    )
    # Frame commands must be in ("" is accepted as base_link).
    base_frame: str = setting("base_link", "Robot body frame id.", read_only=True)
    # Command sources and their timeouts.
    inputs: InputsConfig = setting(InputsConfig(), "Command sources.")
    # Velocity and acceleration limits.
    limits: SafetyLimitsConfig = setting(SafetyLimitsConfig(), "Velocity limits.")
    # Added to the body box (robot.footprint) on every side for the approach rule and for the
    # points the zones leave to the stop zone (m): what counts as a collision.
    footprint_padding: float = setting(
        0.05, "Padding around the body box for the approach rule (m).", minimum=0.0, maximum=2.0
    )
    # Collision zones.
    zones: ZonesConfig = setting(ZonesConfig(), "Collision zones.")
    # Input watchdogs.
    watchdogs: WatchdogsConfig = setting(WatchdogsConfig(), "Input watchdogs.")
    # Heartbeat lock.
    heartbeat: HeartbeatConfig = setting(HeartbeatConfig(), "Heartbeat lock.")
    # Tilt check.
    tilt: TiltConfig = setting(TiltConfig(), "Tilt check.")
    # Geofence.
    geofence: GeofenceConfig = setting(GeofenceConfig(), "Geofence.")
    # The robot's body (footprint, laser mount), from the profile's robot section; read only.
    robot: RobotBody = setting(RobotBody(), "The robot's body, from the profile's robot section.")
