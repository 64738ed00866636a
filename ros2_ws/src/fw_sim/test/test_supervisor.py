"""The HG-DAgger supervisor: takes over before a collision course or when the policy makes no
progress, hands back with hysteresis, and its labels are the expert's commands."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from fw_common.kinematics import SkidSteerKinematics
from fw_common.profile import load_profile
from fw_common.profile.body import FootprintBox
from fw_common.profile.sim import ScenarioConfig, SimConfig, SupervisorConfig
from fw_sim.expert import ExpertController
from fw_sim.layout import Obstacle, Pose2D, Scenario, distance_to_obstacles
from fw_sim.scenario import generate_scenario
from fw_sim.supervisor import ExpertSupervisor, body_outline
from fw_sim.world import SimWorld

SIM_PROFILE = Path(__file__).resolve().parents[2] / "fw_bringup/config/profiles/sim.yaml"


def sim_profile() -> SimConfig:
    """The sim profile's section: the Husky with wheel geometry calibrated to this simulator."""
    return load_profile(SIM_PROFILE).sim


S = 1_000_000_000  # ns

#: A wall 2 m ahead of a robot at the origin facing +x; the goal beyond it.
WALL = Obstacle("box", 2.0, 0.0, 1.0, 0.0, 0.2, 4.0)
SCENARIO = Scenario(
    seed=0, arena_size=10.0, start=Pose2D(0.0, 0.0, 0.0), goal=Pose2D(4.0, 0.0), obstacles=(WALL,)
)
CONFIG = SupervisorConfig(mode="supervise")


def test_takes_over_on_a_collision_course_and_labels_are_the_experts() -> None:
    supervisor = ExpertSupervisor(SCENARIO, CONFIG)
    expert = ExpertController(SCENARIO)
    far = Pose2D(-1.0, 0.0, 0.0)  # 2.4 m from the wall's face: 1 s at 0.8 m/s stays clear
    decision = supervisor.decide(far, 0.8, 0.0, supervisor.body_clearance(far), 0)
    assert not decision.take_over and decision.reason == ""
    command = expert.command(far)
    assert (decision.label_linear, decision.label_angular) == (command.linear, command.angular)
    near = Pose2D(0.6, 0.0, 0.0)  # the bumper 0.8 m from the wall: 1 s at 0.8 m/s hits it
    decision = supervisor.decide(near, 0.8, 0.0, supervisor.body_clearance(near), S // 20)
    assert decision.take_over and decision.reason == "clearance"
    command = expert.command(near)
    assert (decision.label_linear, decision.label_angular) == (command.linear, command.angular)
    # Turning away from the wall at the same spot is no collision course.
    fresh = ExpertSupervisor(SCENARIO, CONFIG)
    assert not fresh.decide(near, 0.0, 1.0, fresh.body_clearance(near), 0).take_over


def test_hands_back_with_hysteresis() -> None:
    supervisor = ExpertSupervisor(SCENARIO, CONFIG)
    near = Pose2D(0.6, 0.0, 0.0)
    clear = supervisor.body_clearance(near)
    assert supervisor.decide(near, 0.8, 0.0, clear, 0).take_over
    # A safe command (turning in place) before min_takeover: the expert keeps control.
    assert supervisor.decide(near, 0.0, 0.5, clear, S // 2).take_over
    # After it, a command that is only just above the take-over threshold: still in control.
    slow = 0.55  # m/s toward the wall: the rollout ends 0.25 m from it
    predicted = supervisor.predicted_clearance(near, slow, 0.0)
    assert CONFIG.clearance <= predicted < CONFIG.clearance + CONFIG.hand_back_margin
    assert supervisor.decide(near, slow, 0.0, clear, 2 * S).take_over
    # A safe command after min_takeover: handed back.
    decision = supervisor.decide(near, 0.0, 0.5, clear, 2 * S + S // 20)
    assert not decision.take_over and decision.reason == ""


def test_a_measured_clearance_below_the_threshold_takes_over() -> None:
    supervisor = ExpertSupervisor(SCENARIO, CONFIG)
    far = Pose2D(-1.0, 0.0, 0.0)
    assert supervisor.decide(far, 0.0, 0.0, 0.05, 0).reason == "clearance"
    # Unknown (NaN) measurements leave the prediction alone; a NaN command is a collision course.
    fresh = ExpertSupervisor(SCENARIO, CONFIG)
    assert not fresh.decide(far, 0.0, 0.0, math.nan, 0).take_over
    assert fresh.decide(far, math.nan, 0.0, math.nan, S).reason == "clearance"


def test_no_progress_takes_over_and_hands_back_after_the_expert_made_progress() -> None:
    open_scenario = replace(SCENARIO, obstacles=())
    config = replace(CONFIG, progress_window=3.0, hand_back_progress=1.0, min_takeover=0.5)
    supervisor = ExpertSupervisor(open_scenario, config)
    pose = Pose2D(0.0, 0.0, 0.0)
    t = 0
    while t < 3 * S:  # the policy sits still
        assert not supervisor.decide(pose, 0.0, 0.0, math.nan, t).take_over
        t += S // 20
    decision = supervisor.decide(pose, 0.0, 0.0, math.nan, t)
    assert decision.take_over and decision.reason == "no_progress"
    assert decision.label_linear > 0.0  # the label drives toward the goal
    # Held until the expert has brought the robot hand_back_progress closer, however safe the
    # policy's command.
    t += S
    assert supervisor.decide(Pose2D(0.5, 0.0, 0.0), 0.0, 0.0, math.nan, t).take_over
    decision = supervisor.decide(Pose2D(1.2, 0.0, 0.0), 0.0, 0.0, math.nan, t + S // 20)
    assert not decision.take_over
    # At the goal the expert never takes over, however long the robot rests there.
    at_goal = Pose2D(4.0, 0.0, 0.0)
    for k in range(100):
        assert not supervisor.decide(at_goal, 0.0, 0.0, math.nan, t + k * S).take_over


def _drive(world: SimWorld, supervisor: ExpertSupervisor | None, seconds: float) -> int:
    """A policy that only drives straight ahead, gated by ``supervisor`` at 20 Hz; returns the
    number of contacts with obstacles."""
    geometry = world.config.robot.wheels
    kinematics = SkidSteerKinematics.from_geometry(geometry)
    names = list(geometry.left_joints) + list(geometry.right_joints)
    world.reset()
    took_over = False
    for _ in range(round(seconds * 20)):
        pose = world.ground_truth().pose2d
        linear, angular = 0.8, 0.0
        if supervisor is not None:
            d = supervisor.decide(
                pose, linear, angular, supervisor.body_clearance(pose), world.sim_time_ns
            )
            if d.take_over:
                took_over = True
                linear, angular = d.label_linear, d.label_angular
        wheels = kinematics.wheel_speeds(linear, angular)
        world.apply_wheel_velocities(
            names, [wheels.left] * len(geometry.left_joints) + [wheels.right] * 2
        )
        world.run(0.05)
    assert supervisor is None or took_over
    return len(world.pop_collisions())


@pytest.mark.parametrize("family", ["cul_de_sac", "narrow_gap"])
def test_in_physics_the_supervisor_keeps_a_blind_policy_off_the_walls(family: str) -> None:
    config = replace(sim_profile(), scenario=replace(ScenarioConfig(), family=family), seed=1)
    with SimWorld(config) as world:
        # The blind policy alone runs into something (so the check below can fail) ...
        assert _drive(world, None, 12.0) > 0
        # ... and never with the expert watching.
        supervisor = ExpertSupervisor(world.scenario, config.supervisor)
        assert _drive(world, supervisor, 12.0) == 0


@pytest.mark.parametrize("family", ["clutter", "corridor"])
def test_body_clearance_is_a_close_lower_bound_of_the_exact_distance(family: str) -> None:
    scenario = generate_scenario(replace(ScenarioConfig(), family=family), 2)
    supervisor = ExpertSupervisor(scenario, CONFIG)
    outline = body_outline(FootprintBox())
    rng = np.random.default_rng(0)
    for x, y, yaw in rng.uniform([-4, -4, -3], [4, 4, 3], size=(50, 3)):
        c, s = math.cos(yaw), math.sin(yaw)
        body = np.stack(
            [x + c * outline[:, 0] - s * outline[:, 1], y + s * outline[:, 0] + c * outline[:, 1]],
            axis=1,
        )
        exact = float(distance_to_obstacles(body, scenario.obstacles).min())
        looked_up = supervisor.body_clearance(Pose2D(x, y, yaw))
        assert looked_up <= exact + 1e-9
        assert looked_up >= exact - 0.15  # a cell diagonal (0.1 m grid)
