"""support/shm.py removes only Fast DDS files that no process uses."""

from __future__ import annotations

import mmap
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support.shm import remove_unused_fastdds_files, used_shm_paths


def _file(folder: Path, name: str, age_s: float) -> Path:
    path = folder / name
    path.write_bytes(b"\0" * 4096)
    old = time.time() - age_s
    os.utime(path, (old, old))
    return path


def test_only_old_unused_fastdds_files_are_removed(tmp_path: Path) -> None:
    stale = _file(tmp_path, "fastdds_0123456789abcdef", 60)
    stale_lock = _file(tmp_path, "fastdds_0123456789abcdef_el", 60)
    mapped = _file(tmp_path, "fastdds_port7000", 60)
    mapped_lock = _file(tmp_path, "fastdds_port7000_el", 60)
    held_lock = _file(tmp_path, "fastdds_fedcba9876543210_el", 60)
    held_segment = _file(tmp_path, "fastdds_fedcba9876543210", 60)
    fresh = _file(tmp_path, "fastdds_1111111111111111", 0)
    semaphore = _file(tmp_path, "sem.fastdds_port7411_mutex", 60)
    other = _file(tmp_path, "not_fastdds", 60)
    with open(mapped, "r+b") as f, mmap.mmap(f.fileno(), 0), open(held_lock, "rb"):
        removed = remove_unused_fastdds_files(tmp_path, min_age_s=10.0)
    assert sorted(removed) == sorted([stale.name, stale_lock.name, semaphore.name])
    assert not stale.exists() and not stale_lock.exists()
    # In use (mapped segment, or its lock file held open) by this process: both kept.
    assert mapped.exists() and mapped_lock.exists()
    assert held_lock.exists() and held_segment.exists()
    # Too young to tell, or not Fast DDS's.
    assert fresh.exists() and other.exists()


def _segments_made_since(start: float) -> set[str]:
    """Fast DDS segments (not lock files nor semaphores) made since ``start`` (epoch s) that
    no live process maps or holds open."""
    used = used_shm_paths()
    left = set()
    for path in Path("/dev/shm").glob("fastdds_*"):
        if path.name.endswith("_el") or "port" in path.name:
            continue
        try:
            made = path.stat().st_mtime
        except FileNotFoundError:
            continue
        if made >= start and str(path) not in used:
            left.add(path.name)
    return left


@pytest.mark.system
def test_sigint_of_the_whole_stack_leaves_no_shared_memory_segment(
    start_robot: Callable[..., Any],
) -> None:
    """The composed robot (simulator + every node) removes its participant's segment on SIGINT,
    without the harness's clean-up: frozen start-up objects used to keep rclpy's context from
    being finalized at exit."""
    start = time.time() - 1.0
    robot = start_robot()
    assert robot.wait_for_output("[recorder]: mode=", timeout=60), robot.output()
    time.sleep(2.0)
    robot.assert_clean_exit()
    time.sleep(0.5)
    assert _segments_made_since(start) == set()
