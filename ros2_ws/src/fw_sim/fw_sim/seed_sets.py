"""Named seed sets: training, validation, held-out evaluation and racing never share a seed.

Each set is its own range of integers, far apart, so the sets are disjoint by construction
whatever counts are asked for (up to the size of a range), and asking for more seeds of a set
only extends it: the first ``n`` seeds of a set are always the same.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["SEED_SET_SIZE", "SeedSetName", "seed_set"]

SeedSetName = Literal["train", "validation", "heldout", "race"]

#: Seeds per set; set ``i`` (in :data:`SeedSetName` order) starts at ``i * SEED_SET_SIZE``.
SEED_SET_SIZE = 1_000_000
_ORDER: tuple[str, ...] = get_args(SeedSetName)


def seed_set(name: SeedSetName, count: int) -> list[int]:
    """The first ``count`` seeds of the set ``name``; raises ValueError for an unknown name or
    a count outside 0..SEED_SET_SIZE."""
    if name not in _ORDER:
        raise ValueError(f"unknown seed set {name!r}; known: {', '.join(_ORDER)}")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= SEED_SET_SIZE:
        raise ValueError(f"seed set count must be an integer in 0..{SEED_SET_SIZE}, not {count!r}")
    base = _ORDER.index(name) * SEED_SET_SIZE
    return list(range(base, base + count))
