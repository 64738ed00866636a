from __future__ import annotations

from dataclasses import replace

import pybullet as p

from fw_common.profile.sim import RandomisationConfig, SimConfig
from fw_sim.randomisation import draw_randomisation
from fw_sim.world import SimWorld


def test_disabled_gives_nominal_values() -> None:
    draw = draw_randomisation(SimConfig(), 3)
    assert not draw.randomised and draw.mass_scale == 1.0 and draw.actuation_latency == 0.0


def test_draws_within_ranges_reproducible_and_applied() -> None:
    r = replace(RandomisationConfig(), enabled=True)
    config = SimConfig(randomisation=r)
    draws = [draw_randomisation(config, seed) for seed in range(50)]
    assert draws[7] == draw_randomisation(config, 7)
    assert len({d.wheel_friction for d in draws}) == 50
    for d in draws:
        assert r.friction_range[0] <= d.wheel_friction <= r.friction_range[1]
        assert r.mass_scale_range[0] <= d.mass_scale <= r.mass_scale_range[1]
        assert r.lidar_noise_std_range[0] <= d.lidar_noise_std <= r.lidar_noise_std_range[1]
        assert r.lidar_dropout_range[0] <= d.lidar_dropout <= r.lidar_dropout_range[1]
        assert r.imu_noise_scale_range[0] <= d.imu_noise_scale <= r.imu_noise_scale_range[1]
        lat = r.actuation_latency_range
        assert lat[0] <= d.actuation_latency <= lat[1]
    with SimWorld(config) as world:
        world.new_scenario(7)
        assert world.metadata()["randomisation"] == draws[7].to_dict()
        wheel = p.getDynamicsInfo(world.robot, 2, physicsClientId=world.client)
        assert abs(wheel[1] - draws[7].wheel_friction) < 1e-9
