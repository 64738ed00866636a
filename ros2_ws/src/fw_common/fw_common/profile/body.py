"""The robot's body: footprint, laser mount and wheels, described once in the ``robot`` section.

Perception (footprint masking, laser pose), safety (collision zones, laser pose), the actuator
bridge (kinematics and odometry) and the simulator (lidar mount, wheel joints, headless
episodes) all read the same :class:`RobotBody`. Each of their sections holds it as a ``robot``
field that the profile fills from its ``robot`` section (:class:`~fw_common.profile.robot.
RobotProfile`); a node therefore has ``robot.*`` parameters, read only, with the same names as
the profile's keys (``robot.footprint.front``). What a consumer adds on top of the body (a
masking margin, a collision padding) stays in that consumer's own section.

Defaults are the Clearpath Husky A200 (datasheet: 0.99 m × 0.67 m, wheel radius 0.1651 m,
wheel separation 0.5708 m) with a planar lidar 0.2 m ahead of ``base_link``. All settings are
read only at run time: the nodes share one body, and changing it in one would make them
disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fw_common.profile.schema import setting

__all__ = ["FootprintBox", "LaserMount", "RobotBody", "WheelGeometry"]


@dataclass(frozen=True)
class FootprintBox:
    """The body as a box around ``base_link``: the distance to each edge (m)."""

    # Distance from base_link to the front edge (m).
    front: float = setting(
        0.495, "base_link to the body's front edge (m).", minimum=0.0, maximum=10.0, read_only=True
    )
    # Distance from base_link to the rear edge (m).
    rear: float = setting(
        0.495, "base_link to the body's rear edge (m).", minimum=0.0, maximum=10.0, read_only=True
    )
    # Distance from base_link to the left edge (m).
    left: float = setting(
        0.335, "base_link to the body's left edge (m).", minimum=0.0, maximum=10.0, read_only=True
    )
    # Distance from base_link to the right edge (m).
    right: float = setting(
        0.335, "base_link to the body's right edge (m).", minimum=0.0, maximum=10.0, read_only=True
    )

    def __post_init__(self) -> None:
        if self.front + self.rear <= 0.0 or self.left + self.right <= 0.0:
            raise ValueError("the footprint must have a positive length and width")

    def box(self, grow: float = 0.0) -> tuple[float, float, float, float]:
        """``(x_min, x_max, y_min, y_max)`` in base_link (m), grown by ``grow`` on every side."""
        return (-self.rear - grow, self.front + grow, -self.right - grow, self.left + grow)


@dataclass(frozen=True)
class LaserMount:
    """Where the planar lidar sits on the body: its ``laser`` frame in ``base_link``."""

    # Position of the laser frame in base_link (m): ahead of centre on the Husky.
    x: float = setting(
        0.2, "Laser x in base_link (m).", minimum=-10.0, maximum=10.0, read_only=True
    )
    # Lateral offset (m); 0 when the laser sits on the centre line.
    y: float = setting(
        0.0, "Laser y in base_link (m).", minimum=-10.0, maximum=10.0, read_only=True
    )
    # Height above base_link (m): only the simulator uses it (where its rays start).
    z: float = setting(
        0.3, "Laser height above base_link (m).", minimum=-10.0, maximum=10.0, read_only=True
    )
    # Rotation of the laser frame about base_link's z axis (rad, counter-clockwise).
    yaw: float = setting(
        0.0, "Laser yaw in base_link (rad).", minimum=-math.pi, maximum=math.pi, read_only=True
    )

    @property
    def pose2d(self) -> tuple[float, float, float]:
        """``(x, y, yaw)`` of the laser in base_link (m, m, rad): what projecting a scan needs."""
        return (self.x, self.y, self.yaw)


@dataclass(frozen=True)
class WheelGeometry:
    """A skid-steer (differential) wheel base: one speed per side."""

    # Joints driven as the left side of the base (commanded to the same speed).
    left_joints: list[str] = setting(
        ["front_left_wheel", "rear_left_wheel"],
        "Joint names of the left wheels.",
        min_length=1,
        read_only=True,
    )
    # Joints driven as the right side of the base.
    right_joints: list[str] = setting(
        ["front_right_wheel", "rear_right_wheel"],
        "Joint names of the right wheels.",
        min_length=1,
        read_only=True,
    )
    # Wheel radius (m).
    radius: float = setting(0.1651, "Wheel radius (m).", minimum=0.01, maximum=2.0, read_only=True)
    # Distance between the left and right wheel centres (m).
    separation: float = setting(
        0.5708,
        "Distance between left and right wheel centres (m).",
        minimum=0.05,
        maximum=5.0,
        read_only=True,
    )
    # Skid-steer bases slip when they turn, so they turn as if their track were wider. The
    # effective track (separation × multiplier) is used for commands and odometry alike, as in
    # ros2_control's diff_drive_controller.
    separation_multiplier: float = setting(
        1.0,
        "Effective-track multiplier for skid-steer slip (dimensionless).",
        minimum=0.5,
        maximum=4.0,
        read_only=True,
    )

    def __post_init__(self) -> None:
        overlap = set(self.left_joints) & set(self.right_joints)
        if overlap:
            raise ValueError(f"joints on both sides: {sorted(overlap)}")
        joints = self.joints
        if len(set(joints)) != len(joints):
            raise ValueError("wheel joint names must be unique")

    @property
    def joints(self) -> tuple[str, ...]:
        """Every wheel joint: the left ones, then the right ones."""
        return (*self.left_joints, *self.right_joints)

    @property
    def track(self) -> float:
        """The effective track: separation × slip multiplier (m)."""
        return self.separation * self.separation_multiplier


@dataclass(frozen=True)
class RobotBody:
    """Everything about the robot's body that more than one node needs."""

    # The body box (what the laser sees of the robot itself, what a collision is).
    footprint: FootprintBox = setting(FootprintBox(), "Body box around base_link.")
    # The planar lidar's mount.
    laser: LaserMount = setting(LaserMount(), "Laser mount in base_link.")
    # Wheel joints and geometry.
    wheels: WheelGeometry = setting(WheelGeometry(), "Wheel joints and geometry.")
