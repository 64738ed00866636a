"""The ``actuator_bridge`` section: skid-steer kinematics, limits, watchdog, odometry."""

from __future__ import annotations

from dataclasses import dataclass

from fw_common.profile.body import RobotBody
from fw_common.profile.schema import setting

__all__ = ["ActuatorBridgeConfig"]


@dataclass(frozen=True)
class ActuatorBridgeConfig:
    """Turns ``cmd_vel`` into wheel velocity commands and wheel encoders into ``odom``.

    The wheel joints and geometry come from the robot section (``robot.wheels``); limits are
    the Clearpath Husky's.
    """

    # Name of the backend that talks to the motor drivers (see fw_actuator_bridge.backends).
    backend: str = setting(
        "topic",
        "Actuator backend by name: 'topic' publishes sensor_msgs/JointState velocity "
        "commands on fw/joint_commands.",
        choices=("topic",),
        read_only=True,
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
    # The robot's body (the bridge uses its wheels), from the profile's robot section; read only.
    robot: RobotBody = setting(RobotBody(), "The robot's body, from the profile's robot section.")
