"""The input normalisation: the datasets' observation statistics, pooled over DAgger's union.

Each dataset's ``stats.json`` gives a per-feature mean and standard deviation over its own
steps. Training on several datasets normalises with the statistics of their union, pooled from
the per-dataset figures (the parallel variance formula), so no step is read twice. A feature
that never varies (a sector nothing was ever seen in) keeps unit scale instead of dividing by
zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cloud_bridge.train.dataset_root import FeatureStats
from cloud_bridge.train.errors import TrainError

__all__ = ["MIN_STD", "Normalisation", "pooled_normalisation"]

#: A standard deviation below this counts as a constant feature (scale 1).
MIN_STD = 1e-6


@dataclass(frozen=True)
class Normalisation:
    """``(observation - mean) / std``, per feature (float32)."""

    mean: npt.NDArray[np.float32]
    std: npt.NDArray[np.float32]


def pooled_normalisation(stats: Sequence[FeatureStats]) -> Normalisation:
    """The mean and standard deviation of the union of the datasets ``stats`` describe."""
    counted = [s for s in stats if s.count > 0]
    if not counted:
        raise TrainError("the datasets' statistics count no steps")
    counts = np.array([s.count for s in counted], dtype=np.float64)
    total = counts.sum()
    means = np.stack([s.mean for s in counted])
    stds = np.stack([s.std for s in counted])
    mean = (counts[:, None] * means).sum(axis=0) / total
    # Population variance of the union: each part's own variance plus its mean's offset.
    variance = (counts[:, None] * (stds**2 + (means - mean) ** 2)).sum(axis=0) / total
    std = np.sqrt(variance)
    std = np.where(std < MIN_STD, 1.0, std)
    return Normalisation(mean=mean.astype(np.float32), std=std.astype(np.float32))
