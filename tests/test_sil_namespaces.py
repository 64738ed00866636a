"""Two namespaced simulated robots on one host do not see each other's commands."""

from __future__ import annotations

import pytest

from support.robot_view import RobotView

pytestmark = pytest.mark.system


def test_two_robots_are_isolated(start_robot, probe) -> None:  # type: ignore[no-untyped-def]
    one = start_robot(namespace="husky_1", seed=1, nodes="sim,actuator_bridge")
    two = start_robot(namespace="husky_2", seed=2, nodes="sim,actuator_bridge")
    r1, r2 = RobotView(probe, "husky_1"), RobotView(probe, "husky_2")
    r1.wait_ready()
    r2.wait_ready()
    assert probe.wait_for_subscribers(r1.cmd_vel)
    # Nothing but the namespaced topics: no robot publishes on the root names.
    types = probe.topic_types()
    assert "/husky_1/scan" in types and "/husky_2/scan" in types
    assert probe.node.count_publishers("/scan") == 0
    assert probe.node.count_subscribers("/cmd_vel") == 0
    start1, start2 = r1.pose(), r2.pose()
    r1.drive(0.6, 0.0, 2.0)
    assert r1.pose().distance_to(start1) > 0.5
    assert r2.pose().distance_to(start2) < 0.02
    # Each robot runs on its own clock: both advance.
    r2.wait_sim(0.5)
    one.assert_clean_exit()
    two.assert_clean_exit()
