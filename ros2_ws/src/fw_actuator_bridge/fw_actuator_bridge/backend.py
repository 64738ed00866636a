"""The interface between the actuator bridge and motor drivers.

A backend receives one wheel command per control period and forwards it to the hardware. To add
one (a CAN motor controller, a serial protocol, ros2_control's forward command controller):

1. implement :class:`ActuatorBackend` — ``send`` must not block for longer than a control period
   and must never raise on a transport error (log, count and carry on; the bridge's watchdog and
   the driver's own timeout stop the robot);
2. register a factory under a name in ``fw_actuator_bridge.backends.BACKENDS``;
3. add the name to the ``backend`` setting's choices in the robot profile.

Every backend must make the hardware stop when commands stop arriving (a driver-side timeout):
the bridge's watchdog covers a dead command source, not a dead bridge.
"""

from __future__ import annotations

from typing import Protocol

from fw_actuator_bridge.bridge import WheelCommand

__all__ = ["ActuatorBackend"]


class ActuatorBackend(Protocol):
    """Sends wheel velocity commands to the motor drivers."""

    def send(self, command: WheelCommand, stamp_ns: int) -> None:
        """Forward one wheel command (rad/s per joint), stamped with the ROS time (ns)."""
        ...

    def close(self) -> None:
        """Command zero if possible and release the transport."""
        ...
