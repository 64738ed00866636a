"""The mission runner's logic without ROS: a small kinematic world stands in for the robot (it
drives straight to its goal at a set speed once it has one), so the runner's sequence, its
verdicts, its log and its failure paths are checked exactly and in milliseconds."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from fw_bringup.mission import (
    MissionError,
    MissionRunner,
    NotRecordedError,
    StateSample,
    goal_in_odom,
)
from fw_bringup.mission_episode import EpisodeCounters, EpisodeWatch, TruthSample
from fw_bringup.mission_log import MissionLog
from fw_common.planar import Pose2
from fw_common.profile.mission import MissionConfig

STEP_NS = 20_000_000  # the world advances 20 ms of sim time per look


class PointWorld:
    """A robot that drives straight at ``speed`` (m/s) towards the goal it was given; its
    odometry frame is offset from the world by ``odom_offset`` (x, y, yaw)."""

    def __init__(self, speed: float = 1.0, odom_offset: Pose2 = (1.0, -2.0, 0.5)) -> None:
        self.speed = speed
        self.offset = odom_offset
        self.t_ns = 0
        self.x = self.y = self.yaw = 0.0
        self.target: tuple[float, float] | None = None
        self.calls: list[str] = []
        self.episode = 0
        self.release: str | None = None
        self.refuse_open = False
        self.wrong_seed = False
        self.collisions = 0
        self.kind = "classic"
        self.recording = False
        self.close_failures = 0  # the next closes that get no answer
        self.not_recorded = False  # the recorder accepted the opens but could not do them
        #: Ground truth stops advancing at this sim time (a stalled simulator).
        self.stall_ns: int | None = None
        #: The perception state keeps this stamp (one from before the restart).
        self.state_stamp_ns: int | None = None

    # the world's clock moves with every look at it
    def truth(self) -> TruthSample:
        if self.stall_ns is None or self.t_ns < self.stall_ns:
            self.t_ns += STEP_NS
        moving = 0.0
        if self.target is not None:
            dx, dy = self.target[0] - self.x, self.target[1] - self.y
            d = math.hypot(dx, dy)
            step = min(d, self.speed * STEP_NS * 1e-9)
            if d > 1e-9:
                self.x += dx / d * step
                self.y += dy / d * step
                moving = self.speed if step < d else 0.0
        return TruthSample(self.t_ns, self.x, self.y, self.yaw, moving)

    def wait_ready(self, timeout: float) -> None:
        self.calls.append("ready")

    def active_release(self) -> str | None:
        return self.release

    def policy_kind(self) -> str:
        return self.kind

    def start_scenario(self, seed: int, timeout: float) -> dict[str, Any]:
        self.calls.append(f"scenario {seed}")
        self.x, self.y, self.target = float(seed), 0.0, None
        built = seed + 1 if self.wrong_seed else seed
        return {
            "seed": built,
            "family": "open",
            "start": {"x": float(seed), "y": 0.0, "yaw": 0.0},
            "goal": {"x": float(seed), "y": 3.0},
            "supervisor_mode": "drive",
        }

    def restart_state(self, timeout: float) -> None:
        self.calls.append("restart")
        self.target = None

    def open_episode(self, timeout: float) -> str:
        if self.refuse_open:
            raise MissionError("fw/recorder/episode (open) refused: spool_budget_mb spent")
        self.episode += 1
        self.recording = True
        self.calls.append("open")
        return f"ep{self.episode}"

    def close_episode(self, timeout: float) -> str:
        self.calls.append("close")
        if self.not_recorded and self.recording:
            self.recording = False
            raise NotRecordedError(f"episode ep{self.episode} has no recording: disk full")
        if self.close_failures > 0:
            self.close_failures -= 1
            raise MissionError("fw/recorder/episode: no answer within 20 s")
        was, self.recording = self.recording, False
        return f"ep{self.episode}" if was else ""

    def stop_robot(self, timeout: float) -> None:
        self.calls.append("stop")
        self.target = None

    def state(self) -> StateSample:
        # The robot's pose in its odometry frame: T_odom_world applied to the world pose.
        ox, oy, oyaw = self.offset
        c, s = math.cos(oyaw), math.sin(oyaw)
        pose = ox + c * self.x - s * self.y, oy + s * self.x + c * self.y, oyaw + self.yaw
        stamp = self.t_ns if self.state_stamp_ns is None else self.state_stamp_ns
        return StateSample(stamp, pose)

    def publish_goal(self, goal_odom: Pose2, stamp_ns: int) -> None:
        self.calls.append("goal")
        ox, oy, oyaw = self.offset
        c, s = math.cos(-oyaw), math.sin(-oyaw)
        gx, gy = goal_odom[0] - ox, goal_odom[1] - oy
        self.target = (c * gx - s * gy, s * gx + c * gy)  # back in the world: drive there

    def counters(self) -> EpisodeCounters:
        return EpisodeCounters(self.collisions, {"slowdown_zone": self.episode}, 3 * self.episode)


class WallClock:
    """Wall time that passes only while the runner sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def runner(
    world: PointWorld, tmp_path: Path | None = None, log: Path | None = None, **settings: Any
) -> MissionRunner:
    config = MissionConfig(**{"seeds": [2, 5], "time_limit": 10.0, **settings})
    if tmp_path is not None:
        log = tmp_path / "m" / "mission.jsonl"
    wall = WallClock()
    return MissionRunner(
        config, world, "r7", log=MissionLog(log) if log is not None else None,
        info=lambda _: None, sleep=wall.sleep, monotonic=wall,
    )  # fmt: skip


def test_each_seed_is_driven_once_in_order_and_logged(tmp_path: Path) -> None:
    world = PointWorld()
    mission = runner(world, tmp_path)
    mission.run()
    # After each episode the policy loses its goal, then the expert lets go: nothing drives.
    steps = ["scenario 2", "restart", "open", "goal", "close", "restart", "stop"]
    assert world.calls == ["ready", *steps, *[s.replace("2", "5") for s in steps]]
    lines = [json.loads(x) for x in (tmp_path / "m" / "mission.jsonl").read_text().splitlines()]
    assert lines == mission.entries
    assert lines[-1] == {"done": True, "episodes": 2, "recorded": 2}
    first = lines[0]
    assert first["robot_id"] == "r7" and first["seed"] == 2 and first["family"] == "open"
    assert first["reached"] is True and first["episode_id"] == "ep1"
    assert first["release"] == "classic" and first["policy_kind"] == "classic"
    assert first["supervisor_mode"] == "drive"
    assert first["start"] == [2.0, 0.0, 0.0] and first["goal"] == [2.0, 3.0]
    # 3 m at 1 m/s: ~3 s of sim time; the path holds ~2 points a second, start to goal.
    assert first["sim_seconds"] == pytest.approx(3.0, abs=0.1)
    assert first["path_length_m"] == pytest.approx(3.0, abs=0.05)
    assert first["path"][0] == pytest.approx([2.0, 0.0], abs=0.05)
    assert first["path"][-1] == [2.0, 3.0]
    assert 6 <= len(first["path"]) <= 9
    # Counters are the episode's: the difference between its end and its start.
    assert first["interventions"] == {} and first["takeover_steps"] == 0
    assert first["wall_start"] <= first["wall_end"]


def test_a_robot_that_does_not_get_there_fails_at_the_time_limit() -> None:
    world = PointWorld(speed=0.1)
    mission = runner(world, time_limit=5.0, seeds=[4])
    mission.run()
    entry = mission.entries[0]
    assert entry["reached"] is False and "error" not in entry
    assert entry["sim_seconds"] == pytest.approx(5.0, abs=0.05)
    assert entry["path_length_m"] == pytest.approx(0.5, abs=0.05)
    # The recording ends, then the robot stops: the policy loses its goal, the simulator's
    # expert lets go.
    assert world.calls[-3:] == ["close", "restart", "stop"]


def test_a_second_run_appends_its_own_episodes_and_done_line(tmp_path: Path) -> None:
    runner(PointWorld(), tmp_path, seeds=[2]).run()
    log = MissionLog(tmp_path / "m" / "mission.jsonl")
    with open(log.path, "a") as f:
        f.write('{"seed": 9, "torn')  # a crash mid-line: readers skip it
    world = PointWorld()
    runner(world, tmp_path, seeds=[2, 5]).run()  # the next iteration, same seeds
    assert [c for c in world.calls if c.startswith("scenario")] == ["scenario 2", "scenario 5"]
    entries = log.entries()
    assert [e.get("seed", "done") for e in entries] == [2, "done", 2, 5, "done"]
    assert entries[-1] == {"done": True, "episodes": 2, "recorded": 2}


def test_a_failing_seed_is_logged_with_its_error_and_the_mission_goes_on() -> None:
    world = PointWorld()
    world.refuse_open = True
    mission = runner(world)
    mission.run()
    first, second, done = mission.entries
    assert first["episode_id"] is None and first["reached"] is False
    assert "spool_budget_mb spent" in first["error"]
    assert second["seed"] == 5 and done == {"done": True, "episodes": 2, "recorded": 0}
    assert "goal" not in world.calls  # no goal without a recording
    # and the robot was stopped after each
    assert world.calls.count("restart") == 4 and world.calls.count("stop") == 2


def test_a_scenario_of_another_seed_is_refused() -> None:
    world = PointWorld()
    world.wrong_seed = True
    mission = runner(world, seeds=[2])
    mission.run()
    assert mission.entries[0]["error"] == "the simulator built seed 3, not 2"


def test_a_robot_that_never_comes_up_ends_the_mission_with_the_reason() -> None:
    world = PointWorld()

    def not_ready(timeout: float) -> None:
        raise MissionError("service fw/recorder/episode is not available")

    world.wait_ready = not_ready  # type: ignore[method-assign]
    mission = runner(world)
    mission.run()
    assert mission.entries == [
        {
            "done": True,
            "episodes": 0,
            "recorded": 0,
            "error": "service fw/recorder/episode is not available",
        }
    ]


def test_the_mission_waits_for_its_release_and_logs_it() -> None:
    world = PointWorld()
    looks = iter([None, "v1", "v1", "v2"] + ["v2"] * 100)

    def release() -> str | None:
        world.release = next(looks)
        return world.release

    world.active_release = release  # type: ignore[method-assign]
    mission = runner(world, start_after_release="v2", seeds=[3])
    mission.run()
    assert mission.entries[0]["release"] == "v2"


def test_stopping_mid_episode_logs_nothing_more() -> None:
    world = PointWorld(speed=0.01)
    looks = iter(range(1000))
    config = MissionConfig(seeds=[1, 2], time_limit=100.0)
    mission = MissionRunner(
        config, world, "r", stopping=lambda: next(looks) > 200, info=lambda _: None,
        sleep=lambda _: None,
    )  # fmt: skip
    mission.run()
    assert mission.entries == []


def test_the_goal_reaches_odom_through_the_robots_two_poses() -> None:
    # Robot at world (1, 2, 90°) seen in odom at (0, 0, 0): a goal 1 m north in the world is
    # 1 m ahead in odom.
    goal = goal_in_odom((0.0, 0.0, 0.0), (1.0, 2.0, math.pi / 2), (1.0, 3.0))
    assert goal == pytest.approx((1.0, 0.0, -math.pi / 2))


def test_the_watch_ignores_bad_and_old_samples_and_needs_rest_at_the_goal() -> None:
    watch = EpisodeWatch((0.0, 1.0), time_limit=10.0, path_period=0.5)
    assert not watch.add(TruthSample(1_000, 0.0, 0.0, 0.0, 0.0))
    assert not watch.add(TruthSample(2_000, math.nan, 0.0, 0.0, 0.0))
    assert not watch.add(TruthSample(500, 0.0, 0.9, 0.0, 0.0))  # older: ignored
    assert not watch.add(TruthSample(3_000, 0.0, 0.9, 0.0, 0.5))  # at the goal, still moving
    assert watch.add(TruthSample(4_000, 0.0, 0.95, 0.0, 0.01))
    assert watch.reached and watch.path_length == pytest.approx(0.95)
    with pytest.raises(ValueError, match="finite"):
        EpisodeWatch((math.inf, 0.0), 1.0, 1.0)


def test_the_path_keeps_its_spacing_when_samples_come_late() -> None:
    watch = EpisodeWatch((100.0, 0.0), time_limit=100.0, path_period=0.5)
    ms = 1_000_000
    for t in (0, 520, 1010, 1600, 1990, 2700, 3000):  # late, early, skipped a slot
        watch.add(TruthSample(t * ms, t / 1000, 0.0, 0.0, 1.0))
    assert [x for x, _ in watch.path] == [0.0, 0.52, 1.01, 1.6, 2.7, 3.0]


def test_counters_since_are_the_episodes_share() -> None:
    start = EpisodeCounters(2, {"a": 1, "b": 4}, 10)
    end = EpisodeCounters(3, {"a": 1, "b": 6, "c": 1}, 25)
    assert end.since(start) == EpisodeCounters(1, {"b": 2, "c": 1}, 15)


def test_duplicate_or_negative_seeds_are_refused() -> None:
    with pytest.raises(ValueError, match="appears twice"):
        MissionConfig(seeds=[1, 2, 1])


def test_a_stalled_simulator_fails_the_seed_and_the_mission_ends() -> None:
    """Ground truth that stops advancing mid-episode: an error line after service_timeout
    (wall), and the done line, not a wait forever."""
    world = PointWorld(speed=0.1)
    world.stall_ns = 3_000_000_000
    mission = runner(world, seeds=[4], service_timeout=2.0)
    mission.run()
    entry, done = mission.entries
    assert "sim time does not advance" in entry["error"]
    assert done == {"done": True, "episodes": 1, "recorded": 1}
    assert world.calls[-3:] == ["close", "restart", "stop"]


def test_a_state_from_before_the_restart_gets_no_goal() -> None:
    world = PointWorld()
    world.state_stamp_ns = 0  # perception never answered the restart
    mission = runner(world, seeds=[2])
    mission.run()
    assert "no perception state since the restart" in mission.entries[0]["error"]
    assert "goal" not in world.calls


def test_a_close_without_answer_is_tried_again() -> None:
    world = PointWorld()
    world.close_failures = 2
    mission = runner(world, seeds=[2])
    mission.run()
    entry, done = mission.entries
    assert "error" not in entry and entry["reached"] is True
    assert world.calls.count("close") == 3 and done["recorded"] == 1


def test_an_episode_left_open_holds_the_mission_until_it_closes() -> None:
    """No next scenario (its teleport would land in the open recording) until a close gets
    through; the episode left open does not count as recorded."""
    world = PointWorld()
    world.close_failures = 6  # three tries at seed 2, three more before seed 5
    mission = runner(world, seeds=[2, 5, 7])
    mission.run()
    first, second, third, done = mission.entries
    assert "ep1 left open after 3 tries" in first["error"]
    assert "ep1 left open" in second["error"] and second["episode_id"] is None
    assert "error" not in third and third["reached"] is True
    scenarios = [c for c in world.calls if c.startswith("scenario")]
    assert scenarios == ["scenario 2", "scenario 7"]
    assert done == {"done": True, "episodes": 3, "recorded": 1}


def test_a_scenario_with_nan_is_an_error_line_not_a_dead_mission(tmp_path: Path) -> None:
    world = PointWorld()
    built = world.start_scenario

    def nan_start(seed: int, timeout: float) -> dict[str, Any]:
        scenario = built(seed, timeout)
        if seed == 2:
            scenario["start"]["yaw"] = math.nan
        return scenario

    world.start_scenario = nan_start  # type: ignore[method-assign]
    mission = runner(world, tmp_path)
    mission.run()
    lines = MissionLog(tmp_path / "m" / "mission.jsonl").entries()
    assert "bad scenario from the simulator" in lines[0]["error"]
    assert lines[1]["reached"] is True
    assert lines[-1] == {"done": True, "episodes": 2, "recorded": 1}


def test_a_log_that_cannot_be_written_or_a_runner_failure_still_ends_with_done(
    tmp_path: Path,
) -> None:
    (tmp_path / "log").mkdir()  # the log's path is a folder: every append fails
    mission = runner(PointWorld(), log=tmp_path / "log", seeds=[2])
    mission.run()
    done = mission.entries[-1]
    assert done["done"] is True and "mission log: seed 2 not written" in done["error"]

    world = PointWorld()

    def broken() -> EpisodeCounters:
        raise RuntimeError("counter lock poisoned")

    world.counters = broken  # type: ignore[method-assign]
    log = tmp_path / "ok.jsonl"
    mission = runner(world, log=log, seeds=[2, 5])
    mission.run()
    assert MissionLog(log).entries()[-1] == {
        "done": True,
        "episodes": 0,
        "recorded": 1,  # the episode was closed on the way out
        "error": "mission stopped: RuntimeError: counter lock poisoned",
    }


def test_release_is_classic_only_for_the_classic_policy() -> None:
    world = PointWorld()
    world.kind = "onnx"
    mission = runner(world, seeds=[2])
    mission.run()
    assert mission.entries[0]["release"] == "unknown"
    world.release = "v3"
    mission = runner(world, seeds=[2])
    mission.run()
    assert mission.entries[0]["release"] == "v3"


def test_an_episode_the_recorder_could_not_open_is_logged_as_not_recorded() -> None:
    world = PointWorld()
    world.not_recorded = True
    mission = runner(world)
    mission.run()
    first, second, done = mission.entries
    assert first["episode_id"] is None and first["reached"] is True
    assert first["error"] == "episode ep1 has no recording: disk full"
    assert "ep2 has no recording" in second["error"]
    assert world.calls.count("close") == 2  # refused, not retried: the episode never was
    assert done == {"done": True, "episodes": 2, "recorded": 0}
