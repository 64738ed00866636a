"""The robots' missions: which scenarios each robot drives, and what its mission log says.

Every drive of the run gets its own block of ``seed_set("train")`` seeds, so no scenario is
driven twice and none is ever a held-out or race scenario: drive ``d`` (iteration ``d``; the
faulty release's drive is the last block) gives robot ``i`` (0-based) the seeds
``train[(d * robots + i) * n : ... + n]`` for ``n`` missions per robot (the faulty release's drive,
the last, may give each robot another count ``m``: ``train[d * robots * n + i * m : ... + m]``).

Each robot's mission runner (``fw_bringup``, profile section ``mission``) appends one JSON line
per finished episode to its log, and ``{"done": true, "episodes": N}`` after its last seed; a
runner started again appends a whole new run of its seeds. So each drive gets its own log
(``robots/<id>/missions/drive-<k>.jsonl``), emptied when the fleet is started for the drive:
what an interrupted attempt logged goes (the episodes it uploaded stay in the store, recorded
driving like any other), and the drive's log is exactly its own missions.
``robots/<id>/mission.jsonl`` is every drive's lines in order, the run's one mission log per
robot, rewritten whole from the drive logs after each drive.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloud_bridge.run.files import read_jsonl, write_text
from fw_sim.seed_sets import seed_set

__all__ = ["MissionProgress", "merge_drive_logs", "mission_seeds", "read_missions"]


def mission_seeds(
    drive: int, robot_index: int, robots: int, per_robot: int, count: int | None = None
) -> list[int]:
    """The seeds robot ``robot_index`` (0-based) of ``robots`` drives in drive ``drive``:
    ``count`` of them (default ``per_robot``, the count of every drive before; only the last
    drive may ask for another count)."""
    if not 0 <= robot_index < robots:
        raise ValueError(f"robot index {robot_index} outside a fleet of {robots}")
    count = per_robot if count is None else count
    first = drive * robots * per_robot + robot_index * count
    return seed_set("train", first + count)[first:]


@dataclass
class MissionProgress:
    """One robot's mission log since a drive began."""

    #: Finished episodes, as the runner logged them.
    episodes: list[dict[str, Any]] = field(default_factory=list)
    #: The runner said it finished its last seed.
    done: bool = False

    @property
    def episode_ids(self) -> list[str]:
        """Recorded episodes (their ids in the store), in order."""
        ids = (e.get("episode_id") for e in self.episodes)
        return [i for i in ids if isinstance(i, str) and i]

    @property
    def reached(self) -> int:
        return sum(1 for e in self.episodes if e.get("reached") is True)


def read_missions(path: Path) -> MissionProgress:
    """What the mission log at ``path`` says so far."""
    records, _ = read_jsonl(path)
    progress = MissionProgress()
    for record in records:
        if record.get("done") is True:
            progress.done = True
        elif "seed" in record:
            progress.episodes.append(record)
    return progress


def merge_drive_logs(drive_logs: list[Path], merged: Path) -> int:
    """Write ``merged`` as the whole lines of ``drive_logs``, in order, atomically; how many
    lines it holds."""
    lines = []
    for path in drive_logs:
        lines += [json.dumps(r, sort_keys=True) for r in read_jsonl(path)[0]]
    write_text(merged, "".join(line + "\n" for line in lines))
    return len(lines)
