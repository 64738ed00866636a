"""The recorder core end to end on disk (no ROS): episodes, windows, splits, metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from recorder_test_helpers import ManualClock, cdr_string, read_bag

from fw_common.profile.recorder import RecorderConfig
from fw_recorder.qos_match import PublisherQos
from fw_recorder.recorder import RecorderCore

S = 1_000_000_000
RELIABLE = [PublisherQos(True, False)]
LATCHED = [PublisherQos(True, True)]


def _config(tmp_path: Path, **kw: object) -> RecorderConfig:
    base: dict[str, object] = dict(
        spool_dir=str(tmp_path / "spool"),
        min_free_mb=0.0,
        critical_free_mb=0.0,
        pre_trigger_seconds=2.0,
        post_trigger_seconds=1.0,
        ring_max_seconds=10.0,
    )
    base.update(kw)
    return RecorderConfig(**base)  # type: ignore[arg-type]


def _ready(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "spool" / "ready").iterdir())


def _feed(
    core: RecorderCore,
    clock: ManualClock,
    tid: int,
    t0: float,
    t1: float,
    rate: float,
    triggers: dict[int, str] | None = None,
) -> None:
    """Messages 'm<i>' every 1/rate s from t0 to t1 (s); triggers at message indices."""
    i = 0
    step_ns = round(S / rate)
    while round(t0 * S) + i * step_ns <= round(t1 * S):
        clock.now = round(t0 * S) + i * step_ns
        core.receive(tid, cdr_string(f"m{clock.now}"), clock.now)
        if triggers and i in triggers:
            core.trigger("service", triggers[i])
        core.step()
        i += 1


def test_snapshot_episode_holds_exactly_the_window(tmp_path: Path, clock: ManualClock) -> None:
    core = RecorderCore(_config(tmp_path), "r1", clock)
    tid = core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)
    _feed(core, clock, tid, 0.0, 10.0, 10.0, triggers={50: "look"})  # trigger at t=5 s
    core.stop()
    (episode,) = _ready(tmp_path)
    stamps = [t for _, t, _ in read_bag(episode / "bag")]
    assert stamps[0] == 3 * S and stamps[-1] == 6 * S  # [5 - 2, 5 + 1]
    assert len(stamps) == 31
    manifest = json.loads((episode / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["complete"] is True
    assert manifest["trigger"]["kind"] == "service" and manifest["trigger"]["reason"] == "look"
    assert manifest["window"] == {
        "start_ns": 3 * S,
        "end_ns": 6 * S,
        "pre_seconds": 2.0,
        "post_seconds": 1.0,
    }
    assert manifest["robot_id"] == "r1" and manifest["message_count"] == 31
    assert not list((tmp_path / "spool" / "incomplete").iterdir())


def test_trigger_inside_window_extends_one_episode(tmp_path: Path, clock: ManualClock) -> None:
    core = RecorderCore(_config(tmp_path, max_episode_seconds=4.0), "r1", clock)
    tid = core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)
    # Triggers at 5.0 and 5.5 s merge (end 6.5 s); one at 9 s opens a second episode, and one at
    # 9.9 s would extend to 10.9 s but is capped at start + max = 7 + 4 = 11 -> 10.9 stays.
    _feed(core, clock, tid, 0.0, 14.0, 10.0, triggers={50: "a", 55: "b", 90: "c", 99: "d"})
    core.stop()
    first, second = _ready(tmp_path)
    s1 = [t for _, t, _ in read_bag(first / "bag")]
    s2 = [t for _, t, _ in read_bag(second / "bag")]
    assert (s1[0], s1[-1]) == (3 * S, int(6.5 * S))
    assert (s2[0], s2[-1]) == (7 * S, int(10.9 * S))
    m1 = json.loads((first / "manifest.json").read_text())
    assert [t["reason"] for t in m1["triggers"]] == ["a", "b"]


def test_episode_is_capped_at_max_duration(tmp_path: Path, clock: ManualClock) -> None:
    core = RecorderCore(
        _config(tmp_path, max_episode_seconds=3.5, post_trigger_seconds=1.0), "r1", clock
    )
    tid = core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)
    _feed(core, clock, tid, 0.0, 12.0, 10.0, triggers={i: "x" for i in range(50, 100, 5)})
    core.stop()
    first = _ready(tmp_path)[0]
    stamps = [t for _, t, _ in read_bag(first / "bag")]
    assert stamps[-1] - stamps[0] <= int(3.5 * S)


def test_episode_closes_on_clock_when_topics_go_quiet(tmp_path: Path, clock: ManualClock) -> None:
    core = RecorderCore(_config(tmp_path), "r1", clock)
    tid = core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)
    _feed(core, clock, tid, 0.0, 5.0, 10.0, triggers={50: "quiet"})
    assert core.episode_open
    clock.now = 7 * S  # past end (6 s) + grace, no message
    core.step()
    assert not core.episode_open and len(_ready(tmp_path)) == 1


def test_latched_topics_open_every_episode(tmp_path: Path, clock: ManualClock) -> None:
    core = RecorderCore(_config(tmp_path), "r1", clock)
    scenario = core.add_topic("/fw/sim/scenario", "std_msgs/msg/String", LATCHED)
    tid = core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)
    core.receive(scenario, cdr_string('{"seed": 7}'), 0)
    _feed(core, clock, tid, 0.0, 20.0, 10.0, triggers={80: "one", 160: "two"})
    core.stop()
    for episode in _ready(tmp_path):
        topics = [(topic, msg.data) for topic, _, msg in read_bag(episode / "bag")]
        assert topics[0] == ("/fw/sim/scenario", '{"seed": 7}')
        assert sum(1 for t, _ in topics if t == "/fw/sim/scenario") == 1


def test_metadata_goes_to_manifest_and_custom_data(tmp_path: Path, clock: ManualClock) -> None:
    wall = 1_780_000_000.0  # the host's clock while the recorder's (sim) clock is at 3 s
    core = RecorderCore(_config(tmp_path), "r7", clock, wall_clock=lambda: wall)
    tid = core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)
    core.set_metadata(policy_version="classic-1", scenario_seed=42)
    _feed(core, clock, tid, 0.0, 5.0, 10.0, triggers={30: "meta"})
    core.stop()
    (episode,) = _ready(tmp_path)
    manifest = json.loads((episode / "manifest.json").read_text())
    assert manifest["policy_version"] == "classic-1" and manifest["scenario_seed"] == 42
    info = yaml.safe_load((episode / "bag" / "metadata.yaml").read_text())
    custom = info["rosbag2_bagfile_information"]["custom_data"]
    assert custom["fw.policy_version"] == "classic-1" and custom["fw.scenario_seed"] == "42"
    assert json.loads(custom["fw.trigger"])["reason"] == "meta"
    # Sim time starts at 0; the wall-clock start of the window (3 s - 2 s pre) is recorded.
    assert manifest["start_unix"] == pytest.approx(wall - 2.0)
    assert custom["fw.start_utc"] == "2026-05-28T20:26:38+00:00"
    assert float(custom["fw.start_unix"]) == pytest.approx(wall - 2.0)
    topic_meta = info["rosbag2_bagfile_information"]["topics_with_message_count"][0]
    assert topic_meta["topic_metadata"]["type_description_hash"].startswith("RIHS01_")


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_continuous_splits_by_duration(tmp_path: Path, clock: ManualClock, storage: str) -> None:
    core = RecorderCore(
        _config(tmp_path, mode="continuous", split_max_seconds=2.0, storage=storage), "r1", clock
    )
    tid = core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)
    _feed(core, clock, tid, 0.0, 6.95, 10.0)
    core.stop()
    bags = _ready(tmp_path)
    per_bag = [[t for _, t, _ in read_bag(b / "bag")] for b in bags]
    assert [len(s) for s in per_bag] == [20, 20, 20, 10]
    for stamps in per_bag:
        assert stamps[-1] - stamps[0] < 2 * S
    assert sorted(t for s in per_bag for t in s) == [int(i * S / 10) for i in range(70)]


def test_continuous_splits_by_size(tmp_path: Path, clock: ManualClock) -> None:
    size = len(cdr_string(f"m{10**9}"))
    core = RecorderCore(
        _config(tmp_path, mode="continuous", split_max_mb=(10 * size) / 1e6), "r1", clock
    )
    tid = core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)
    for i in range(35):
        core.receive(tid, cdr_string(f"m{10**9 + i}"), 10**9 + i)
    core.stop()
    counts = [len(read_bag(b / "bag")) for b in _ready(tmp_path)]
    assert counts == [10, 10, 10, 5]


def test_receive_path_bounds_pending_bytes_and_counts_loss(
    tmp_path: Path, clock: ManualClock
) -> None:
    core = RecorderCore(_config(tmp_path, max_pending_mb=0.1), "r1", clock)
    tid = core.add_topic("/blob", "std_msgs/msg/String", RELIABLE)
    blob = cdr_string("x" * 1000)
    for i in range(500):  # ~0.5 MB offered while the writer thread is not running
        core.receive(tid, blob, i)
    assert 0.1e6 <= core.pending_bytes <= 0.1e6 + len(blob)
    core.step()
    assert core.stats.lost["queue_full"] == 500 - core.stats.received
    assert core.pending_bytes == 0


def test_writer_thread_records_while_receiving(tmp_path: Path, clock: ManualClock) -> None:
    core = RecorderCore(_config(tmp_path, mode="continuous"), "r1", clock)
    tid = core.add_topic("/chatter", "std_msgs/msg/String", RELIABLE)
    core.start()
    for i in range(2000):
        core.receive(tid, cdr_string(str(i)), i)
    core.stop()
    (bag,) = _ready(tmp_path)
    assert [m.data for _, _, m in read_bag(bag / "bag")] == [str(i) for i in range(2000)]
