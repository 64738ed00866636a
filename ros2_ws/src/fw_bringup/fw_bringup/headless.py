"""A simulated robot without ROS: the PyBullet world and the robot loop, wired as the sim node
and the robot's nodes are wired over topics.

Each physics step, the sensors the world says are due go into the loop with the values and
stamps the sim node would publish (``scan``, ``imu``, ``joint_states``), the loop's timers run,
and its wheel commands go back to the world as ``fw/joint_commands`` would. This is the fast path
of evaluation and of the tests: the same decisions as the node graph, many times faster, and
deterministic for a seed.

Sensor latency (``scan_latency``) holds each scan back before the loop sees it, stamped with the
time it was taken, as a slow driver or a loaded network delivers it; the actuation latency is the
world's own (``sim.base.actuation_latency`` and its randomisation). Clearance to the obstacles is
judged from ground truth with the profile's footprint (:mod:`fw_bringup.clearance`), which the
robot never sees.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from fw_bringup.clearance import body_box, clearance
from fw_bringup.robot_loop import LoopOutput, RobotLoop
from fw_common import frames
from fw_common.laser_scan import LaserScanData
from fw_common.planar import compose, inverse
from fw_sim.world import Due, SimWorld

__all__ = [
    "AT_REST_SPEED",
    "REACHED_RADIUS",
    "HeadlessEpisode",
    "goal_in_odom",
    "run_headless_episode",
    "scan_from_world",
]

#: Ground truth within this distance of the goal, at rest, counts as reached: the policy stops
#: within its own tolerance of the goal it estimates from odometry, which drifts a little.
REACHED_RADIUS = 0.6
#: Ground-truth planar speed below which the robot is at rest (m/s): with REACHED_RADIUS, what
#: every judge of "reached" (headless runs, the mission runner, the RL stepper) uses.
AT_REST_SPEED = 0.05


@dataclass
class HeadlessEpisode:
    """The outcome of one episode: sim time (s), path length (m), contacts and interventions."""

    seed: int
    reached: bool = False
    duration: float = 0.0
    path_length: float = 0.0
    collisions: int = 0
    #: Safety events by kind (``fw/safety/events``).
    interventions: dict[str, int] = field(default_factory=dict)
    #: Ground-truth poses (x, y) in the world, one per scan.
    path: list[tuple[float, float]] = field(default_factory=list)
    #: Smallest free distance between the body and an obstacle (m), sampled at the
    #: ground-truth rate; +inf in an empty world.
    min_clearance: float = math.inf
    #: The scan latency the episode ran with (s).
    scan_latency: float = 0.0


def goal_in_odom(world: SimWorld) -> tuple[float, float, float]:
    """The scenario's goal in ``odom``, whose origin is where the robot starts (the bridge's
    odometry starts at zero), as the goal a person would send the robot."""
    start, goal = world.scenario.start, world.scenario.goal
    return compose(inverse((start.x, start.y, start.yaw)), (goal.x, goal.y, 0.0))


def scan_from_world(world: SimWorld, now_ns: int) -> LaserScanData:
    """The scan ``world`` takes now, as the sim node publishes it on ``scan``."""
    lidar = world.lidar
    return LaserScanData(
        stamp_ns=now_ns,
        frame_id=frames.LASER,
        angle_min=lidar.angle_min,
        angle_max=lidar.angle_max,
        angle_increment=lidar.angle_increment,
        time_increment=0.0,
        scan_time=1.0 / world.config.lidar.rate,
        range_min=lidar.range_min,
        range_max=lidar.range_max,
        ranges=world.scan(),
    )


def run_headless_episode(
    world: SimWorld,
    loop: RobotLoop,
    *,
    time_limit: float = 60.0,
    on_output: Callable[[LoopOutput], None] | None = None,
    scan_latency: float = 0.0,
) -> HeadlessEpisode:
    """Reset ``world``, give ``loop`` the scenario's goal, and run until the robot rests at the
    goal or ``time_limit`` (s of sim time) passes. ``on_output`` sees everything the loop
    publishes, in order. Each scan reaches the loop ``scan_latency`` (s of sim time, rounded up
    to physics steps) after it was taken."""
    if not (math.isfinite(scan_latency) and scan_latency >= 0.0):
        raise ValueError(f"scan_latency must be finite and >= 0, not {scan_latency!r}")
    world.reset()
    episode = HeadlessEpisode(seed=world.scenario.seed, scan_latency=scan_latency)
    loop.goal(frames.ODOM, *goal_in_odom(world))
    goal = world.scenario.goal
    start_ns = world.sim_time_ns
    limit_ns = start_ns + round(time_limit * 1e9)
    due = Due()
    truth = world.ground_truth()
    last_xy = truth.position[0], truth.position[1]
    latency_ns = round(scan_latency * 1e9)
    #: Scans taken but not yet delivered: (delivery time (ns), scan).
    in_flight: deque[tuple[int, LaserScanData]] = deque()
    footprint = world.config.robot.footprint
    obstacles = world.scenario.obstacles

    def handle(out: LoopOutput) -> None:
        for result in out.safety:
            for event in result.events:
                episode.interventions[event.kind] = episode.interventions.get(event.kind, 0) + 1
        if out.wheels is not None:
            world.apply_wheel_velocities(out.wheels.joint_names, out.wheels.velocities)
        if on_output is not None:
            on_output(out)

    while world.sim_time_ns < limit_ns:
        world.step(due)
        now = world.sim_time_ns
        if due.joint_states:
            joints = world.joint_states()
            handle(loop.joint_states(joints.names, joints.positions, now, now))
        if due.imu:
            imu = world.imu()
            handle(loop.imu(imu.angular_velocity[2], imu.orientation, now, now))
        if due.scan:
            in_flight.append((now + latency_ns, scan_from_world(world, now)))
        while in_flight and in_flight[0][0] <= now:
            handle(loop.scan(in_flight.popleft()[1], now))
        if due.ground_truth and obstacles:
            pose = world.ground_truth().pose2d
            gap = clearance(body_box(footprint, pose.x, pose.y, pose.yaw), obstacles)
            episode.min_clearance = min(episode.min_clearance, gap)
        if due.scan:
            truth = world.ground_truth()
            xy = truth.position[0], truth.position[1]
            episode.path.append(xy)
            episode.path_length += math.dist(xy, last_xy)
            last_xy = xy
            speed = math.hypot(truth.linear_velocity[0], truth.linear_velocity[1])
            if math.dist(xy, (goal.x, goal.y)) < REACHED_RADIUS and speed < AT_REST_SPEED:
                episode.reached = True
                break
        handle(loop.tick(now))
        episode.collisions += len(world.pop_collisions())
    world.apply_wheel_velocities(world.wheel_joints, [0.0] * len(world.wheel_joints))
    episode.duration = (world.sim_time_ns - start_ns) * 1e-9
    return episode
