"""Compose one robot's nodes in one process from its robot profile."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rclpy.node import Node
from rclpy.parameter import Parameter

from fw_bringup.node_parameters import clock_remappings, node_parameters, uses_sim_time
from fw_bringup.nodes import NODES
from fw_common.profile import RobotProfile

__all__ = ["create_robot_nodes"]


def _ros_args(remappings: list[tuple[str, str]]) -> list[str]:
    if not remappings:
        return []
    args = ["--ros-args"]
    for src, dst in remappings:
        args += ["-r", f"{src}:={dst}"]
    return args


def create_robot_nodes(
    profile: RobotProfile,
    names: Sequence[str],
    context: Any = None,
) -> list[Node]:
    """Instantiate the named nodes, configured from ``profile``, in the robot's namespace.

    Nodes are created in the canonical order of :data:`fw_bringup.nodes.NODES` (producers
    before their consumers). If one fails to start, those already made are destroyed and the
    error propagates.
    """
    unknown = [n for n in names if n not in NODES]
    if unknown:
        raise ValueError(f"unknown nodes {unknown}; known: {list(NODES)}")
    cli_args = _ros_args(clock_remappings(profile))
    nodes: list[Node] = []
    try:
        for name, spec in NODES.items():
            if name not in names:
                continue
            overrides = [Parameter(k, value=v) for k, v in node_parameters(profile, name).items()]
            overrides.append(Parameter("use_sim_time", value=uses_sim_time(profile, name)))
            node_cls = spec.load_class()
            nodes.append(
                node_cls(
                    namespace=profile.robot.ros_namespace,
                    parameter_overrides=overrides,
                    cli_args=cli_args,
                    context=context,
                )
            )
    except BaseException:
        for node in nodes:
            node.destroy_node()
        raise
    return nodes
