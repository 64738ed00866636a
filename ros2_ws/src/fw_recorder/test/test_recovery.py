"""Crash recovery: partial bags are salvaged (never as complete) or quarantined."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from recorder_test_helpers import cdr_string, read_bag

from fw_recorder.episode_bag import EpisodeBag, TopicInfo
from fw_recorder.msgdefs import MessageDefinitions
from fw_recorder.qos_match import PublisherQos, offered_qos
from fw_recorder.recovery import recover_spool
from fw_recorder.spool import Spool

DEFS = MessageDefinitions()


def _topic(_tid: int) -> TopicInfo:
    msgdef, rihs01 = DEFS.get("std_msgs/msg/String")
    return TopicInfo(
        "/chatter",
        "std_msgs/msg/String",
        msgdef,
        rihs01,
        offered_qos([PublisherQos(True, False)], 10),
    )


def _partial_bag(root: Path, name: str, storage: str, count: int, flush_every: int) -> Path:
    """Write ``count`` messages into an episode that is never closed (as if killed)."""
    spool = Spool(root, 0, 0)
    bag = EpisodeBag(
        spool.paths.incomplete, spool.paths.ready, name, storage, {"robot_id": "r"}, _topic
    )
    for i in range(count):
        bag.write(1_000 + i, 0, cdr_string(f"m{i:05d}" + "x" * 200))
        if (i + 1) % flush_every == 0:
            bag.flush()
    # Simulate the process dying: drop the writer without closing (file handles leak on
    # purpose, like a killed process's would). Buffered bytes never reach the file.
    bag._writer.storage = None
    return bag.folder


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_flushed_messages_are_recovered_and_marked_incomplete(
    tmp_path: Path, storage: str
) -> None:
    folder = _partial_bag(tmp_path, "ep1", storage, count=250, flush_every=100)
    assert json.loads((folder / "manifest.json").read_text())["status"] == "recording"
    report = recover_spool(Spool(tmp_path, 0, 0).paths, DEFS)
    assert report.recovered.get("ep1", 0) >= 200, report
    ready = tmp_path / "ready" / "ep1"
    msgs = [m.data for _, _, m in read_bag(ready / "bag")]
    assert msgs == [f"m{i:05d}" + "x" * 200 for i in range(len(msgs))]  # a clean prefix
    manifest = json.loads((ready / "manifest.json").read_text())
    assert manifest["status"] == "recovered" and manifest["complete"] is False
    meta = (ready / "bag" / "metadata.yaml").read_text()
    assert "fw.complete: 'false'" in meta and "recovered" in meta
    assert not (tmp_path / "incomplete" / "ep1").exists()


def test_every_truncation_point_recovers_a_prefix_or_quarantines(tmp_path: Path) -> None:
    source = _partial_bag(tmp_path / "src", "src", "mcap", count=120, flush_every=10)
    mcap = next((source / "bag").glob("*.mcap")).read_bytes()
    cuts = sorted({0, 5, 8, 20, *range(40, len(mcap), max(1, len(mcap) // 25)), len(mcap)})
    spool = Spool(tmp_path / "spool", 0, 0)
    for cut in cuts:
        folder = spool.paths.incomplete / f"cut{cut:07d}"
        shutil.copytree(source, folder)
        (folder / "bag" / "bag.mcap").write_bytes(mcap[:cut])
    report = recover_spool(spool.paths, DEFS)
    assert len(report.recovered) + len(report.quarantined) == len(cuts)
    assert "cut0000000" in report.quarantined and "cut0000005" in report.quarantined
    previous = 0
    for cut in cuts:
        name = f"cut{cut:07d}"
        if name in report.recovered:
            msgs = [m.data for _, _, m in read_bag(spool.paths.ready / name / "bag")]
            assert msgs == [f"m{i:05d}" + "x" * 200 for i in range(len(msgs))]
            assert len(msgs) >= previous  # more file, never fewer messages
            previous = len(msgs)
        else:
            assert (spool.paths.quarantine / name / "QUARANTINED").exists()
    assert previous >= 110
    assert not list(spool.paths.incomplete.iterdir())


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"\x89MCAP0\r\n" + b"\xff" * 64])
def test_garbage_is_quarantined(tmp_path: Path, content: bytes) -> None:
    spool = Spool(tmp_path, 0, 0)
    bag = spool.paths.incomplete / "junk" / "bag"
    bag.mkdir(parents=True)
    (bag / "junk.mcap").write_bytes(content)
    report = recover_spool(spool.paths, DEFS)
    assert "junk" in report.quarantined
    assert not (spool.paths.ready / "junk").exists()


def test_folder_without_bag_is_quarantined(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 0, 0)
    (spool.paths.incomplete / "empty").mkdir()
    assert "empty" in recover_spool(spool.paths, DEFS).quarantined


def test_episode_of_a_live_recorder_is_left_alone(tmp_path: Path) -> None:
    folder = _partial_bag(tmp_path, "live", "mcap", count=20, flush_every=10)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["writer_pid"] = other.pid
        (folder / "manifest.json").write_text(json.dumps(manifest))
        report = recover_spool(Spool(tmp_path, 0, 0).paths, DEFS)
        assert not report.recovered and not report.quarantined and folder.exists()
    finally:
        other.kill()
        other.wait()
    assert "live" in recover_spool(Spool(tmp_path, 0, 0).paths, DEFS).recovered
