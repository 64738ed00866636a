from __future__ import annotations

import time
from pathlib import Path

from fw_common.profile import load_profile
from fw_sim.episode import run_expert_episode
from fw_sim.scenario import Obstacle, Pose2D, Scenario
from fw_sim.world import SimWorld

from .conftest import empty_config

NAMES = ["front_left_wheel", "front_right_wheel", "rear_left_wheel", "rear_right_wheel"]
#: The sim profile: its robot.wheels are the Husky's geometry calibrated against this simulator,
#: which the headless episode's kinematics use (the datasheet defaults would under-steer).
SIM_PROFILE = Path(__file__).resolve().parents[2] / "fw_bringup/config/profiles/sim.yaml"


def test_driving_into_a_box_reports_one_contact_begin() -> None:
    box = Obstacle(kind="box", x=2.5, y=0.0, height=1.0, size_x=1.0, size_y=1.0)
    scenario = Scenario(
        seed=0,
        arena_size=10.0,
        start=Pose2D(0.0, 0.0, 0.0),
        goal=Pose2D(4.0, 0.0),
        obstacles=(box,),
    )
    with SimWorld(empty_config()) as world:
        world.load_scenario(scenario)
        for _ in range(40):
            world.apply_wheel_velocities(NAMES, [5.0] * 4)
            world.run(0.1)
        events = world.pop_collisions()
        assert len(events) == 1
        assert events[0].obstacle_index == 0
        assert 1.9 < events[0].position[0] < 2.1
        assert world.touching == frozenset({0})


def test_expert_reaches_the_goal_without_collision() -> None:
    started = time.monotonic()
    successes = []
    with SimWorld(load_profile(SIM_PROFILE).sim) as world:
        for seed in range(10):
            world.new_scenario(seed)
            result = run_expert_episode(world, time_limit=60.0)
            successes.append(result.reached and not result.collisions)
    assert sum(successes) >= 9, successes
    assert time.monotonic() - started < 60.0
