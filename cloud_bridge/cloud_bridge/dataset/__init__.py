"""Datasets from episodes: the store's bags re-run through the robot's own loop into sharded
Parquet steps (:func:`build_dataset`, :func:`load_steps`), and their export to LeRobotDataset
v3 (:func:`export_lerobot`). The folder layout is in :mod:`cloud_bridge.dataset.build`, the
columns in :mod:`cloud_bridge.dataset.schema`.

pyarrow and pandas (the ``cloud`` extras) load on first use of these names, so the
``flywheel`` command still starts on a robot without them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cloud_bridge.dataset.errors import DatasetError, EpisodeRejected

if TYPE_CHECKING:
    from cloud_bridge.dataset.build import (
        EpisodeOutcome,
        build_dataset,
        default_profile,
        load_steps,
    )
    from cloud_bridge.dataset.card import DatasetCard
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

_LAZY = {
    "EpisodeOutcome": "build",
    "build_dataset": "build",
    "default_profile": "build",
    "load_steps": "build",
    "DatasetCard": "card",
    "export_lerobot": "lerobot",
    "COLUMNS": "schema",
    "control_rate": "schema",
    "steps_schema": "schema",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f"cloud_bridge.dataset.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
