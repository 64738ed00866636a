"""Episodes in a recorder spool's ``ready/`` folder, for the uploader tests: the golden bags,
or synthetic ones of any size, with a manifest written by the recorder's own code."""

from __future__ import annotations

import os
import random
import shutil
import time
from pathlib import Path

from fw_recorder.manifest import read_manifest, write_manifest

__all__ = ["GOLDEN", "add_episode", "add_golden_episode"]

REPO = Path(__file__).resolve().parents[2]
#: The golden episodes (rosbag2 MCAP + manifest.json) recorded from the simulated robot.
GOLDEN = {name: REPO / "bags" / name for name in ("sim_seed2_safety", "sim_seed3_drive")}


def add_golden_episode(
    ready: Path, golden: str = "sim_seed2_safety", name: str | None = None
) -> Path:
    """Copy a golden episode into ``ready/`` (as the recorder would have left it)."""
    target = ready / (name or read_manifest(GOLDEN[golden])["name"])  # type: ignore[index]
    shutil.copytree(GOLDEN[golden], target)
    return target


def add_episode(
    ready: Path,
    name: str,
    size: int,
    *,
    triggered: bool = False,
    created_unix: float | None = None,
    policy_version: str | None = "release-1",
    robot_id: str = "r1",
    seed: int = 0,
) -> Path:
    """A closed episode of ``size`` random bytes in ``bag/bag.mcap``, manifest like the
    recorder's (trigger, mode, times, policy version)."""
    folder = ready / name
    (folder / "bag").mkdir(parents=True)
    rng = random.Random(seed)
    with (folder / "bag" / "bag.mcap").open("wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(rng.randbytes(n))
            left -= n
    (folder / "bag" / "metadata.yaml").write_text(
        f"rosbag2_bagfile_information: {{name: {name}}}\n"
    )
    created = time.time() if created_unix is None else created_unix
    kind = "safety_event" if triggered else "continuous"
    trigger = {"kind": kind, "reason": "test", "t_ns": 0}
    write_manifest(
        folder,
        {
            "name": name,
            "robot_id": robot_id,
            "mode": "snapshot" if triggered else "continuous",
            "trigger": trigger,
            "triggers": [trigger],
            "triggered": triggered,
            "status": "complete",
            "complete": True,
            "created_unix": created,
            "closed_unix": created + 10.0,
            "policy_version": policy_version,
        },
    )
    os.utime(folder, (created, created))
    return folder
