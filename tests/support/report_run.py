"""A flywheel run folder for the report's tests, laid out as ``flywheel run`` writes it.

The evaluations are real (headless episodes of ``classic`` and two ONNX policies, with their
paths), and so are the gate's decision, the dataset card and hashes (``DatasetCard`` and
``dataset_hash``) and the training history records (``EpochRecord``); the run's bookkeeping
(``run.json``, ``releases.json``, ``timeline.jsonl``, ``uploads.jsonl``, stages) is written
here per the run folder layout; the leaderboard is a real ``leaderboard()`` on two race
seeds. One robot id is hostile HTML.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloud_bridge.dataset.card import DatasetCard, dataset_hash
from cloud_bridge.evaluate import EvaluationReport, GateConfig, compare, evaluate, gate
from cloud_bridge.evaluate.leaderboard import LeaderboardEntry, leaderboard
from cloud_bridge.evaluate.report import write_json
from cloud_bridge.train.fit import EpochRecord
from fw_bringup.node_parameters import default_profile_path
from fw_common.profile import load_profile
from fw_sim.seed_sets import seed_set
from support.onnx_models import make_model

__all__ = ["HOSTILE", "ReportRun", "build_run"]

#: A robot id that would run a script if the page did not escape it.
HOSTILE = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'
SEEDS = [0, 4]
T0 = 1_780_000_000.0  # the run's start (Unix s)
#: Sim seconds per leaderboard episode: the classic controller reaches the race goals.
BOARD_TIME_LIMIT = 15.0


@dataclass
class ReportRun:
    """What the folder holds, to check the page against."""

    root: Path
    evaluations: dict[str, EvaluationReport]
    robots: list[str]
    #: Episode keys of each dataset build (iteration 0, then 1).
    builds: list[list[str]]
    #: episode key -> bag sha256
    bags: dict[str, str]
    #: leaderboard.json: a real leaderboard() of classic, v1 and v2
    board: dict[str, Any]
    #: robot -> (objects, bytes)
    uploads: dict[str, tuple[int, int]] = field(default_factory=dict)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def build_run(root: Path) -> ReportRun:
    """Write the run folder at ``root`` (a few seconds: twelve short headless episodes)."""
    profile = load_profile(default_profile_path("sim"))
    evaluations = {"classic": evaluate("classic", SEEDS, profile=profile, time_limit=20.0)}
    (root / "models").mkdir(parents=True)
    for release, seed in (("v1", "3"), ("v2", "5")):
        model = make_model(root / "models" / f"{release}.onnx", "mlp", "--seed", seed)
        evaluations[release] = evaluate(str(model), SEEDS, profile=profile, time_limit=5.0)
    (root / "evaluate").mkdir(parents=True)
    for release, report in evaluations.items():
        write_json(report.to_dict(), root / "evaluate" / f"{release}.json")
    for candidate, baseline in (("v1", "classic"), ("v2", "v1")):
        config = GateConfig(min_success_rate=0.5)
        mine, theirs = evaluations[candidate], evaluations[baseline]
        verdict = gate(mine.summary, compare(mine.episodes, theirs.episodes), config)
        _write(
            root / "evaluate" / f"gate-{candidate}.json",
            {
                "candidate": candidate,
                "baseline": baseline,
                "config": config.to_dict(),
                **verdict.to_dict(),
            },
        )

    robots = ["robot_1", HOSTILE]
    builds = [[f"{r}/ep-{k}-{i}" for r in robots for i in range(2)] for k in range(2)]
    builds = [sorted(b) for b in builds]
    bags = {key: _digest(f"bag {key}") for build in builds for key in build}
    records = {
        key: {
            "robot_id": key.rsplit("/", 1)[0],
            "episode": key.rsplit("/", 1)[1],
            "bag_sha256": bags[key],
            "content_sha256": _digest(f"content {key}"),
            "rows": 100 + len(key),
            "releases": [""] if k == 0 else ["v1"],
            "messages": 1000,
            "shard": f"data/shard-{k:05d}.parquet",
        }
        for k, build in enumerate(builds)
        for key in build
    }
    hashes = [
        dataset_hash({key: records[key]["content_sha256"] for b in builds[: k + 1] for key in b})
        for k in range(2)
    ]
    _write(
        root / "dataset" / "episodes.json",
        {"format": "flywheel.dataset/1", "spec_id": "s", "fps": 10.0, "episodes": records},
    )
    card = DatasetCard(
        dataset_hash=hashes[1],
        episodes=sorted(records),
        robots=sorted(robots),
        releases=["", "v1"],
        steps=sum(r["rows"] for r in records.values()),
        spec_id="s",
        fps=10.0,
        shards=["data/shard-00000.parquet", "data/shard-00001.parquet"],
        quarantined=0,
        created_at="2026-12-05T12:00:00+00:00",
        code_version="test",
    )
    _write(root / "dataset" / "card.json", card.as_dict())

    for k, release in enumerate(("v1", "v2")):
        history = [
            dataclasses.asdict(EpochRecord(e, 1.0 / (e + 1 + k), 1.2 / (e + 1), 0.1, 0.05))
            for e in range(6)
        ]
        _write(
            root / "train" / release / "train_summary.json",
            {
                "model_version": release,
                "history": history,
                "wall_time_s": 12.5 + k,
                "metrics": {
                    "best_epoch": 5.0,
                    "epochs": 6.0,
                    "train_loss": history[-1]["train_loss"],
                    "val_loss": history[-1]["val_loss"],
                    "train_steps": 800.0,
                    "val_steps": 200.0,
                    "takeover_steps": 40.0,
                },
                "datasets": [{"root": str(root / "dataset"), "dataset_hash": hashes[k]}],
            },
        )

    def release(name: str, channel: str, action: str, t: float, k: int, parent: Any) -> Any:
        return {
            "release": name,
            "channel": channel,
            "action": action,
            "time": T0 + t,
            "dataset_hash": hashes[k],
            "parent": parent,
            "model_sha256": _digest(name),
            "faulty": name == "v3",
        }

    releases = [
        release("v1", "canary", "publish", 300, 0, None),
        release("v2", "canary", "publish", 600, 1, "v1"),
        release("v2", "stable", "promote", 650, 1, "v1"),
        release("v3", "canary", "publish", 700, 1, "v2"),
    ]
    _write(root / "releases.json", releases)
    timeline = []
    for robot in robots:
        for t, active, previous, event in (
            (T0 + 320, "v1", "classic", "swap"),
            (T0 + 400, "v1", "classic", "status"),
            (T0 + 620, "v2", "v1", "swap"),
            (T0 + 720, "v3", "v2", "swap"),
            (T0 + 760, "v2", "v3", "rollback"),
        ):
            timeline.append(
                {
                    "time": t,
                    "robot_id": robot,
                    "active": active,
                    "previous": previous,
                    "channel": "canary",
                    "event": event,
                    "problem": f"safety events rose: {HOSTILE}" if event == "rollback" else None,
                }
            )
    _jsonl(root / "timeline.jsonl", timeline)
    uploads = []
    totals: dict[str, tuple[int, int]] = {}
    for i, key in enumerate(sorted(records)):
        robot = records[key]["robot_id"]
        size = 1_000_000 + 250_000 * i
        uploads.append({"time": T0 + 60 * (i + 1), "robot_id": robot, "key": key, "bytes": size})
        objects, total = totals.get(robot, (0, 0))
        totals[robot] = (objects + 1, total + size)
    _jsonl(root / "uploads.jsonl", uploads)
    for n, robot in enumerate(robots):
        folder = root / "robots" / f"robot_{n + 1}"
        folder.mkdir(parents=True)
        _jsonl(
            folder / "mission.jsonl",
            [
                {
                    "robot_id": robot,
                    "seed": 10 + i,
                    "family": "open",
                    "release": release,
                    "policy_kind": "onnx",
                    "reached": i != 1,
                    "collisions": int(i == 2),
                    "interventions": {"slowdown_zone": 2, "teleop_override": 5},
                    "sim_seconds": 20.0,
                    "path_length_m": 5.0,
                    "path": [[0, 0], [1, 1]],
                    "start": [0, 0, 0],
                    "goal": [1, 1],
                    "takeover_steps": 3,
                    "wall_start": T0,
                    "wall_end": T0 + 10,
                    "episode_id": f"ep-{i}",
                }
                for i, release in enumerate(["classic", "classic", "v1", "v1"])
            ]
            + [{"done": True, "episodes": 4}],
        )
    # The leaderboard as cloud_bridge.evaluate.leaderboard writes it: real episodes on the
    # race seeds, ranked there.
    board = leaderboard(
        [
            LeaderboardEntry("v1", "bc", str(root / "models" / "v1.onnx")),
            LeaderboardEntry("classic", "classic", "classic"),
            LeaderboardEntry("v2", "dagger", str(root / "models" / "v2.onnx")),
        ],
        seed_set("race", 2),
        family="open",
        profile=profile,
        time_limit=BOARD_TIME_LIMIT,
    )
    write_json(board, root / "leaderboard.json")
    _write(
        root / "run.json",
        {
            "started": T0,
            "store": "file:///tmp/store",
            "robots": robots,
            "iterations": 2,
            "code_version": "e108e8b-test",
            "options": {},
        },
    )
    for name, iteration, wall in (("keys", 0, 0.4), ("drive-0", 0, 120.0)):
        _write(
            root / "stages" / f"{name}.json",
            {
                "name": name,
                "iteration": iteration,
                "started": T0,
                "finished": T0 + wall,
                "wall_s": wall,
                "result": {},
            },
        )
    return ReportRun(root, evaluations, robots, builds, bags, board, totals)
