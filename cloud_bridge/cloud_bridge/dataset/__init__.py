"""Datasets from episodes: the store's bags re-run through the robot's own loop into sharded
Parquet steps (:func:`build_dataset`, :func:`load_steps`), and their export to LeRobotDataset
v3 (:func:`export_lerobot`). The folder layout is in :mod:`cloud_bridge.dataset.build`, the
columns in :mod:`cloud_bridge.dataset.schema`."""

from cloud_bridge.dataset.build import EpisodeOutcome, build_dataset, default_profile, load_steps
from cloud_bridge.dataset.card import DatasetCard
from cloud_bridge.dataset.errors import DatasetError, EpisodeRejected
from cloud_bridge.dataset.lerobot import export_lerobot
from cloud_bridge.dataset.schema import COLUMNS, control_rate, steps_schema

__all__ = [
    "COLUMNS",
    "DatasetCard",
    "DatasetError",
    "EpisodeOutcome",
    "EpisodeRejected",
    "build_dataset",
    "control_rate",
    "default_profile",
    "export_lerobot",
    "load_steps",
    "steps_schema",
]
