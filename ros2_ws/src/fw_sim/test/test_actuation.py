from __future__ import annotations

from dataclasses import replace

import pytest

from fw_common.profile.sim import SimBaseConfig
from fw_sim.actuation import WheelCommandGate
from fw_sim.world import SimWorld

from .conftest import empty_config

NAMES = ["front_left_wheel", "front_right_wheel", "rear_left_wheel", "rear_right_wheel"]


@pytest.mark.parametrize(
    ("names", "velocities", "reason"),
    [
        ([], [], "empty"),
        ([*NAMES, "front_left_wheel"], [1.0] * 5, "oversize"),
        (["front_left_wheel", "arm"], [1.0, 1.0], "unknown"),
        (["front_left_wheel"], [float("nan")], "non-finite"),
        (["front_left_wheel"], [float("inf")], "non-finite"),
        (["front_left_wheel", "front_left_wheel"], [1.0, 1.0], "more than once"),
        (NAMES, [1.0], "velocities"),
    ],
)
def test_bad_commands_are_refused_and_never_move_the_robot(
    empty_world: SimWorld, names: list[str], velocities: list[float], reason: str
) -> None:
    world = empty_world
    world.run(0.3)
    start = world.ground_truth().position
    result = world.apply_wheel_velocities(names, velocities)
    assert not result.accepted and reason in result.reason
    world.run(1.0)
    assert world.wheel_targets == (0.0, 0.0, 0.0, 0.0)
    end = world.ground_truth().position
    assert abs(end[0] - start[0]) < 0.01 and abs(end[1] - start[1]) < 0.01


def test_command_timeout_stops_the_wheels() -> None:
    config = empty_config(base=replace(SimBaseConfig(), command_timeout=0.5))
    with SimWorld(config) as world:
        assert world.apply_wheel_velocities(NAMES, [4.0] * 4).accepted
        world.run(0.4)
        assert world.wheel_targets == (4.0,) * 4
        world.run(0.2)
        assert world.wheel_targets == (0.0,) * 4
        world.run(0.5)
        assert all(abs(v) < 0.2 for v in world.joint_states().velocities)


def test_actuation_latency_delays_commands() -> None:
    gate = WheelCommandGate(NAMES, max_speed=20.0, latency_ns=50_000_000, timeout_ns=10**9)
    assert gate.submit(NAMES, [1.0] * 4, now_ns=0).accepted
    assert gate.targets(49_000_000) == [0.0] * 4
    assert gate.targets(50_000_000) == [1.0] * 4
    config = empty_config(base=replace(SimBaseConfig(), actuation_latency=0.1))
    with SimWorld(config) as world:
        world.apply_wheel_velocities(NAMES, [2.0] * 4)
        world.run(0.09)
        assert world.wheel_targets == (0.0,) * 4
        world.run(0.02)
        assert world.wheel_targets == (2.0,) * 4


def test_wheel_joints_are_the_robot_bodys_in_urdf_order(empty_world: SimWorld) -> None:
    """The wheels are ``robot.wheels`` (left, then right); joint_states lists them in the
    URDF's order, as a driver reporting its joints does."""
    wheels = empty_world.config.robot.wheels
    assert set(empty_world.wheel_joints) == set(wheels.joints)
    assert empty_world.wheel_joints == tuple(NAMES)
