from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pybullet as p

from fw_common.profile.body import LaserMount, RobotBody
from fw_common.profile.sim import ImuConfig, LidarConfig, SimBaseConfig
from fw_sim.imu import GRAVITY
from fw_sim.world import SimWorld

from .conftest import empty_config


def _box_ahead(world: SimWorld, distance: float) -> None:
    """A 1 m cube whose near face is ``distance`` m ahead of the laser (robot at the origin)."""
    shape = p.createCollisionShape(
        p.GEOM_BOX, halfExtents=[0.5, 0.5, 0.5], physicsClientId=world.client
    )
    p.createMultiBody(
        0.0, shape, -1, [0.2 + distance + 0.5, 0.0, 0.5], physicsClientId=world.client
    )


def _at_origin(world: SimWorld) -> None:
    p.resetBasePositionAndOrientation(
        world.robot, [0, 0, 0], [0, 0, 0, 1], physicsClientId=world.client
    )
    world.run(0.5)


def test_lidar_range_to_known_box() -> None:
    config = empty_config(lidar=replace(LidarConfig(), noise_std=0.0))
    with SimWorld(config) as world:
        _at_origin(world)
        _box_ahead(world, 3.0)
        ranges = world.scan()
        assert ranges.dtype == np.float32 and ranges.shape == (360,)
        forward = round((0.0 - world.lidar.angle_min) / world.lidar.angle_increment)
        assert abs(ranges[forward] - 3.0) < 0.02
        # Beams pointing away see nothing: +inf per REP-117; the robot body is never hit.
        assert np.isposinf(ranges[0])  # angle_min = -pi, straight back
        assert np.isfinite(ranges).sum() < 60


def test_lidar_sits_where_the_robot_body_mounts_it() -> None:
    """The sim casts from ``robot.laser``: 0.5 m further forward and turned a quarter turn to
    the left, the box 3 m ahead of the default mount is 2.5 m away on the beam at -90°."""
    mount = LaserMount(x=0.7, y=0.0, z=0.3, yaw=math.pi / 2)
    config = empty_config(
        lidar=replace(LidarConfig(), noise_std=0.0), robot=replace(RobotBody(), laser=mount)
    )
    with SimWorld(config) as world:
        _at_origin(world)
        _box_ahead(world, 3.0)
        ranges = world.scan()
        right = round((-math.pi / 2 - world.lidar.angle_min) / world.lidar.angle_increment)
        assert abs(ranges[right] - 2.5) < 0.02
        forward = round(-world.lidar.angle_min / world.lidar.angle_increment)
        assert np.isposinf(ranges[forward])


def test_lidar_noise_dropout_and_min_range() -> None:
    config = empty_config(
        lidar=replace(LidarConfig(), noise_std=0.05, dropout_probability=0.5, range_min=4.0)
    )
    with SimWorld(config) as world:
        _at_origin(world)
        _box_ahead(world, 3.0)
        ranges = world.scan()
        assert 100 < np.isnan(ranges).sum() < 260
        forward = round(-world.lidar.angle_min / world.lidar.angle_increment)
        window = ranges[forward - 5 : forward + 6]
        window = window[~np.isnan(window)]
        assert np.all(np.isneginf(window))  # closer than range_min


def test_imu_at_rest_reads_gravity_with_configured_noise() -> None:
    imu = replace(ImuConfig(), accel_noise_std=0.05, gyro_noise_std=0.01, gyro_bias=[0, 0, 0.02])
    with SimWorld(empty_config(imu=imu)) as world:
        _at_origin(world)
        samples = []
        for _ in range(300):
            for _ in range(2):
                world.step()
            samples.append(world.imu())
        acc = np.array([s.linear_acceleration for s in samples[1:]])
        gyro = np.array([s.angular_velocity for s in samples[1:]])
        # Specific force: gravity's magnitude, along +z up to the chassis' small resting tilt.
        assert abs(np.linalg.norm(acc.mean(axis=0)) - GRAVITY) < 0.02
        assert acc[:, 2].mean() > GRAVITY - 0.02
        assert np.all(np.abs(acc[:, :2].mean(axis=0)) < 0.05)
        assert abs(acc[:, 2].std() - 0.05) < 0.01
        assert abs(gyro[:, 2].mean() - 0.02) < 0.003
        assert abs(gyro[:, 0].std() - 0.01) < 0.002
        _qx, _qy, _qz, qw = samples[-1].orientation
        assert abs(abs(qw) - 1.0) < 1e-3


def test_imu_noise_replays_after_reset_whatever_came_before() -> None:
    imu = replace(ImuConfig(), accel_noise_std=0.05, gyro_noise_std=0.01)
    with SimWorld(empty_config(imu=imu)) as fresh, SimWorld(empty_config(imu=imu)) as used:
        for _ in range(37):  # part of a block of noise drawn ahead
            used.step()
            used.imu()
        fresh.reset()
        used.reset()
        first = [fresh.imu() for _ in range(3)]
        assert [used.imu() for _ in range(3)] == first
        assert len({r.angular_velocity for r in first}) == 3, "noise, not a constant"


def test_encoders_follow_wheel_commands(empty_world: SimWorld) -> None:
    world = empty_world
    before = world.joint_states()
    world.apply_wheel_velocities(list(world.wheel_joints), [3.0, 3.0, 3.0, 3.0])
    world.run(1.0)
    after = world.joint_states()
    assert after.names == world.wheel_joints
    for p0, p1, v in zip(before.positions, after.positions, after.velocities, strict=True):
        assert p1 - p0 > 2.0
        assert abs(v - 3.0) < 0.2
    truth = world.ground_truth()
    assert truth.linear_velocity[0] > 0.4  # drives forward in base_link


def test_robot_config_limits_applied() -> None:
    config = empty_config(base=replace(SimBaseConfig(), max_wheel_speed=2.0))
    with SimWorld(config) as world:
        world.apply_wheel_velocities(["front_left_wheel"], [50.0])
        world.step()
        assert math.isclose(world.wheel_targets[0], 2.0)
