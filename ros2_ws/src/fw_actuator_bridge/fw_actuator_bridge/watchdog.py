"""A command watchdog on any clock (wall or simulated), in integer nanoseconds."""

from __future__ import annotations

__all__ = ["CommandWatchdog"]


class CommandWatchdog:
    """Fires when no command has been fed for ``timeout_ns``.

    Time is whatever the caller's clock says (ROS time, which is sim time under ``use_sim_time``),
    so the watchdog behaves the same in a simulation running faster than real time. A clock that
    jumps backwards (a simulator reset) counts as stale rather than fresh.
    """

    def __init__(self, timeout_ns: int) -> None:
        self.timeout_ns = int(timeout_ns)
        self._last_ns: int | None = None

    def feed(self, now_ns: int) -> None:
        """Record a fresh command at ``now_ns``."""
        self._last_ns = now_ns

    def reset(self) -> None:
        """Forget the last command (fires until the next feed)."""
        self._last_ns = None

    def expired(self, now_ns: int) -> bool:
        """True when no command has arrived within the timeout (or ever)."""
        if self._last_ns is None:
            return True
        age = now_ns - self._last_ns
        return age < 0 or age > self.timeout_ns

    def age_ns(self, now_ns: int) -> int | None:
        """Time since the last command (ns), or None if none arrived."""
        return None if self._last_ns is None else now_ns - self._last_ns
