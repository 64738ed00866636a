"""The ``perception`` section: scan cleaning, state fusion and the goal in the robot frame."""

from __future__ import annotations

from dataclasses import dataclass

from fw_common.profile.body import RobotBody
from fw_common.profile.schema import setting

__all__ = ["PerceptionConfig"]


@dataclass(frozen=True)
class PerceptionConfig:
    """Cleans ``scan``, fuses ``odom`` + ``imu`` into a state and puts ``goal_pose`` in
    ``base_link``. The body box and the laser pose come from the robot section (``robot``)."""

    # Returns nearer than this are reported as -inf ("too close", REP-117) (m).
    range_min: float = setting(
        0.15, "Clip: nearer returns become -inf (m).", minimum=0.0, maximum=100.0
    )
    # Returns farther than this are reported as +inf ("nothing in range", REP-117) (m).
    range_max: float = setting(
        10.0, "Clip: farther returns become +inf (m).", minimum=0.1, maximum=200.0
    )
    # Width of the sliding median over neighbouring beams (beams, odd; 1 turns it off).
    median_window: int = setting(
        3, "Median filter window (beams, odd; 1 = off).", minimum=1, maximum=31
    )
    # Returns inside the robot's body box (robot.footprint), grown by this on every side, are
    # the robot itself and are masked as NaN (m).
    footprint_margin: float = setting(
        0.035, "Margin around the body box for masking (m).", minimum=0.0, maximum=1.0
    )
    # Complementary filter: weight of the gyro in yaw rate and heading increments (0 = wheels
    # only, 1 = gyro only). Skid-steer wheels slip when turning, a gyro does not.
    imu_weight: float = setting(
        0.95, "Gyro weight in the heading/yaw-rate fusion (0..1).", minimum=0.0, maximum=1.0
    )
    # IMU samples older than this are not fused; the state falls back to wheels only (s).
    imu_timeout: float = setting(
        0.2, "IMU older than this is ignored (wheels only) (s).", minimum=0.001, maximum=10.0
    )
    # Frame of the state pose and of incoming goals.
    odom_frame: str = setting("odom", "Odometry frame id.", read_only=True)
    # Frame of the robot body (the goal is published in it).
    base_frame: str = setting("base_link", "Robot body frame id.", read_only=True)
    # The robot's body (footprint, laser mount), from the profile's robot section; read only.
    robot: RobotBody = setting(RobotBody(), "The robot's body, from the profile's robot section.")

    def __post_init__(self) -> None:
        if self.range_min >= self.range_max:
            raise ValueError("range_min must be below range_max")
        if self.median_window % 2 == 0:
            raise ValueError("median_window must be odd")
