"""``export_lerobot``: a built dataset as a LeRobotDataset v3.0 folder, loadable with
``lerobot.datasets.lerobot_dataset.LeRobotDataset(repo_id, root=folder)`` offline.

Layout (LeRobot's codebase v3.0)::

    meta/info.json                          fps, features, totals, path templates
    meta/stats.json                         per feature: mean, std, min, max, count
    meta/tasks.parquet                      the task strings, indexed by task
    meta/episodes/chunk-000/file-000.parquet  one row per episode: length, where its frames are
    data/chunk-000/file-000.parquet         one row per frame

Features: ``observation.state`` (the observation vector, names from the spec),
``action`` (the training target: the expert's label where there is one, else the executed
command, [linear m/s, angular rad/s]), and LeRobot's ``timestamp`` (``frame_index / fps``: the
frames of an episode on the 1/fps grid), ``frame_index``, ``episode_index``, ``index``,
``task_index``. Flywheel's ids travel in the episodes table (``flywheel/episode_id``...).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from cloud_bridge.dataset.atomic import read_json, write_json
from cloud_bridge.dataset.build import load_steps
from cloud_bridge.dataset.errors import DatasetError
from cloud_bridge.dataset.stats import observation_matrix

__all__ = ["CODEBASE_VERSION", "TASK", "export_lerobot", "training_action"]

#: The LeRobot dataset format written.
CODEBASE_VERSION = "v3.0"
#: Every episode's task (one task: reach the goal).
TASK = "drive to the goal without collision"
_DATA = "data/chunk-000/file-000.parquet"
_EPISODES = "meta/episodes/chunk-000/file-000.parquet"


def training_action(table: pa.Table) -> npt.NDArray[np.float32]:
    """``(rows, 2)``: the expert's label where there is one, else the executed command."""

    def pair(prefix: str) -> npt.NDArray[np.float32]:
        columns = (f"{prefix}_linear", f"{prefix}_angular")
        return np.stack([table.column(c).to_numpy(zero_copy_only=False) for c in columns], 1)

    has = table.column("has_expert").to_numpy(zero_copy_only=False)
    executed, expert = pair("executed"), pair("expert")
    return np.where(has[:, None], expert, executed).astype(np.float32)


def _figures(values: npt.NDArray[Any]) -> dict[str, list[float]]:
    data = np.asarray(values, np.float64).reshape(len(values), -1)
    return {
        "mean": data.mean(axis=0).tolist(),
        "std": data.std(axis=0).tolist(),
        "min": data.min(axis=0).tolist(),
        "max": data.max(axis=0).tolist(),
        "count": [len(data)],
    }


def _fixed(values: npt.NDArray[np.float32], size: int) -> pa.Array:
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), size)


def export_lerobot(
    dataset_root: Path, out: Path, *, repo_id: str = "flywheel/steps", robot_type: str = ""
) -> dict[str, Any]:
    """Write the dataset at ``dataset_root`` as a LeRobot v3.0 dataset in ``out`` (replaced);
    its ``info.json``."""
    dataset_root, out = Path(dataset_root), Path(out)
    card = read_json(dataset_root / "card.json", None)
    stats = read_json(dataset_root / "stats.json", None)
    if not isinstance(card, dict) or not isinstance(stats, dict):
        raise DatasetError(f"{dataset_root} is not a built dataset (no card.json/stats.json)")
    table = load_steps(dataset_root)
    if table.num_rows == 0:
        raise DatasetError(f"{dataset_root} holds no steps to export")
    fps = float(card["fps"])
    if not fps.is_integer():
        raise DatasetError(f"LeRobot needs an integer fps, the dataset's is {fps}")
    names = list(stats["observation"]["names"])
    episode_keys = [
        f"{r}/{e}"
        for r, e in zip(
            table.column("robot_id").to_pylist(), table.column("episode_id").to_pylist(),
            strict=True,
        )
    ]  # fmt: skip
    order: dict[str, int] = {}
    episode_index = np.array([order.setdefault(k, len(order)) for k in episode_keys], np.int64)
    frame_index = table.column("step").to_numpy().astype(np.int64)
    timestamp = (frame_index / fps).astype(np.float32)
    observation = observation_matrix(table)
    action = training_action(table)
    n, size = observation.shape
    data = pa.table(
        {
            "observation.state": _fixed(observation, size),
            "action": _fixed(action, 2),
            "timestamp": pa.array(timestamp),
            "frame_index": pa.array(frame_index),
            "episode_index": pa.array(episode_index),
            "index": pa.array(np.arange(n, dtype=np.int64)),
            "task_index": pa.array(np.zeros(n, np.int64)),
        }
    )
    if out.exists():
        shutil.rmtree(out)
    (out / "data/chunk-000").mkdir(parents=True)
    (out / "meta/episodes/chunk-000").mkdir(parents=True)
    pq.write_table(data, out / _DATA)

    starts = np.flatnonzero(np.diff(episode_index, prepend=-1))
    ends = np.append(starts[1:], n)
    keys = list(order)
    episodes = pa.table(
        {
            "episode_index": pa.array(np.arange(len(keys), dtype=np.int64)),
            "tasks": pa.array([[TASK]] * len(keys), pa.list_(pa.string())),
            "length": pa.array((ends - starts).astype(np.int64)),
            "data/chunk_index": pa.array(np.zeros(len(keys), np.int64)),
            "data/file_index": pa.array(np.zeros(len(keys), np.int64)),
            "dataset_from_index": pa.array(starts.astype(np.int64)),
            "dataset_to_index": pa.array(ends.astype(np.int64)),
            "meta/episodes/chunk_index": pa.array(np.zeros(len(keys), np.int64)),
            "meta/episodes/file_index": pa.array(np.zeros(len(keys), np.int64)),
            "flywheel/robot_id": pa.array([k.split("/", 1)[0] for k in keys]),
            "flywheel/episode_id": pa.array([k.split("/", 1)[1] for k in keys]),
        }
    )
    pq.write_table(episodes, out / _EPISODES)
    # LeRobot reads tasks.parquet with pandas, the task string as the frame's index.
    import pandas as pd

    tasks = pd.DataFrame({"task_index": [0]}, index=pd.Index([TASK], name="task"))
    tasks.to_parquet(out / "meta/tasks.parquet")

    scalar = {"dtype": "int64", "shape": [1], "names": None}
    info: dict[str, Any] = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": robot_type or None,
        "total_episodes": len(keys),
        "total_frames": n,
        "total_tasks": 1,
        "chunks_size": 1000,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 200,
        "fps": int(fps),
        "splits": {"train": f"0:{len(keys)}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": None,
        "features": {
            "observation.state": {"dtype": "float32", "shape": [size], "names": names},
            "action": {"dtype": "float32", "shape": [2], "names": ["linear", "angular"]},
            "timestamp": {"dtype": "float32", "shape": [1], "names": None},
            "frame_index": scalar,
            "episode_index": scalar,
            "index": scalar,
            "task_index": scalar,
        },
        "flywheel": {"dataset_hash": card["dataset_hash"], "repo_id": repo_id},
    }
    write_json(out / "meta/info.json", info)
    lerobot_stats = {
        "observation.state": _figures(observation),
        "action": _figures(action),
        "timestamp": _figures(timestamp),
        "frame_index": _figures(frame_index),
        "episode_index": _figures(episode_index),
        "index": _figures(np.arange(n)),
        "task_index": _figures(np.zeros(n)),
    }
    write_json(out / "meta/stats.json", lerobot_stats)
    return info
