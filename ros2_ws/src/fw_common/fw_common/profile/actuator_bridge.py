"""The ``actuator_bridge`` section: skid-steer kinematics, limits, watchdog, odometry."""

from __future__ import annotations

from dataclasses import dataclass

from fw_common.profile.schema import setting

__all__ = ["ActuatorBridgeConfig"]


@dataclass(frozen=True)
class ActuatorBridgeConfig:
    """Turns ``cmd_vel`` into wheel velocity commands and wheel encoders into ``odom``.

    Defaults are the Clearpath Husky (as in pybullet_data's ``husky.urdf``).
    """

    # Name of the backend that talks to the motor drivers (see fw_actuator_bridge.backends).
    backend: str = setting(
        "topic",
        "Actuator backend by name: 'topic' publishes sensor_msgs/JointState velocity "
        "commands on fw/joint_commands.",
        choices=("topic",),
        read_only=True,
    )
    # Joints driven as the left side of the skid-steer base (commanded to the same speed).
    left_wheel_joints: list[str] = setting(
        ["front_left_wheel", "rear_left_wheel"],
        "Joint names of the left wheels.",
        min_length=1,
        read_only=True,
    )
    # Joints driven as the right side of the skid-steer base.
    right_wheel_joints: list[str] = setting(
        ["front_right_wheel", "rear_right_wheel"],
        "Joint names of the right wheels.",
        min_length=1,
        read_only=True,
    )
    # Wheel radius (m).
    wheel_radius: float = setting(0.1651, "Wheel radius (m).", minimum=0.01, maximum=2.0)
    # Distance between the left and right wheel centres (m).
    wheel_separation: float = setting(
        0.5708, "Distance between left and right wheel centres (m).", minimum=0.05, maximum=5.0
    )
    # Skid-steer bases slip when they turn, so they turn as if their track were wider. The
    # effective track (separation × multiplier) is used for both commands and odometry, as in
    # ros2_control's diff_drive_controller.
    wheel_separation_multiplier: float = setting(
        1.0,
        "Effective-track multiplier for skid-steer slip (dimensionless).",
        minimum=0.5,
        maximum=4.0,
    )
    # Hard limit on each wheel's speed (rad/s); commands are scaled down to keep the curvature.
    max_wheel_speed: float = setting(
        12.0, "Maximum wheel speed (rad/s).", minimum=0.1, maximum=200.0
    )
    # Hard limit on each wheel's acceleration (rad/s^2).
    max_wheel_acceleration: float = setting(
        25.0, "Maximum wheel acceleration (rad/s^2).", minimum=0.1, maximum=1000.0
    )
    # With no fresh cmd_vel for this long the wheels are commanded to zero (s).
    command_timeout: float = setting(
        0.5,
        "Command watchdog: wheels to zero when no cmd_vel arrives for this long (s).",
        minimum=0.01,
        maximum=10.0,
    )
    # Rate of wheel commands to the drivers (Hz); also the watchdog's resolution.
    control_rate: float = setting(
        50.0,
        "Rate of wheel commands to the backend (Hz).",
        minimum=1.0,
        maximum=1000.0,
        read_only=True,
    )
    # Joint state older than this is not integrated into odometry (s).
    joint_state_timeout: float = setting(
        0.5,
        "Encoder feedback older than this stops odometry integration (s).",
        minimum=0.01,
        maximum=10.0,
    )
    # Broadcast odom -> base_link on /tf (needs tf2_msgs, present on every ROS 2 install).
    publish_tf: bool = setting(True, "Broadcast the odom -> base_link transform on /tf.")
    # Frame of the odometry pose.
    odom_frame: str = setting("odom", "Odometry frame id.", read_only=True)
    # Frame of the robot body.
    base_frame: str = setting("base_link", "Robot body frame id.", read_only=True)

    def __post_init__(self) -> None:
        overlap = set(self.left_wheel_joints) & set(self.right_wheel_joints)
        if overlap:
            raise ValueError(f"joints on both sides: {sorted(overlap)}")
        joints = [*self.left_wheel_joints, *self.right_wheel_joints]
        if len(set(joints)) != len(joints):
            raise ValueError("wheel joint names must be unique")
