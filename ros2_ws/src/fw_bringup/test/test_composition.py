"""Nodes composed by the bringup hand off the control path directly, and let go on destroy."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import rclpy
from rclpy.context import Context

from fw_bringup.node_parameters import default_profile_path
from fw_bringup.robot import create_robot_nodes
from fw_common import intra_process
from fw_common.profile import load_profile


@pytest.fixture
def context() -> Iterator[Context]:
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    ctx = Context()
    rclpy.init(context=ctx, domain_id=200 + os.getpid() % 30)
    yield ctx
    ctx.try_shutdown()


def _topics(context: Context) -> dict[str, Any]:
    return intra_process._TOPICS.get(context, {})


def test_composed_robot_goes_direct_and_releases_on_destroy(context: Context) -> None:
    profile = load_profile(default_profile_path("sim"))
    names = ["perception", "policy", "safety", "actuator_bridge"]
    nodes = create_robot_nodes(profile, names, context=context)
    try:
        topics = _topics(context)
        for topic in ("/fw/perception/scan", "/fw/perception/state", "/fw/perception/goal"):
            assert [c.node.get_name() for c in topics[topic].consumers] == ["policy"], topic
        assert [c.node.get_name() for c in topics["/fw/cmd_vel_raw"].consumers] == ["safety"]
        assert [c.node.get_name() for c in topics["/cmd_vel"].consumers] == ["actuator_bridge"]
    finally:
        for node in nodes:
            node.destroy_node()
    assert _topics(context) == {}, "every producer and consumer released"
