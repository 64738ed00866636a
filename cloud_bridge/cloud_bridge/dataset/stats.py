"""``stats.json``: what training normalises with, LeRobot style.

For each numeric column a ``{mean, std, min, max, count}`` of one-element lists, and for
``observation`` the same per feature (lists of ``spec.size``), with the features' names. NaN
(an expert label that is not there) is left out of a column's figures, so ``count`` is the
number of values that are. Computed over the whole table in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from cloud_bridge.dataset.schema import STATS_COLUMNS

__all__ = ["compute_stats", "observation_matrix"]


def observation_matrix(table: pa.Table) -> npt.NDArray[np.float32]:
    """The ``observation`` column as a ``(rows, size)`` float32 array."""
    column = table.column("observation").combine_chunks()
    size = column.type.list_size
    values = column.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(values, np.float32).reshape(-1, size)


def _figures(values: npt.NDArray[np.float64]) -> dict[str, list[float]]:
    """Per-column figures of a ``(rows, k)`` array, NaN left out."""
    count = np.sum(~np.isnan(values), axis=0)
    empty = count == 0
    safe = np.where(np.isnan(values), 0.0, values)
    n = np.maximum(count, 1)
    mean = safe.sum(axis=0) / n
    var = np.where(np.isnan(values), 0.0, (values - mean) ** 2).sum(axis=0) / n
    low = np.where(empty, np.nan, np.nanmin(np.where(np.isnan(values), np.inf, values), axis=0))
    high = np.where(empty, np.nan, np.nanmax(np.where(np.isnan(values), -np.inf, values), axis=0))
    return {
        "mean": np.where(empty, np.nan, mean).tolist(),
        "std": np.where(empty, np.nan, np.sqrt(var)).tolist(),
        "min": low.tolist(),
        "max": high.tolist(),
        "count": count.astype(int).tolist(),
    }


def compute_stats(table: pa.Table, feature_names: list[str]) -> dict[str, Any]:
    """The figures of every numeric column and of each observation feature."""
    stats: dict[str, Any] = {}
    if table.num_rows == 0:
        return stats
    observation = observation_matrix(table).astype(np.float64)
    stats["observation"] = {**_figures(observation), "names": list(feature_names)}
    for name in STATS_COLUMNS:
        values = table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
        stats[name] = _figures(values.reshape(-1, 1))
    return stats
