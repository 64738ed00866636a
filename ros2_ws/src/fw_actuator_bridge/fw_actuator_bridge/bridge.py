"""The actuator bridge's logic: commands in, limited wheel speeds out, odometry from encoders.

No ROS here: the node feeds messages' contents and the ROS clock's time in nanoseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from fw_actuator_bridge.odometry import OdometryState, WheelOdometry
from fw_actuator_bridge.watchdog import CommandWatchdog
from fw_common.kinematics import (
    SkidSteerKinematics,
    WheelSpeeds,
    is_finite_twist,
    limit_acceleration,
)
from fw_common.profile import ActuatorBridgeConfig

__all__ = ["ActuatorBridgeCore", "WheelCommand"]

_ZERO = WheelSpeeds(0.0, 0.0)


@dataclass(frozen=True)
class WheelCommand:
    """Velocity command for every wheel joint, in a fixed joint order."""

    joint_names: tuple[str, ...]
    velocities: tuple[float, ...]  #: (rad/s)
    #: True when the watchdog holds the wheels at zero (no fresh command).
    watchdog_active: bool


class ActuatorBridgeCore:
    """cmd_vel → wheel speeds (limits, watchdog) and encoders → odometry."""

    def __init__(self, config: ActuatorBridgeConfig) -> None:
        self.config = config
        self.kinematics = SkidSteerKinematics.from_geometry(config.robot.wheels)
        self.odometry = WheelOdometry(self.kinematics)
        self.watchdog = CommandWatchdog(int(config.command_timeout * 1e9))
        self.joint_names = config.robot.wheels.joints
        self._n_left = len(config.robot.wheels.left_joints)
        self._target = _ZERO
        self._output = _ZERO
        self._last_tick_ns: int | None = None
        self.refused_commands = 0
        self.refused_joint_states = 0

    def reconfigure(self, config: ActuatorBridgeConfig) -> None:
        """Apply changed limits at run time; keeps the odometry pose. The wheels (the robot's
        body) are read only, so the kinematics and joints stay as built."""
        self.config = config
        self.watchdog.timeout_ns = int(config.command_timeout * 1e9)

    # --- commands -----------------------------------------------------------------------------

    def command(self, linear: float, angular: float, frame_id: str, now_ns: int) -> str | None:
        """Accept a body twist. Returns None, or the reason the command was refused.

        A refused command also drops the previous target to zero: a source that starts sending
        garbage must not leave the robot driving on its last good command.
        """
        reason = None
        if not is_finite_twist(linear, angular):
            reason = f"non-finite twist (linear.x={linear}, angular.z={angular})"
        elif frame_id not in ("", self.config.base_frame):
            reason = f"twist in frame {frame_id!r}, expected {self.config.base_frame!r}"
        if reason is not None:
            self.refused_commands += 1
            self._target = _ZERO
            self.watchdog.reset()
            return reason
        self._target = self.kinematics.limited_wheel_speeds(
            linear, angular, self.config.max_wheel_speed
        )
        self.watchdog.feed(now_ns)
        return None

    def tick(self, now_ns: int) -> WheelCommand:
        """Compute the wheel command for this control period."""
        watchdog_active = self.watchdog.expired(now_ns)
        target = _ZERO if watchdog_active else self._target
        if self._last_tick_ns is None or now_ns <= self._last_tick_ns:
            dt = 1.0 / self.config.control_rate
        else:
            dt = (now_ns - self._last_tick_ns) * 1e-9
        self._last_tick_ns = now_ns
        self._output = limit_acceleration(
            self._output, target, self.config.max_wheel_acceleration, dt
        )
        left, right = self._output.left, self._output.right
        velocities = tuple(
            left if i < self._n_left else right for i in range(len(self.joint_names))
        )
        return WheelCommand(self.joint_names, velocities, watchdog_active)

    def stop_command(self) -> WheelCommand:
        """Zero for every wheel, bypassing the acceleration limit (used on shutdown)."""
        self._target = self._output = _ZERO
        self.watchdog.reset()
        return WheelCommand(self.joint_names, (0.0,) * len(self.joint_names), True)

    # --- encoders -----------------------------------------------------------------------------

    def joint_state(
        self, names: Sequence[str], positions: Sequence[float], stamp_ns: int
    ) -> OdometryState | str:
        """Integrate an encoder reading; returns the new odometry, or why it was refused."""
        if len(names) != len(positions):
            self.refused_joint_states += 1
            return f"joint_states has {len(names)} names but {len(positions)} positions"
        index = {name: i for i, name in enumerate(names)}
        missing = [j for j in self.joint_names if j not in index]
        if missing:
            self.refused_joint_states += 1
            return f"joint_states lacks wheel joints {missing}"
        angles = [float(positions[index[j]]) for j in self.joint_names]
        if not all(math.isfinite(a) for a in angles):
            self.refused_joint_states += 1
            return "joint_states has non-finite wheel positions"
        left = sum(angles[: self._n_left]) / self._n_left
        right = sum(angles[self._n_left :]) / (len(angles) - self._n_left)
        return self.odometry.update(left, right, stamp_ns)
