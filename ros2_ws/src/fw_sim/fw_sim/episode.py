"""Headless episodes: drive a :class:`~fw_sim.world.SimWorld` with the expert, no ROS.

Used by the tests, the demo and, later, demonstration collection and evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fw_common.kinematics import SkidSteerKinematics
from fw_sim.contacts import ContactEvent
from fw_sim.expert import ExpertController
from fw_sim.world import Due, SimWorld

__all__ = ["EpisodeResult", "run_expert_episode"]


@dataclass
class EpisodeResult:
    """Outcome of one episode: goal reached, sim duration (s), path length (m), contacts."""

    seed: int
    reached: bool
    duration: float
    path_length: float
    collisions: list[ContactEvent] = field(default_factory=list)


def run_expert_episode(
    world: SimWorld,
    *,
    time_limit: float = 60.0,
    control_rate: float = 20.0,
    kinematics: SkidSteerKinematics | None = None,
    expert: ExpertController | None = None,
) -> EpisodeResult:
    """Reset ``world`` and drive its scenario with the expert until the goal or ``time_limit``
    (s, sim time); commands are sent at ``control_rate`` (Hz) as wheel velocities.

    ``kinematics`` turns the expert's twists into wheel speeds; by default the robot's own
    (``robot.wheels`` of the world's configuration), as the actuator bridge does. For the
    PyBullet Husky that is the sim profile's calibrated geometry
    (``bench/measure_husky_kinematics.py``), not the datasheet's.
    """
    world.reset()
    expert = expert or ExpertController(world.scenario, footprint=world.config.robot.footprint)
    geometry = world.config.robot.wheels
    kinematics = kinematics or SkidSteerKinematics.from_geometry(geometry)
    left_joints, right_joints = list(geometry.left_joints), list(geometry.right_joints)
    names = left_joints + right_joints
    steps_per_command = max(1, round(world.physics_rate / control_rate))
    start_ns = world.sim_time_ns
    limit_ns = start_ns + round(time_limit * 1e9)
    collisions: list[ContactEvent] = []
    due = Due()
    path_length = 0.0
    pose = world.ground_truth().pose2d
    reached = False
    while world.sim_time_ns < limit_ns:
        command = expert.command(pose)
        if command.reached:
            reached = True
            break
        wheels = kinematics.wheel_speeds(command.linear, command.angular)
        left, right = wheels.left, wheels.right
        world.apply_wheel_velocities(
            names, [left] * len(left_joints) + [right] * len(right_joints)
        )
        for _ in range(steps_per_command):
            world.step(due)
        collisions.extend(world.pop_collisions())
        new_pose = world.ground_truth().pose2d
        path_length += ((new_pose.x - pose.x) ** 2 + (new_pose.y - pose.y) ** 2) ** 0.5
        pose = new_pose
    world.apply_wheel_velocities(names, [0.0] * len(names))
    return EpisodeResult(
        seed=world.scenario.seed,
        reached=reached,
        duration=(world.sim_time_ns - start_ns) * 1e-9,
        path_length=path_length,
        collisions=collisions,
    )
