"""The bandwidth cap: a token bucket the uploader draws from before it sends a part.

The cap holds on average over parts; a single part still goes out at link speed, so the burst
is one part (``part_size``), which is why the bucket's capacity is one part.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """``rate`` bytes per second, at most ``burst`` bytes ahead."""

    def __init__(
        self,
        rate: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
        stop: threading.Event | None = None,
    ) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("a token bucket needs a positive rate and burst")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._stop = stop or threading.Event()
        self._tokens = burst
        self._last = clock()

    def take(self, amount: int) -> float:
        """Wait until ``amount`` bytes may be sent; the seconds waited. A request larger than the
        burst waits for the bucket to fill, then leaves it in debt, so the average holds."""
        waited = 0.0
        while True:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= min(amount, self.burst):
                self._tokens -= amount
                return waited
            wait = (min(amount, self.burst) - self._tokens) / self.rate
            if self._stop.wait(wait):
                return waited
            waited += wait
