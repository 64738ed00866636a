"""Prioritised command sources with timeouts (twist_mux semantics)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fw_safety.freshness import Freshness
from fw_safety.twist import Twist2D

__all__ = ["CommandMux", "SourceCommand"]


@dataclass(frozen=True)
class SourceCommand:
    """The latest command of one source."""

    source: str
    twist: Twist2D
    #: Stamp the source put on its command (ns): the sensor data it was computed from.
    stamp_ns: int
    #: True when the source's command was refused (non-finite, wrong frame) and zeroed.
    refused: bool = False


class CommandMux:
    """Selects the highest-priority source whose latest command is fresh.

    ``priorities`` lists source names, highest priority first. A stale source is ignored; with
    no fresh source there is no command (the supervisor then outputs zero).
    """

    def __init__(self, priorities: Sequence[str], timeouts_ns: dict[str, int]) -> None:
        self.priorities = tuple(priorities)
        self._fresh = {name: Freshness(timeouts_ns[name]) for name in self.priorities}
        self._latest: dict[str, SourceCommand] = {}

    def set_timeout(self, source: str, timeout_ns: int) -> None:
        self._fresh[source].timeout_ns = int(timeout_ns)

    def timeout_ns(self, source: str) -> int:
        return self._fresh[source].timeout_ns

    def feed(
        self, source: str, twist: Twist2D, stamp_ns: int, now_ns: int, refused: bool = False
    ) -> None:
        """Record ``source``'s command, received at ``now_ns``."""
        self._latest[source] = SourceCommand(source, twist, stamp_ns, refused)
        self._fresh[source].feed(now_ns)

    def latest(self) -> dict[str, SourceCommand]:
        """The latest command of every source that sent one, fresh or not."""
        return dict(self._latest)

    def fresh(self, source: str, now_ns: int) -> bool:
        return source in self._latest and self._fresh[source].fresh(now_ns)

    def select(self, now_ns: int) -> SourceCommand | None:
        """The command of the highest-priority fresh source, or None."""
        for name in self.priorities:
            if self.fresh(name, now_ns):
                return self._latest[name]
        return None
