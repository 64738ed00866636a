"""Input freshness on any clock (wall or simulated), in integer nanoseconds."""

from __future__ import annotations

__all__ = ["Freshness"]


class Freshness:
    """Tracks when an input last arrived and whether it is still fresh.

    Time is the caller's ROS clock (sim time under ``use_sim_time``), so a simulation running
    slower or faster than real time is judged in its own time. A clock that jumps backwards (a
    simulator reset) makes the input stale rather than fresh. A timeout of 0 disables the
    check (always fresh).
    """

    def __init__(self, timeout_ns: int) -> None:
        self.timeout_ns = int(timeout_ns)
        self.last_ns: int | None = None

    @property
    def enabled(self) -> bool:
        return self.timeout_ns > 0

    @property
    def ever_fed(self) -> bool:
        return self.last_ns is not None

    def feed(self, now_ns: int) -> None:
        """Record an arrival at ``now_ns``."""
        self.last_ns = now_ns

    def fresh(self, now_ns: int) -> bool:
        """True while the last arrival is at most ``timeout_ns`` old (or the check is off)."""
        if not self.enabled:
            return True
        if self.last_ns is None:
            return False
        age = now_ns - self.last_ns
        return 0 <= age <= self.timeout_ns

    def age_ns(self, now_ns: int) -> int | None:
        """Time since the last arrival (ns), or None if nothing arrived yet."""
        return None if self.last_ns is None else now_ns - self.last_ns
