"""The validation split: whole episodes, each on the side its name and the run's seed draw.

Steps of one episode are strongly correlated, so a split by step would validate on near copies
of training steps; whole episodes go to one side or the other.

Each episode's side is a hash of the seed and its name, not a draw over the set, so adding
episodes never moves an episode across: a DAgger iteration that resumes its parent with the
same seed on a grown union validates on none of the steps its parent trained on (a permutation
of the grown set would put some of them on the validation side, and early stopping would then
reward the parent's own fit). About ``fraction`` of the episodes are held out, and at least
one (the lowest draw) when none drew the validation side: a few episodes would otherwise often
give none. At least one always trains, and with a single episode (or a zero fraction) there is
no validation set.
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

__all__ = ["validation_episodes"]


def _draw(seed: int, name: str) -> float:
    """Uniform in [0, 1), fixed by the seed and the episode's name."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def validation_episodes(
    episodes: npt.NDArray[np.str_], fraction: float, seed: int
) -> npt.NDArray[np.bool_]:
    """A mask over steps: True where the step's episode is held out for validation."""
    names = np.unique(episodes)
    if fraction <= 0 or names.size < 2:
        return np.zeros(episodes.shape, dtype=np.bool_)
    draws = np.array([_draw(seed, str(name)) for name in names])
    held = draws < fraction
    if not held.any():
        held[np.argmin(draws)] = True
    if held.all():
        held[np.argmax(draws)] = False
    return np.isin(episodes, names[held])
