"""After a swap: is the new release making safety intervene more than the one before it?

Interventions (``fw/safety/events`` at WARN or above) are counted in a sliding window of
``window`` seconds from the swap on. The new release is rolled back when the window holds at
least ``min_events`` of them and its rate exceeds the previous release's by more than
``margin`` (interventions per minute). The previous release's rate is its whole record on
this robot (:class:`fw_cloud_agent.state.ReleaseRecord`). The rate is always the window's count
over the whole window, also before the window has passed since the swap: early on that is a
lower bound, so a burst right after a swap rolls back at once, yet a few events spread over
the first seconds do not look like a high rate. ``min_events`` keeps a single event from
deciding.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["RollbackThresholds", "RollbackWatch"]


@dataclass(frozen=True)
class RollbackThresholds:
    """When a release is rolled back on its own (see the module docstring)."""

    #: Sliding window (s).
    window: float = 60.0
    #: Interventions the window must hold before the rate is trusted.
    min_events: int = 5
    #: How much higher than the previous release's rate is too high (interventions/min).
    margin: float = 2.0
    #: How long after a swap the release is watched (s); then it is accepted.
    watch: float = 600.0


class RollbackWatch:
    """Watch one release from its swap (monotonic seconds) on."""

    def __init__(
        self, release: str, baseline: float, started: float, thresholds: RollbackThresholds
    ) -> None:
        self.release = release
        #: The previous release's rate (interventions/min).
        self.baseline = baseline
        self.started = started
        self.thresholds = thresholds
        self._events: deque[float] = deque()

    def add(self, now: float) -> None:
        self._events.append(now)

    def _trim(self, now: float) -> None:
        while self._events and self._events[0] < now - self.thresholds.window:
            self._events.popleft()

    def rate(self, now: float) -> float:
        """Interventions per minute in the window."""
        self._trim(now)
        return 60.0 * len(self._events) / self.thresholds.window

    def events(self, now: float) -> int:
        self._trim(now)
        return len(self._events)

    def done(self, now: float) -> bool:
        """Watched long enough: the release is accepted."""
        return now - self.started >= self.thresholds.watch

    def verdict(self, now: float) -> str | None:
        """Why the release must be rolled back now, or None."""
        count, rate = self.events(now), self.rate(now)
        if count < self.thresholds.min_events:
            return None
        if rate <= self.baseline + self.thresholds.margin:
            return None
        span = min(now - self.started, self.thresholds.window)
        return (
            f"{count} safety interventions in {span:.0f} s: {rate:.1f}/min against "
            f"{self.baseline:.1f}/min for the previous release "
            f"(margin {self.thresholds.margin:g}/min)"
        )
