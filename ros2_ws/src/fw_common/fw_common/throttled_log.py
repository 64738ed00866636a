"""Warnings throttled per key on the wall clock, for nodes that refuse bad input.

rclpy's ``throttle_duration_sec`` throttles per *call site* and on the node's clock. A node with
one helper that logs every refused input therefore lets a flood of one kind (bad commands)
hide another (bad odometry), and on sim time, which starts at 0, holds back its first seconds.
:class:`KeyedThrottle` keeps one throttle per key (an input, or an input and a failure kind) on
``time.monotonic``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["KeyedThrottle"]


class KeyedThrottle:
    """``warning(key, text)`` logs through ``logger`` at most once per ``period_s`` per key."""

    def __init__(
        self, logger: Any, period_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._logger = logger
        self._period_s = period_s
        self._clock = clock
        self._logged: dict[Hashable, float] = {}

    def warning(self, key: Hashable, text: str) -> bool:
        """Log ``text`` unless ``key`` logged within the period; whether it was logged."""
        now = self._clock()
        if now - self._logged.get(key, -math.inf) < self._period_s:
            return False
        self._logged[key] = now
        self._logger.warning(text)
        return True
