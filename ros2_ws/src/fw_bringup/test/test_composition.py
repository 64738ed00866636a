"""The bringup composes a robot's nodes in one process, in its namespace, from its profile."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator

import pytest
import rclpy
from rclpy.context import Context

from fw_bringup.node_parameters import default_profile_path
from fw_bringup.robot import create_robot_nodes
from fw_common.profile import load_profile


@pytest.fixture
def context() -> Iterator[Context]:
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    ctx = Context()
    rclpy.init(context=ctx, domain_id=200 + os.getpid() % 30)
    yield ctx
    ctx.try_shutdown()


def test_composed_robot_nodes_live_in_the_robots_namespace(context: Context) -> None:
    profile = load_profile(default_profile_path("sim"))
    robot = dataclasses.replace(profile.robot, namespace="husky_7")
    profile = dataclasses.replace(profile, robot=robot)
    names = ["perception", "policy", "safety", "actuator_bridge"]
    nodes = create_robot_nodes(profile, names, context=context)
    try:
        assert [n.get_name() for n in nodes] == names
        assert {n.get_namespace() for n in nodes} == {"/husky_7"}
        safety = nodes[2]
        assert safety.get_parameter("control_rate").value == profile.safety.control_rate
    finally:
        for node in nodes:
            node.destroy_node()


def test_unknown_node_names_are_refused(context: Context) -> None:
    profile = load_profile(default_profile_path("sim"))
    with pytest.raises(ValueError, match="unknown nodes"):
        create_robot_nodes(profile, ["perception", "planner"], context=context)
