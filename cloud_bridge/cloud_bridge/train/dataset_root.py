"""One dataset folder as training reads it: its steps, its observation statistics and its hash.

The layout is the dataset build's (:mod:`cloud_bridge.dataset`): ``data/shard-*.parquet`` (one
row per control step), ``stats.json`` (per feature: mean, std, min, max, count) and
``card.json`` (``dataset_hash``, ``spec_id``...). Only the columns training needs are read.
Anything missing or malformed is a :class:`TrainError` that names the file and the problem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from cloud_bridge.train.errors import TrainError

__all__ = ["STEP_COLUMNS", "DatasetRoot", "FeatureStats", "read_dataset_root"]

#: The step columns training reads (the rest of a row is for other readers).
STEP_COLUMNS = (
    "episode_id",
    "robot_id",
    "observation",
    "spec_id",
    "executed_linear",
    "executed_angular",
    "takeover",
    "expert_linear",
    "expert_angular",
    "has_expert",
)


@dataclass(frozen=True)
class FeatureStats:
    """Per-feature mean and standard deviation of the observation over ``count`` steps."""

    mean: npt.NDArray[np.float64]
    std: npt.NDArray[np.float64]
    count: int


@dataclass(frozen=True)
class DatasetRoot:
    """A dataset folder's steps (:data:`STEP_COLUMNS`), observation stats and content hash."""

    root: Path
    dataset_hash: str
    steps: pa.Table
    observation_stats: FeatureStats


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise TrainError(f"{path} is missing: is {path.parent} a built dataset?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrainError(f"{path} is unreadable: {exc}") from None


def _count(value: Any) -> int:
    # LeRobot writes every statistic as a list, the count included ([n]); the dataset build
    # counts each feature apart (a list as long as the observation), and an observation is
    # never partly missing, so every feature counts the same steps.
    if isinstance(value, list) and value and len(set(map(repr, value))) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"count must be a non-negative number, got {value!r}")
    return int(value)


def _observation_stats(path: Path, size: int) -> FeatureStats:
    stats = _read_json(path)
    entry = stats.get("observation") if isinstance(stats, dict) else None
    if not isinstance(entry, dict):
        raise TrainError(f"{path} has no 'observation' statistics")
    try:
        mean = np.asarray(entry["mean"], dtype=np.float64).reshape(-1)
        std = np.asarray(entry["std"], dtype=np.float64).reshape(-1)
        count = _count(entry["count"])
    except (KeyError, TypeError, ValueError) as exc:
        raise TrainError(f"{path}: bad observation statistics ({exc!r})") from None
    if mean.shape != (size,) or std.shape != (size,):
        raise TrainError(
            f"{path}: observation mean/std have {mean.size}/{std.size} features, "
            f"the observation spec has {size}"
        )
    if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std >= 0).all()):
        raise TrainError(f"{path}: observation mean/std must be finite (std non-negative)")
    return FeatureStats(mean=mean, std=std, count=count)


def _dataset_hash(path: Path) -> str:
    card = _read_json(path)
    value = card.get("dataset_hash") if isinstance(card, dict) else None
    if not isinstance(value, str) or not value:
        raise TrainError(f"{path} has no dataset_hash")
    return value


def _read_steps(data: Path) -> pa.Table:
    shards = sorted(data.glob("shard-*.parquet"))
    if not shards:
        raise TrainError(f"{data} holds no shard-*.parquet files")
    tables = []
    for shard in shards:
        try:
            schema = pq.read_schema(shard)
            missing = [c for c in STEP_COLUMNS if c not in schema.names]
            if missing:
                raise TrainError(f"{shard} lacks the columns {missing}")
            tables.append(pq.read_table(shard, columns=list(STEP_COLUMNS)))
        except (OSError, pa.ArrowException) as exc:
            raise TrainError(f"{shard} is not a readable Parquet file: {exc}") from None
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except pa.ArrowException as exc:
        raise TrainError(f"the shards of {data} disagree on their schema: {exc}") from None


def read_dataset_root(root: Path, observation_size: int) -> DatasetRoot:
    """Read a dataset folder; :class:`TrainError` names what is missing or malformed."""
    root = Path(root)
    if not root.is_dir():
        raise TrainError(f"dataset folder {root} does not exist")
    steps = _read_steps(root / "data")
    stats = _observation_stats(root / "stats.json", observation_size)
    if stats.count == 0 and steps.num_rows > 0:
        raise TrainError(f"{root / 'stats.json'} counts no steps but the shards hold some")
    return DatasetRoot(
        root=root,
        dataset_hash=_dataset_hash(root / "card.json"),
        steps=steps,
        observation_stats=stats,
    )
