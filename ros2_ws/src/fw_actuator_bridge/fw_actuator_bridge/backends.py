"""Actuator backends by name (see :mod:`fw_actuator_bridge.backend` for the interface)."""

from __future__ import annotations

from collections.abc import Callable

from rclpy.node import Node
from sensor_msgs.msg import JointState

from fw_actuator_bridge.backend import ActuatorBackend
from fw_actuator_bridge.bridge import WheelCommand
from fw_common import qos, topics
from fw_common.conversions import ns_to_stamp

__all__ = ["BACKENDS", "TopicBackend", "create_backend"]


class TopicBackend:
    """Publishes ``sensor_msgs/JointState`` velocity commands on ``fw/joint_commands``.

    This is what fw_sim consumes, and what many ROS 2 motor drivers accept.
    """

    def __init__(self, node: Node) -> None:
        self._node = node
        self._publisher = node.create_publisher(JointState, topics.JOINT_COMMANDS, qos.COMMAND)
        self._msg = JointState()

    def send(self, command: WheelCommand, stamp_ns: int) -> None:
        msg = self._msg
        msg.header.stamp = ns_to_stamp(stamp_ns)
        msg.name = list(command.joint_names)
        msg.velocity = list(command.velocities)
        self._publisher.publish(msg)

    def close(self) -> None:
        self._node.destroy_publisher(self._publisher)


BACKENDS: dict[str, Callable[[Node], ActuatorBackend]] = {
    "topic": TopicBackend,
}


def create_backend(name: str, node: Node) -> ActuatorBackend:
    """Instantiate the backend registered under ``name``."""
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown actuator backend {name!r}; known: {sorted(BACKENDS)}") from None
    return factory(node)
