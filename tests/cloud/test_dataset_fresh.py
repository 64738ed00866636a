"""A fresh episode, end to end: a simulated robot (the real nodes over DDS, the classic policy)
drives towards its scenario goal while its recorder writes a continuous episode; the robot's
uploader sends it to the store; the dataset build re-runs the loop on it and reproduces the
policy commands the robot published (``fw/cmd_vel_raw``) as on the golden bags."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cloud_bridge.dataset import build_dataset, default_profile, load_steps
from cloud_bridge.store import LocalStore
from support.dataset_bags import check_no_skew, upload_folders

pytestmark = pytest.mark.system

#: What the build needs: the loop's inputs, the policy's info, and its commands to compare.
TOPICS = [
    "scan", "imu", "joint_states", "goal_pose", "fw/teleop/cmd_vel", "fw/estop",
    "fw/cmd_vel_raw", "cmd_vel", "fw/policy/info", "fw/sim/scenario",
]  # fmt: skip


def test_fresh_episode_builds_and_reproduces_the_robots_commands(
    start_robot, probe, tmp_path: Path
) -> None:
    from test_policy_drive import Mission

    spool = tmp_path / "spool"
    robot = start_robot(
        seed=3,
        nodes="sim,actuator_bridge,perception,policy,safety,recorder",
        sets=[
            "recorder.mode=continuous",
            "recorder.topics=" + json.dumps(TOPICS),
            "recorder.discovery_period=0.2",
            "policy.kind=classic",
        ],
    )
    mission = Mission(probe)
    try:
        mission.wait_ready(3)
        assert robot.wait_for_output("recording /fw/cmd_vel_raw", 30), robot.output()[-3000:]
        assert robot.wait_for_output("recording /joint_states", 30), robot.output()[-3000:]
        mission.send_scenario_goal()
        # About 5 s of driving (10 commands/s), not the whole way: enough steps to compare.
        wanted = len(mission.commands) + 50
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline and len(mission.commands) < wanted:
            time.sleep(0.2)
        assert len(mission.commands) >= wanted, "the policy hardly commanded"
    finally:
        mission.close()
    assert robot.stop() == 0, robot.output()[-3000:]
    (episode,) = sorted((spool / "ready").iterdir())

    store = LocalStore(tmp_path / "store")
    assert upload_folders(store, spool, robot_id="fresh") == 1
    card = build_dataset(store, tmp_path / "ds", profile=default_profile(), cache=tmp_path / "c")
    assert card.episodes == [f"fresh/{episode.name}"] and card.quarantined == 0
    rows = load_steps(tmp_path / "ds").to_pydict()
    assert len(rows["step"]) >= 40 and rows["done"][-1]
    assert not any(rows["takeover"]) and not any(rows["has_expert"])
    check_no_skew(rows, tmp_path / "c" / "fresh" / episode.name)
