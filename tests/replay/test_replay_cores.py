"""Replay regression through the cores: perception → policy (classic) → safety.

Golden episodes (``bags/``, ``make bags``, seeds and commands in bags/README.md), each recorded
from the simulated robot running the whole stack:

* ``sim_seed3_drive``: the classic policy drives to the scenario goal;
* ``sim_seed2_safety``: a person drives into a box (teleop override, slowdown, approach, stop
  zone), then an e-stop.

Stages, each fed the *recorded* inputs and compared with the *recorded* outputs by stamp
(tolerances and their reasons: ``compare.py``, ``CORE``):

* perception: raw ``scan``, ``imu``, ``odom``, ``goal_pose`` → ``fw/perception/{scan,state,goal}``;
* policy: recorded ``fw/perception/*`` → ``fw/cmd_vel_raw``; and chained, the perception core's
  own outputs → policy core → ``fw/cmd_vel_raw`` (with the observation vector an ONNX policy
  would be fed, which must agree between recorded and replayed perception outputs);
* safety: recorded ``fw/cmd_vel_raw``, ``fw/teleop/cmd_vel``, ``scan``, ``odom``, ``imu``,
  ``fw/estop`` in recorded-time order → ``cmd_vel`` and ``fw/safety/events``.

The last tests change one setting of each stage and check that the same comparison then
fails: the suite notices a behaviour change.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fw_common.observation import spec_by_name
from fw_common.profile import RobotProfile, load_profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import (
    CORE,
    after_startup,
    check_commands,
    check_events,
    check_goals,
    check_safety,
    check_scans,
    check_states,
)
from replay_harness import decoded_bag, stamp_ns
from stages import (
    SAFETY_COMMANDS,
    Command,
    PerceptionReplay,
    PolicyReplay,
    odom_pose,
    pose_stamped,
    replay_safety,
    scan_out,
    twist_command,
)

REPO = Path(__file__).resolve().parents[2]
BAGS = REPO / "bags"
PROFILE = REPO / "ros2_ws" / "src" / "fw_bringup" / "config" / "profiles" / "sim.yaml"
EPISODES = ["sim_seed3_drive", "sim_seed2_safety"]
Decoded = list[tuple[str, int, Any]]


@pytest.fixture(scope="module")
def profile() -> RobotProfile:
    return load_profile(PROFILE)


def episode(name: str) -> Decoded:
    folder = BAGS / name
    if not folder.is_dir():
        pytest.fail(f"golden bag missing: {folder} (run `make bags`)")
    return decoded_bag(folder)


def recorded(bag: Decoded, topic: str, convert: Any) -> list[Any]:
    return [convert(msg) for t, _, msg in bag if t == topic]


def run_perception(bag: Decoded, profile: RobotProfile) -> PerceptionReplay:
    replay = PerceptionReplay(profile.perception)
    for topic, _, msg in bag:
        replay.feed(topic, msg)
    return replay


def run_policy(bag: Decoded, profile: RobotProfile) -> PolicyReplay:
    replay = PolicyReplay(profile.policy, spec_by_name(profile.policy.observation_spec))
    for topic, _, msg in bag:
        replay.feed(topic, msg)
    return replay


def recorded_events(bag: Decoded) -> list[tuple[int, str]]:
    return [(t, m.name.removeprefix("safety/")) for topic, t, m in bag if topic.endswith("events")]


def replayed_events(steps: list[Any]) -> list[tuple[int, str]]:
    return [(step.now_ns, kind) for step, _ in steps for kind in step.events]


def first_clock(bag: Decoded) -> int:
    return next(t for topic, t, _ in bag if topic == "/clock")


def command_stamps(bag: Decoded) -> set[int]:
    return {stamp_ns(m) for t, _, m in bag if t in SAFETY_COMMANDS}


# --- the golden episodes are what the suite needs -------------------------------------------


@pytest.mark.parametrize("name", EPISODES)
def test_golden_episode_records_every_stage(name: str) -> None:
    topics = {t for t, _, _ in episode(name)}
    needed = {
        "/clock",
        "/scan",
        "/imu",
        "/odom",
        "/joint_states",
        "/goal_pose",
        "/fw/perception/scan",
        "/fw/perception/state",
        "/fw/perception/goal",
        "/fw/cmd_vel_raw",
        "/cmd_vel",
        "/fw/safety/status",
        "/fw/policy/info",
        "/fw/sim/scenario",
    }
    assert needed <= topics, f"missing: {sorted(needed - topics)}"
    size = sum(f.stat().st_size for f in BAGS.rglob("*") if f.is_file())
    assert size < 2_000_000, f"bags/ holds {size} bytes"


def test_safety_episode_has_real_interventions() -> None:
    kinds = [k for _, k in recorded_events(episode("sim_seed2_safety"))]
    assert {"teleop_override", "stop_zone", "estop"} <= set(kinds), kinds


# --- perception ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EPISODES)
def test_perception_core_reproduces_recorded_outputs(name: str, profile: RobotProfile) -> None:
    bag = episode(name)
    replay = run_perception(bag, profile)
    check_scans(replay.scans, recorded(bag, "/fw/perception/scan", scan_out), CORE)
    check_states(replay.states, recorded(bag, "/fw/perception/state", odom_pose), CORE)
    check_goals(replay.goals, recorded(bag, "/fw/perception/goal", pose_stamped), CORE)


# --- policy ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EPISODES)
def test_policy_core_reproduces_recorded_commands(name: str, profile: RobotProfile) -> None:
    bag = episode(name)
    replay = run_policy(bag, profile)
    check_commands(replay.commands, recorded(bag, "/fw/cmd_vel_raw", twist_command), CORE)


@pytest.mark.parametrize("name", EPISODES)
def test_perception_then_policy_cores_reproduce_recorded_commands(
    name: str, profile: RobotProfile
) -> None:
    """Raw sensors → perception core → policy core, against the recorded cmd_vel_raw; the
    observation vectors (what an ONNX policy is fed) from replayed and recorded perception
    outputs agree to 1e-4 (normalised units, [-1, 1])."""
    bag = episode(name)
    perception = PerceptionReplay(profile.perception)
    chained = PolicyReplay(profile.policy, spec_by_name(profile.policy.observation_spec))
    # The policy node takes perception's outputs as perception publishes them: pass each one on
    # as soon as the raw input that produced it has been fed.
    for topic, _, msg in bag:
        before = (len(perception.scans), len(perception.states), len(perception.goals))
        perception.feed(topic, msg)
        for state in perception.states[before[1] :]:
            chained.state = state
        for goal in perception.goals[before[2] :]:
            chained.goal = goal
        for scan in perception.scans[before[0] :]:
            chained.step(scan)
    check_commands(chained.commands, recorded(bag, "/fw/cmd_vel_raw", twist_command), CORE)
    direct = run_policy(bag, profile).observations
    common = sorted(set(direct) & set(chained.observations))
    assert len(common) >= 0.8 * len(direct), f"{len(common)} of {len(direct)} observations"
    worst = max(float(np.abs(direct[s] - chained.observations[s]).max()) for s in common)
    assert worst <= 1e-4, f"observation vectors differ by {worst}"


# --- safety ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", EPISODES)
def test_safety_core_reproduces_recorded_cmd_vel_and_events(
    name: str, profile: RobotProfile
) -> None:
    bag = episode(name)
    steps = replay_safety(bag, profile.safety)
    check_safety(steps, command_stamps(bag), CORE)
    start = first_clock(bag)
    check_events(
        after_startup(replayed_events(steps), start),
        after_startup(recorded_events(bag), start),
        CORE,
    )


# --- the suite can fail ----------------------------------------------------------------------


def test_changed_median_window_is_caught(profile: RobotProfile) -> None:
    bag = episode("sim_seed3_drive")
    changed = dataclasses.replace(profile, perception=_with(profile.perception, median_window=5))
    replay = run_perception(bag, changed)
    with pytest.raises(AssertionError, match="cleaned scans differ"):
        check_scans(replay.scans, recorded(bag, "/fw/perception/scan", scan_out), CORE)


def test_changed_imu_weight_is_caught(profile: RobotProfile) -> None:
    bag = episode("sim_seed3_drive")
    changed = dataclasses.replace(profile, perception=_with(profile.perception, imu_weight=0.5))
    replay = run_perception(bag, changed)
    with pytest.raises(AssertionError, match="fused pose off"):
        check_states(replay.states, recorded(bag, "/fw/perception/state", odom_pose), CORE)


def test_changed_policy_gain_is_caught(profile: RobotProfile) -> None:
    bag = episode("sim_seed3_drive")
    classic = _with(profile.policy.classic, heading_gain=profile.policy.classic.heading_gain * 1.2)
    changed = dataclasses.replace(profile, policy=_with(profile.policy, classic=classic))
    commands: list[Command] = run_policy(bag, changed).commands
    with pytest.raises(AssertionError, match="reproduced exactly for"):
        check_commands(commands, recorded(bag, "/fw/cmd_vel_raw", twist_command), CORE)


def test_changed_stop_zone_is_caught(profile: RobotProfile) -> None:
    bag = episode("sim_seed2_safety")
    zones = profile.safety.zones
    stop = _with(zones.stop, distance=zones.stop.distance + 0.3)
    changed = _with(profile.safety, zones=_with(zones, stop=stop))
    steps = replay_safety(bag, changed)
    with pytest.raises(AssertionError, match=r"event|cmd_vel within"):
        check_safety(steps, command_stamps(bag), CORE)
        start = first_clock(bag)
        check_events(
            after_startup(replayed_events(steps), start),
            after_startup(recorded_events(bag), start),
            CORE,
        )


def _with(section: Any, **changes: Any) -> Any:
    return dataclasses.replace(section, **changes)
