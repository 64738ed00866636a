"""The validation split: whole episodes, drawn with the run's seed.

Steps of one episode are strongly correlated, so a split by step would validate on near copies
of training steps; whole episodes go to one side or the other. At least one episode always
trains; with a single episode (or a zero fraction) there is no validation set.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["validation_episodes"]


def validation_episodes(
    episodes: npt.NDArray[np.str_], fraction: float, seed: int
) -> npt.NDArray[np.bool_]:
    """A mask over steps: True where the step's episode is held out for validation."""
    names = np.unique(episodes)  # sorted, so the draw does not depend on row order
    held = min(math.ceil(fraction * names.size), names.size - 1) if fraction > 0 else 0
    if held <= 0:
        return np.zeros(episodes.shape, dtype=np.bool_)
    chosen = np.random.default_rng(seed).permutation(names.size)[:held]
    return np.isin(episodes, names[chosen])
