"""Exponential backoff with full jitter (the delay is uniform in ``[0, min(cap, base·2^n)]``),
so a fleet that lost its store does not come back in lockstep."""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    """Delays (s) for consecutive failures; :meth:`reset` after a success."""

    def __init__(
        self, initial_s: float = 1.0, max_s: float = 300.0, rng: random.Random | None = None
    ) -> None:
        if initial_s <= 0 or max_s < initial_s:
            raise ValueError("backoff needs 0 < initial_s <= max_s")
        self.initial_s = initial_s
        self.max_s = max_s
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        """Count a failure; how long to wait before the next try (s)."""
        ceiling = min(self.max_s, self.initial_s * 2.0 ** min(self.failures, 62))
        self.failures += 1
        # Never 0: a tight loop against a dead store helps nobody.
        return max(self.initial_s / 10.0, self._rng.uniform(0.0, ceiling))

    def reset(self) -> None:
        self.failures = 0
