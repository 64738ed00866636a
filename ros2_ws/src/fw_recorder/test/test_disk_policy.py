"""Disk safety on a real, small filesystem (an 8 MB tmpfs): low-priority data goes first,
nothing is written below the critical level, and only uploaded episodes are ever deleted."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from recorder_test_helpers import ManualClock, cdr_string, read_bag

from fw_common.profile.recorder import RecorderConfig
from fw_recorder.qos_match import PublisherQos
from fw_recorder.recorder import RecorderCore
from fw_recorder.spool import UPLOADED_MARKER, DiskLevel

S = 1_000_000_000
RELIABLE = [PublisherQos(True, False)]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"mount -t tmpfs not permitted here: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(path: Path, mb: float) -> Path:
    filler = path / f"filler-{uuid.uuid4().hex}"
    filler.write_bytes(b"\0" * int(mb * 1e6))
    return filler


def _core(spool: Path, clock: ManualClock, **kw: object) -> RecorderCore:
    config = RecorderConfig(
        spool_dir=str(spool),
        min_free_mb=4.0,
        critical_free_mb=2.0,
        pre_trigger_seconds=1.0,
        post_trigger_seconds=1.0,
        ring_max_seconds=5.0,
        low_priority_regex=["/bulk"],
        **kw,  # type: ignore[arg-type]
    )
    return RecorderCore(config, "r1", clock)


def _episode(core: RecorderCore, clock: ManualClock, ids: list[int], t0: int) -> None:
    for i in range(40):
        clock.now = t0 + i * S // 10
        for tid in ids:
            core.receive(tid, cdr_string("x" * 2000), clock.now)
        if i == 20:
            core.trigger("service", "disk test")
        core.step()
    clock.now += 2 * S
    core.step()


def test_low_disk_drops_low_priority_topics_first(tmpfs: Path, clock: ManualClock) -> None:
    core = _core(tmpfs / "spool", clock)
    important = core.add_topic("/events", "std_msgs/msg/String", RELIABLE)
    bulk = core.add_topic("/bulk", "std_msgs/msg/String", RELIABLE)
    core.set_low_priority(bulk, True)
    filler = _fill(tmpfs, 5.0)  # ~3 MB free: below min_free (4), above critical (2)
    core._next_housekeeping = 0
    _episode(core, clock, [important, bulk], 0)
    assert core.disk_level == DiskLevel.LOW
    (episode,) = sorted((tmpfs / "spool" / "ready").iterdir())
    topics = {topic for topic, _, _ in read_bag(episode / "bag")}
    assert topics == {"/events"}
    assert core.stats.lost["disk_low"] > 0 and core.stats.lost["disk_full"] == 0
    filler.unlink()


def test_critical_disk_refuses_episodes_and_counts_loss(tmpfs: Path, clock: ManualClock) -> None:
    core = _core(tmpfs / "spool", clock)
    tid = core.add_topic("/events", "std_msgs/msg/String", RELIABLE)
    _fill(tmpfs, 6.5)  # ~1.5 MB free: below critical
    core._next_housekeeping = 0
    _episode(core, clock, [tid], 0)
    assert core.disk_level == DiskLevel.CRITICAL
    assert core.stats.triggers_refused == 1
    assert not list((tmpfs / "spool" / "ready").iterdir())


def test_only_uploaded_episodes_are_deleted_to_make_room(tmpfs: Path, clock: ManualClock) -> None:
    spool = tmpfs / "spool"
    core = _core(spool, clock)
    tid = core.add_topic("/events", "std_msgs/msg/String", RELIABLE)
    for k in range(3):
        _episode(core, clock, [tid], k * 10 * S)
    episodes = sorted((spool / "ready").iterdir(), key=lambda p: p.name)
    assert len(episodes) == 3
    # The uploader confirmed the first two: one moved to uploaded/, one marked in place.
    os.rename(episodes[0], spool / "uploaded" / episodes[0].name)
    (episodes[1] / UPLOADED_MARKER).write_text("ok\n")
    # Free space a little under min_free (4 MB), by less than the uploaded episodes hold.
    filler = _fill(tmpfs, core.spool.free_bytes() / 1e6 - 3.85)
    core._next_housekeeping = 0
    core.step()
    assert not (spool / "uploaded" / episodes[0].name).exists()
    assert not episodes[1].exists()
    assert episodes[2].exists(), "a triggered episode that was not uploaded was deleted"
    assert sorted(core.spool.deleted) == sorted(p.name for p in episodes[:2])
    assert json.loads((episodes[2] / "manifest.json").read_text())["triggered"] is True
    # Still short of space and nothing else is deletable: the un-uploaded one stays.
    _fill(tmpfs, max(0.0, core.spool.free_bytes() / 1e6 - 1.0))
    core._next_housekeeping = 0
    core.step()
    assert core.disk_level == DiskLevel.CRITICAL and episodes[2].exists()
    filler.unlink()


def test_disk_full_during_write_keeps_the_partial_for_recovery(
    tmpfs: Path, clock: ManualClock
) -> None:
    # Thresholds at zero: the recorder writes until the filesystem itself says ENOSPC.
    config = RecorderConfig(
        spool_dir=str(tmpfs / "spool"),
        min_free_mb=0.0,
        critical_free_mb=0.0,
        mode="continuous",
        split_max_mb=100.0,
    )
    core = RecorderCore(config, "r1", clock)
    tid = core.add_topic("/events", "std_msgs/msg/String", RELIABLE)
    for i in range(6000):  # ~12 MB into 8 MB
        core.receive(tid, cdr_string("y" * 2000), i)
        if i % 100 == 0:
            core.step()
    core.stop()
    assert core.stats.write_errors >= 1 and core.stats.lost["write_error"] >= 1
    assert "No space left" in core.stats.last_error or "ENOSPC" in core.stats.last_error
    assert not list((tmpfs / "spool" / "ready").iterdir())  # never presented as complete
    assert list((tmpfs / "spool" / "incomplete").iterdir())
