"""The run folder: where each stage of ``flywheel run`` writes, in one place.

::

    <run>/run.json                  options, store, code version, start time
    <run>/stages/<name>.json        one per finished stage (its presence skips it on a re-run)
    <run>/keys/                     ``flywheel keys init`` (root.json is what the robots trust)
    <run>/robots/<robot_id>/        robot.log, spool/, agent/, mission.jsonl (every drive's
                                    lines), missions/drive-<k>.jsonl (what the robot wrote)
    <run>/external/drive-<k>.json   an external fleet's episodes in the store before drive k
    <run>/dataset/                  the dataset build's root (card.json)
    <run>/train/v<k>/               model.onnx, policy.pt, train_summary.json
    <run>/evaluate/<release>.json   EvaluationReport.to_dict() on the held-out seeds
    <run>/evaluate/gate-<release>.json
    <run>/releases.json             every publish, promote and rollback of the run
    <run>/timeline.jsonl            the agents' status objects, sampled on change
    <run>/uploads.jsonl             each episode object seen in the store
    <run>/leaderboard.json, <run>/report.html
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["RunLayout", "release_name"]


def release_name(iteration: int) -> str:
    """The release trained after iteration ``iteration`` (0-based): ``v1``, ``v2``, ..."""
    return f"v{iteration + 1}"


@dataclass(frozen=True)
class RunLayout:
    """Paths of one run folder (nothing is created here)."""

    root: Path

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def stages(self) -> Path:
        return self.root / "stages"

    def stage(self, name: str) -> Path:
        return self.stages / f"{name}.json"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def trusted_root(self) -> Path:
        return self.keys / "root.json"

    @property
    def robots(self) -> Path:
        return self.root / "robots"

    def robot(self, robot_id: str) -> Path:
        return self.robots / robot_id

    def mission_log(self, robot_id: str) -> Path:
        """The robot's lines of every drive of the run, in order (what the report reads)."""
        return self.robot(robot_id) / "mission.jsonl"

    def drive_log(self, robot_id: str, drive: int) -> Path:
        """The mission log the robot writes during drive ``drive``."""
        return self.robot(robot_id) / "missions" / f"drive-{drive}.jsonl"

    def external_baseline(self, drive: int) -> Path:
        """An external fleet's episodes already in the store when drive ``drive`` began."""
        return self.root / "external" / f"drive-{drive}.json"

    @property
    def dataset(self) -> Path:
        return self.root / "dataset"

    def train(self, release: str) -> Path:
        return self.root / "train" / release

    def model(self, release: str) -> Path:
        return self.train(release) / "model.onnx"

    @property
    def evaluate(self) -> Path:
        return self.root / "evaluate"

    def evaluation(self, policy: str) -> Path:
        return self.evaluate / f"{policy}.json"

    def gate(self, release: str) -> Path:
        return self.evaluate / f"gate-{release}.json"

    @property
    def faulty(self) -> Path:
        """The faulty release's model and why it is faulty."""
        return self.root / "faulty"

    @property
    def releases(self) -> Path:
        return self.root / "releases.json"

    @property
    def timeline(self) -> Path:
        return self.root / "timeline.jsonl"

    @property
    def uploads(self) -> Path:
        return self.root / "uploads.jsonl"

    @property
    def leaderboard(self) -> Path:
        return self.root / "leaderboard.json"

    @property
    def report(self) -> Path:
        return self.root / "report.html"
