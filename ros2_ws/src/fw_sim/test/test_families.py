"""Scenario families: valid geometry, reachable goals (for the planner too), one scenario per
seed; the walls are real PyBullet bodies the lidar sees; the named seed sets never overlap."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from fw_common.profile import load_profile
from fw_common.profile.sim import ScenarioConfig, SimConfig
from fw_sim.errors import ScenarioError
from fw_sim.expert import ExpertController
from fw_sim.scenario import (
    CONCRETE_FAMILIES,
    FAMILIES,
    Pose2D,
    Scenario,
    distance_to_obstacles,
    family_of,
    generate_scenario,
    seed_set,
)
from fw_sim.seed_sets import SEED_SET_SIZE
from fw_sim.walled import PASSABLE_CLEARANCE, START_CLEARANCE, WALLED_FAMILIES, passable
from fw_sim.world import SimWorld

SIM_PROFILE = Path(__file__).resolve().parents[2] / "fw_bringup/config/profiles/sim.yaml"


def sim_profile() -> SimConfig:
    """The sim profile's section: the Husky with wheel geometry calibrated to this simulator."""
    return load_profile(SIM_PROFILE).sim


SEEDS = range(4)


def config_of(family: str) -> ScenarioConfig:
    return replace(ScenarioConfig(), family=family)


@pytest.mark.parametrize("family", WALLED_FAMILIES)
@pytest.mark.parametrize("seed", SEEDS)
def test_walled_family_geometry_and_reachability(family: str, seed: int) -> None:
    config = config_of(family)
    scenario = generate_scenario(config, seed)
    assert scenario.family == family
    assert scenario == generate_scenario(config, seed), "one scenario per seed"
    assert Scenario.from_json(scenario.to_json()) == scenario
    half = 0.5 * config.arena_size
    for pose in (scenario.start, scenario.goal):
        assert abs(pose.x) < half and abs(pose.y) < half
    ends = np.array([[scenario.start.x, scenario.start.y], [scenario.goal.x, scenario.goal.y]])
    assert distance_to_obstacles(ends, scenario.obstacles).min() >= START_CLEARANCE
    for o in scenario.obstacles:
        assert o.kind in ("box", "cylinder") and o.height == config.obstacle_height
        assert (o.size_x > 0 and o.size_y > 0) if o.kind == "box" else o.radius > 0
    # Enclosed: a point just outside the arena is not reachable from the start.
    outside = Pose2D(half + 0.6, 0.0)
    assert passable(config.arena_size + 4.0, scenario.start, scenario.goal, scenario.obstacles)
    assert not passable(config.arena_size + 4.0, scenario.start, outside, scenario.obstacles)
    # The planner finds the way: descending its field from the start ends at the goal, and
    # the body fits everywhere along it.
    field = ExpertController(scenario).field
    path = field.path_from(scenario.start.x, scenario.start.y, 200.0)
    assert path[-1] == (scenario.goal.x, scenario.goal.y)
    clearance = distance_to_obstacles(np.array(path), scenario.obstacles)
    assert clearance.min() >= PASSABLE_CLEARANCE - field.resolution


@pytest.mark.parametrize("family", WALLED_FAMILIES)
def test_the_straight_line_is_blocked_where_it_should_be(family: str) -> None:
    # What makes a family hard for a reactive controller: in most seeds the straight segment
    # from start to goal runs into an obstacle (clutter: often; the others: by construction).
    blocked = 0
    for seed in range(10):
        s = generate_scenario(config_of(family), seed)
        t = np.linspace(0.0, 1.0, 200)[:, None]
        line = np.array([s.start.x, s.start.y]) + t * np.array(
            [s.goal.x - s.start.x, s.goal.y - s.start.y]
        )
        blocked += distance_to_obstacles(line, s.obstacles).min() < 0.4
    assert blocked >= (4 if family == "clutter" else 8), f"{family}: {blocked}/10 blocked"


def test_mixed_draws_every_family_from_the_seed() -> None:
    drawn = [family_of("mixed", seed) for seed in range(60)]
    assert set(drawn) == set(CONCRETE_FAMILIES)
    assert drawn == [family_of("mixed", seed) for seed in range(60)]
    for seed in range(6):
        scenario = generate_scenario(config_of("mixed"), seed)
        assert scenario.family == drawn[seed]
        assert scenario == generate_scenario(config_of(drawn[seed]), seed)


def test_families_differ_and_open_stays_as_it_was() -> None:
    scenarios = {f: generate_scenario(config_of(f), 5) for f in CONCRETE_FAMILIES}
    assert len({s.to_json() for s in scenarios.values()}) == len(CONCRETE_FAMILIES)
    assert set(FAMILIES) == {*CONCRETE_FAMILIES, "mixed"}
    # The default is the open family, and an old scenario JSON (no family) reads as open.
    assert ScenarioConfig().family == "open"
    old = scenarios["open"].to_dict()
    del old["family"]
    assert Scenario.from_dict(old) == scenarios["open"]


def test_unknown_family_and_impossible_widths_are_errors() -> None:
    with pytest.raises(ScenarioError, match="unknown scenario family"):
        generate_scenario(config_of("maze"), 0)
    with pytest.raises(ValueError):
        replace(ScenarioConfig(), gap_width_range=[1.5, 1.2])
    # Corridors as wide as the arena allows, in a small arena: no layout fits the robot.
    tight = replace(
        ScenarioConfig(),
        family="corridor",
        arena_size=5.0,
        corridor_width_range=[1.5, 1.5],
        min_start_goal_distance=2.0,
    )
    with pytest.raises(ScenarioError, match="corridor layout"):
        generate_scenario(tight, 0)


def test_the_world_builds_the_walls_and_the_lidar_sees_them() -> None:
    config = replace(sim_profile(), scenario=config_of("cul_de_sac"), seed=3)
    with SimWorld(config) as world:
        scenario = world.scenario
        assert scenario.family == "cul_de_sac"
        ranges = world.scan()
        lidar = world.lidar
        angles = lidar.angle_min + lidar.angle_increment * np.arange(ranges.size)
        # Inside the U every direction but the mouth (behind the robot) ends on a wall
        # within a few metres; the back wall stands ahead.
        ahead = np.abs(np.remainder(angles + math.pi, 2 * math.pi) - math.pi) < 0.3
        assert np.nanmax(ranges[ahead]) < 2.5
        assert world.ground_truth().pose2d.x == pytest.approx(scenario.start.x, abs=0.01)
        # Driving ahead ends on the back wall: a contact event from a wall box.
        names = list(world.wheel_joints)
        world.apply_wheel_velocities(names, [6.0] * len(names))
        for _ in range(8):
            world.apply_wheel_velocities(names, [6.0] * len(names))
            world.run(0.5)
        contacts = world.pop_collisions()
        assert contacts and scenario.obstacles[contacts[0].obstacle_index].kind == "box"


def test_seed_sets_are_disjoint_stable_and_checked() -> None:
    sets = {name: seed_set(name, 2000) for name in ("train", "validation", "heldout", "race")}
    all_seeds = [s for seeds in sets.values() for s in seeds]
    assert len(set(all_seeds)) == len(all_seeds) == 8000
    # Asking for more only extends a set, and the largest sets still do not meet.
    assert seed_set("train", 10) == sets["train"][:10]
    assert max(seed_set("train", SEED_SET_SIZE)) < min(seed_set("validation", 1))
    assert seed_set("heldout", 0) == []
    for bad in (-1, SEED_SET_SIZE + 1, 2.5, True):
        with pytest.raises(ValueError):
            seed_set("train", bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown seed set"):
        seed_set("test", 3)  # type: ignore[arg-type]
