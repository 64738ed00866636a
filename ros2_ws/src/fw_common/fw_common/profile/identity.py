"""Who a robot is and where its nodes live in the ROS graph (part of the ``robot`` section)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fw_common.profile.schema import setting

__all__ = ["RobotIdentity"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class RobotIdentity:
    """Identity of one robot."""

    # Fleet-unique id; it names episodes, releases and the default namespace.
    id: str = setting("robot", "Fleet-unique robot id (letters, digits, underscore).")
    # ROS namespace of every node of this robot; "" = root namespace (one robot per graph).
    namespace: str = setting(
        "", "ROS namespace for all nodes of this robot; empty for the root namespace."
    )
    # True when the robot is the PyBullet one: nodes then run on /clock (use_sim_time).
    simulated: bool = setting(False, "True when the robot is simulated (nodes use sim time).")

    def __post_init__(self) -> None:
        if not _NAME.match(self.id):
            raise ValueError(f"id {self.id!r} must match {_NAME.pattern}")
        ns = self.namespace.strip("/")
        if ns and not all(_NAME.match(part) for part in ns.split("/")):
            raise ValueError(f"namespace {self.namespace!r} is not a valid ROS namespace")

    @property
    def ros_namespace(self) -> str:
        """The namespace in the absolute form rclpy expects (``/`` or ``/robot_1``)."""
        return "/" + self.namespace.strip("/")
