"""The robot loop on plain values: the decisions of the node graph, with no ROS below it."""

from __future__ import annotations

import ast
import dataclasses
import math
import subprocess
import sys

import numpy as np
import pytest

from fw_bringup.headless import run_headless_episode
from fw_bringup.node_parameters import default_profile_path
from fw_bringup.robot_loop import LoopOutput, PendingDecision, RobotLoop
from fw_common.laser_scan import LaserScanData
from fw_common.profile import RobotProfile, load_profile
from fw_sim.world import SimWorld

MS = 1_000_000
BEAMS = 360


@pytest.fixture(scope="module")
def profile() -> RobotProfile:
    return load_profile(default_profile_path("sim"))


def free_scan(stamp_ns: int, distance: float = 8.0) -> LaserScanData:
    increment = 2 * math.pi / BEAMS
    return LaserScanData(
        stamp_ns=stamp_ns,
        frame_id="laser",
        angle_min=-math.pi,
        angle_max=math.pi - increment,
        angle_increment=increment,
        time_increment=0.0,
        scan_time=0.1,
        range_min=0.1,
        range_max=30.0,
        ranges=np.full(BEAMS, distance, dtype=np.float32),
    )


def feed_sensors(loop: RobotLoop, now: int, wheel_angle: float = 0.0) -> None:
    names = loop.bridge.joint_names
    loop.joint_states(names, [wheel_angle] * len(names), now, now)
    loop.imu(0.0, (0.0, 0.0, 0.0, 1.0), now, now)


def test_no_rclpy_in_the_loops_import_closure() -> None:
    """The loop runs on hosts without ROS (the cloud): importing it must not import rclpy."""
    code = (
        "import sys, fw_bringup.robot_loop, fw_bringup.headless; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rclpy'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert ast.literal_eval(out.strip()) == []


def test_a_scan_with_fresh_inputs_and_a_goal_drives_toward_the_goal(
    profile: RobotProfile,
) -> None:
    loop = RobotLoop(profile)
    assert loop.goal("odom", 5.0, 0.0, 0.0) is None
    wheels = []
    for step in range(40):
        now = step * 50 * MS
        feed_sensors(loop, now)
        out = loop.scan(free_scan(now), now)
        assert out.cleaned_scan is not None and out.cleaned_scan.stamp_ns == now
        assert out.policy_command is not None and out.policy_command.stamp_ns == now
        assert out.policy_command.reason is None, out.policy_command.reason
        assert out.policy_command.observation is not None
        assert out.policy_command.observation.shape == (loop.policy.spec.size,)
        # The command goes down the chain at once: safety steps on it, stamped with the scan.
        assert [r.stamp_ns for r in out.safety] == [now]
        tick = loop.tick(now)
        if tick.wheels is not None:
            wheels.append(tick.wheels)
    assert out.policy_command.linear > 0.3 and abs(out.policy_command.angular) < 0.2
    assert out.safety[-1].twist.linear > 0.3
    # Both sides forward, ramping up within the bridge's acceleration limit.
    assert wheels[-1].velocities[0] > 0 and wheels[-1].velocities[-1] > 0
    assert not wheels[-1].watchdog_active


def test_a_stale_state_gives_a_zero_command_with_the_reason(profile: RobotProfile) -> None:
    loop = RobotLoop(profile)
    loop.goal("odom", 5.0, 0.0, 0.0)
    feed_sensors(loop, 0)
    out = loop.scan(free_scan(2000 * MS), 2000 * MS)
    assert out.policy_command is not None
    assert (out.policy_command.linear, out.policy_command.angular) == (0.0, 0.0)
    assert out.policy_command.reason == "state is stale"
    # Safety's watchdogs see the same: nothing moves.
    assert out.safety[-1].twist.linear == 0.0 and out.safety[-1].state == "stopped"


def test_bad_inputs_are_refused_with_their_reason(profile: RobotProfile) -> None:
    loop = RobotLoop(profile)
    assert loop.goal("map", 1.0, 0.0, 0.0) == "goal frame 'map' is not 'odom'"
    assert loop.goal("odom", math.nan, 0.0, 0.0) == "non-finite goal"
    out = loop.joint_states(["front_left_wheel"], [0.0], 0, 0)
    assert out.odometry is None and "lacks wheel joints" in out.refused[0]
    out = loop.scan(free_scan(0).replace(angle_increment=math.nan), 0)
    assert out.cleaned_scan is None and out.policy_command is None
    assert any(r.startswith("perception scan: scan angles must be finite") for r in out.refused)
    out = loop.teleop(math.nan, 0.0, "", 0, 0)
    assert out.refused == ["teleop: non-finite twist (linear.x=nan, angular.z=0.0)"]
    assert out.safety[-1].twist.linear == 0.0


def test_the_headless_robot_reaches_its_goal_with_the_classic_policy(
    profile: RobotProfile,
) -> None:
    sim = dataclasses.replace(profile.sim, seed=3)
    episodes = []
    for _ in range(2):
        with SimWorld(sim, gui=False) as world:
            episodes.append(run_headless_episode(world, RobotLoop(profile), time_limit=60.0))
    episode, again = episodes
    assert episode.reached, episode
    assert episode.collisions == 0
    assert 3.0 < episode.path_length < 20.0
    # Deterministic for a seed: a fresh world and loop give the same episode.
    assert again == episode


def test_scan_latency_delays_what_the_loop_sees_and_clearance_is_measured(
    profile: RobotProfile,
) -> None:
    sim = dataclasses.replace(profile.sim, seed=0)
    ages: dict[float, list[int]] = {0.0: [], 0.1: []}
    with SimWorld(sim, gui=False) as world:
        episodes = {}
        for latency, seen in ages.items():

            def on_output(out: LoopOutput, seen: list[int] = seen) -> None:
                if out.cleaned_scan is not None:
                    seen.append(world.sim_time_ns - out.cleaned_scan.stamp_ns)

            loop = RobotLoop(profile)
            episodes[latency] = run_headless_episode(
                world, loop, time_limit=8.0, scan_latency=latency, on_output=on_output
            )
        with pytest.raises(ValueError, match="scan_latency"):
            run_headless_episode(world, RobotLoop(profile), scan_latency=math.nan)
    prompt, late = episodes[0.0], episodes[0.1]
    # Each scan reaches the loop when it is taken, or 0.1 s later (to the next physics step),
    # keeping the stamp of when it was taken.
    assert ages[0.0] and set(ages[0.0]) == {0}
    step_ns = 1e9 / sim.physics_rate
    assert ages[0.1] and all(100 * MS <= age < 100 * MS + step_ns for age in ages[0.1])
    assert late.scan_latency == 0.1 and prompt.scan_latency == 0.0
    # Seed 0 has obstacles: clearance is a finite, positive distance.
    assert 0.0 < prompt.min_clearance < 10.0 and 0.0 < late.min_clearance < 10.0


def test_a_scan_in_halves_decides_what_scan_decides(profile: RobotProfile) -> None:
    """``scan_to_decision`` then ``finish_decision`` with the policy's own action is ``scan``;
    an action refused (a ``ValueError``) is a zero command with the reason, as from ``scan``;
    a gated scan asks nothing."""
    whole, halves = RobotLoop(profile), RobotLoop(profile)
    for loop in (whole, halves):
        assert loop.goal("odom", 5.0, 0.0, 0.0) is None
    for step in range(10):
        now = step * 50 * MS
        for loop in (whole, halves):
            feed_sensors(loop, now)
        expected = whole.scan(free_scan(now), now)
        pending = halves.scan_to_decision(free_scan(now), now)
        assert isinstance(pending, PendingDecision)
        assert pending.out.policy_command is None and pending.out.safety == []
        assert expected.policy_command is not None
        assert np.array_equal(pending.inputs.observation, expected.policy_command.observation)
        got = halves.finish_decision(pending, halves.policy.act(pending.inputs))
        assert got.policy_command is not None and expected.policy_command is not None
        assert np.array_equal(got.policy_command.observation, expected.policy_command.observation)
        assert dataclasses.replace(got.policy_command, observation=None) == dataclasses.replace(
            expected.policy_command, observation=None
        )
        assert got.safety == expected.safety and got.refused == expected.refused
    pending = halves.scan_to_decision(free_scan(10 * 50 * MS), 10 * 50 * MS)
    assert isinstance(pending, PendingDecision)
    refused = halves.finish_decision(pending, ValueError("no answer"))
    assert refused.policy_command is not None
    assert refused.policy_command.reason == "policy error: no answer"
    assert (refused.policy_command.linear, refused.policy_command.angular) == (0.0, 0.0)
    # Inputs gone stale: the gate stops the robot, and the policy is not asked.
    late = 10 * 50 * MS + 5_000 * MS
    gated = halves.scan_to_decision(free_scan(late), late)
    assert isinstance(gated, LoopOutput) and gated.policy_command is not None
    assert gated.policy_command.reason is not None and "stale" in gated.policy_command.reason


def test_a_decision_superseded_or_finished_is_refused(profile: RobotProfile) -> None:
    """Only the latest waiting decision may be finished, once: an older one would command
    from an old scan, a finished one would command twice."""
    loop = RobotLoop(profile)
    assert loop.goal("odom", 5.0, 0.0, 0.0) is None
    feed_sensors(loop, 0)
    first = loop.scan_to_decision(free_scan(0), 0)
    feed_sensors(loop, 50 * MS)
    second = loop.scan_to_decision(free_scan(50 * MS), 50 * MS)
    assert isinstance(first, PendingDecision) and isinstance(second, PendingDecision)
    with pytest.raises(ValueError, match="not the one waiting"):
        loop.finish_decision(first, loop.policy.act(first.inputs))
    done = loop.finish_decision(second, loop.policy.act(second.inputs))
    assert done.policy_command is not None
    with pytest.raises(ValueError, match="finished"):
        loop.finish_decision(second, loop.policy.act(second.inputs))
    forged = dataclasses.replace(second, sequence=second.sequence + 1)
    with pytest.raises(ValueError, match="not the one waiting"):
        loop.finish_decision(forged, loop.policy.act(forged.inputs))
