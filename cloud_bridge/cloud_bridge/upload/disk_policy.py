"""What the uploader deletes on the robot, decided on plain values (the uploader does it).

- The **queue budget**: while episodes waiting for upload hold more than the budget (the store
  out of reach for hours), drop continuous episodes before triggered ones, oldest first, until
  the rest fits. A triggered episode goes only when nothing else is left.
- **Retention** of uploaded episodes: delete those older than the age limit, then the oldest
  until the rest fits the byte budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Waiting", "choose_drops", "choose_expired"]


@dataclass(frozen=True)
class Waiting:
    """An episode on the robot's disk, as the policies see it."""

    name: str
    #: When it was recorded (epoch s).
    created_unix: float
    #: Bytes on disk.
    size: int
    #: 0 = triggered, 1 = continuous.
    priority: int = 1


W = TypeVar("W", bound=Waiting)


def choose_drops(queued: Sequence[W], budget_bytes: int) -> list[W]:
    """The queued episodes to drop so the rest fits ``budget_bytes``, in drop order."""
    total = sum(e.size for e in queued)
    drops = []
    for episode in sorted(queued, key=lambda e: (-e.priority, e.created_unix, e.name)):
        if total <= budget_bytes:
            break
        drops.append(episode)
        total -= episode.size
    return drops


def choose_expired(uploaded: Sequence[W], now: float, max_age_s: float, max_bytes: int) -> list[W]:
    """The uploaded episodes to delete: too old, or the oldest beyond ``max_bytes``."""
    total = sum(e.size for e in uploaded)
    expired = []
    for episode in sorted(uploaded, key=lambda e: (e.created_unix, e.name)):
        if now - episode.created_unix <= max_age_s and total <= max_bytes:
            break
        expired.append(episode)
        total -= episode.size
    return expired
