"""A simulated robot on a mission, end to end: the real bringup (every node, the mission node
among them) drives two seeded scenarios on its own with the expert driving through the teleop
path (``sim.supervisor.mode: drive``, iteration 0 of the flywheel), logs each outcome, and
records one episode per scenario; the robot's uploader sends them, and the dataset build turns
them into steps whose take-over flags and expert labels are set, and whose replayed policy
commands are the ones the robot published (the odometry restart makes each episode's goal
mean the same thing in the replay)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from geometry_msgs.msg import TwistStamped

from cloud_bridge.dataset import build_dataset, default_profile, load_steps
from cloud_bridge.store import LocalStore
from fw_common import qos, topics
from fw_common.conversions import stamp_to_ns
from support.dataset_bags import recorded, upload_folders
from support.probe import RosProbe

pytestmark = pytest.mark.system

SEEDS = [3, 4]  # two open-family scenarios the expert drives in ~12 s of sim time each
KEYS = {
    "robot_id", "seed", "family", "release", "policy_kind", "reached", "collisions",
    "interventions", "sim_seconds", "path_length_m", "path", "start", "goal",
    "takeover_steps", "wall_start", "wall_end", "episode_id", "supervisor_mode",
}  # fmt: skip


#: "Close" commands (m/s, rad/s): the classic policy steers in steps of 0.13 rad/s (its gap
#: bins), so a heading a hair apart turns one step more or less.
_CLOSE = (0.1, 0.14)


def _replayed_commands(rows: dict[str, list[Any]], folder: Path) -> tuple[int, int, int]:
    """How the build's replayed policy commands compare with the ones the robot published
    after its goal (``fw/cmd_vel_raw``, by stamp): (matched, exact, close), counts."""
    goal_at = min(t for t, _ in recorded(folder, "/goal_pose"))
    published = {
        stamp_to_ns(m.header.stamp): (m.twist.linear.x, m.twist.angular.z)
        for t, m in recorded(folder, "/fw/cmd_vel_raw")
        if t > goal_at
    }
    commands = zip(rows["policy_linear"], rows["policy_angular"], strict=True)
    ours = dict(zip(rows["stamp_ns"], commands, strict=True))
    pairs = [(ours[s], c) for s, c in published.items() if s in ours]
    exact = sum(abs(a - c) <= 1e-6 and abs(b - d) <= 1e-6 for (a, b), (c, d) in pairs)
    close = sum(abs(a - c) <= _CLOSE[0] and abs(b - d) <= _CLOSE[1] for (a, b), (c, d) in pairs)
    return len(pairs), exact, close


def _lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_mission_drives_each_seed_once_and_its_episodes_build(
    start_robot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "robots" / "r1" / "mission.jsonl"
    spool = tmp_path / "spool"
    # The root namespace: check_no_skew reads the bag's topics by their absolute names.
    robot = start_robot(
        seed=SEEDS[0],
        sets=[
            "robot.id=r1",
            f"mission.seeds={json.dumps(SEEDS)}",
            f"mission.log_path={log}",
            "mission.time_limit=30",
            "sim.real_time_factor=2",
            "sim.supervisor.mode=drive",
        ],
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not any(e.get("done") for e in _lines(log)):
        assert robot.alive(), robot.output()[-3000:]
        time.sleep(0.5)
    lines = _lines(log)
    done = {"done": True, "episodes": 2, "recorded": 2}
    assert lines and lines[-1] == done, robot.output()[-3000:]
    episodes = lines[:-1]
    assert [e["seed"] for e in episodes] == SEEDS
    for entry in episodes:
        assert set(entry) == KEYS, entry.get("error")
        assert entry["robot_id"] == "r1" and entry["family"] == "open"
        assert entry["reached"] is True and entry["collisions"] == 0
        assert entry["release"] == "classic" and entry["policy_kind"] == "classic"
        assert entry["supervisor_mode"] == "drive"
        assert 0 < entry["sim_seconds"] < 30 and entry["path_length_m"] > 3.0
        # The expert's 20 Hz steps, every one of the episode (a few may land just outside it).
        assert entry["takeover_steps"] > 0.8 * 20 * entry["sim_seconds"]
        assert entry["interventions"].get("teleop_override", 0) >= 1
        path = entry["path"]
        assert len(path) >= 1.5 * entry["sim_seconds"]  # ~2 Hz (a starved reader skips some)
        assert path[0] == pytest.approx(entry["start"][:2], abs=0.1)
        assert path[-1] == pytest.approx(entry["goal"], abs=0.6)
        assert entry["wall_start"] < entry["wall_end"]
    # One episode per scenario, in ready/ for the agent's uploader, and no other. The last
    # one lands there once the writer has written up to its end, a moment after the close.
    expected = sorted(str(e["episode_id"]) for e in episodes)
    deadline = time.monotonic() + 10
    while (ready := sorted(p.name for p in (spool / "ready").iterdir())) != expected:
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert ready == expected
    assert robot.stop() == 0, robot.output()[-3000:]

    store = LocalStore(tmp_path / "store")
    assert upload_folders(store, spool, robot_id="r1") == 2
    card = build_dataset(store, tmp_path / "ds", profile=default_profile(), cache=tmp_path / "c")
    assert sorted(card.episodes) == sorted(f"r1/{e['episode_id']}" for e in episodes)
    assert card.quarantined == 0
    rows = load_steps(tmp_path / "ds").to_pydict()
    n = len(rows["step"])
    assert n >= 100
    # The expert drove every step it had the goal for: take-overs from the teleop path, and
    # its label beside each.
    takeovers = [s for s, t in zip(rows["takeover_source"], rows["takeover"], strict=True) if t]
    assert len(takeovers) >= 0.9 * n and set(takeovers) == {"teleop"}
    assert sum(rows["has_expert"]) >= 0.9 * n
    # No skew: the policy re-run on the recorded streams commands what the robot's did. Each
    # episode starts with the state restarted at the origin of odom, as its replay starts, so
    # its goal means the same in both (without the restart it would be metres off, and so
    # would most commands). "Close" absorbs what compare.LOOP explains for the golden bags (the
    # gyro samples on either side of an odometry step move the heading a hair, and the classic
    # policy's gap choice with it); most are exact.
    exact_total = matched_total = 0
    for entry in episodes:
        folder = tmp_path / "c" / "r1" / str(entry["episode_id"])
        matched, exact_count, close_count = _replayed_commands(rows, folder)
        exact, close = exact_count / max(1, matched), close_count / max(1, matched)
        print(f"{entry['episode_id']}: {matched} commands, {exact:.0%} exact, {close:.0%} close")
        # "Close" is the skew check: 97-100 % run after run, while a replay that drifts (a
        # lost restart, a policy that drove between episodes, a goal meaning something else)
        # fell to 23-89 %.
        assert matched >= 50 and close >= 0.95, (matched, exact, close)
        exact_total += exact_count
        matched_total += matched
    # "Exact" depends on the host: a gyro sample the live perception lost on a loaded host (its
    # link is best effort, as real drivers publish) and the recorder kept moves the robot's
    # heading a hair for the rest of that episode, so one episode measured 65-94 % on the
    # shared 2-core host and CI. Pooled over both it says most commands are exact, which a
    # systematic difference in the observation (every command a hair off) would fail.
    assert exact_total / matched_total >= 0.5, exact_total / matched_total


def test_the_expert_lets_go_after_a_timed_out_episode(
    start_robot, probe: RosProbe, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """In drive mode the expert drives only while an episode runs: once the time limit ends
    it nothing comes on the teleop path (the robot stands)."""
    teleop = probe.subscribe(TwistStamped, "/" + topics.TELEOP_CMD_VEL, qos.COMMAND)
    log = tmp_path / "mission.jsonl"
    robot = start_robot(
        seed=SEEDS[0],
        sets=[
            f"mission.seeds=[{SEEDS[0]}]",
            f"mission.log_path={log}",
            "mission.time_limit=1",  # far too short for the ~12 s drive: it times out
            "sim.real_time_factor=2",
            "sim.supervisor.mode=drive",
        ],
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(e.get("done") for e in _lines(log)):
        assert robot.alive(), robot.output()[-3000:]
        time.sleep(0.2)
    entry, done = _lines(log)
    assert done == {"done": True, "episodes": 1, "recorded": 1}, robot.output()[-3000:]
    assert entry["reached"] is False and "error" not in entry, entry
    assert entry["takeover_steps"] > 0  # the expert did drive
    # The probe hears the teleop path (it may have joined after the short drive, and discovery
    # on a loaded host takes a while): without it, the silence below would prove nothing.
    heard = time.monotonic() + 15
    while probe.node.count_publishers("/" + topics.TELEOP_CMD_VEL) == 0:
        assert time.monotonic() < heard, "the probe never discovered the teleop publisher"
        time.sleep(0.1)
    time.sleep(0.5)  # commands already on their way
    quiet_from = time.monotonic()
    time.sleep(2.0)  # 4 s of sim time: 80 expert periods
    assert teleop.since(quiet_from) == [], "the expert still drives after the episode"
    assert robot.stop() == 0, robot.output()[-3000:]


def test_a_seed_list_with_a_bad_value_is_refused(start_robot) -> None:  # type: ignore[no-untyped-def]
    robot = start_robot(nodes="sim", sets=["mission.seeds=[3, -1, 3]"])
    assert robot.popen.wait(timeout=30) == 2, robot.output()[-3000:]
    out = robot.output()
    assert "mission.seeds[1]: -1 is below the minimum 0" in out
    assert "Traceback" not in out
