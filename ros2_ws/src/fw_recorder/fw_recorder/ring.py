"""The snapshot ring buffer: the most recent messages, bounded by total bytes and by age.

Entries are ``(t_ns, topic_id, data)`` in arrival order. Only the writer thread touches a
ring, so it needs no lock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

__all__ = ["Entry", "RingBuffer"]

#: One received message: (receive time (ns), topic id, serialized CDR bytes).
Entry = tuple[int, int, bytes]


class RingBuffer:
    """Keeps the newest entries whose total payload is at most ``max_bytes`` and whose age,
    measured against the newest entry, is at most ``max_age_ns``.

    An entry larger than ``max_bytes`` on its own is not kept (counted in ``oversize``).
    """

    def __init__(self, max_bytes: int, max_age_ns: int) -> None:
        if max_bytes <= 0 or max_age_ns <= 0:
            raise ValueError("ring bounds must be positive")
        self.max_bytes = max_bytes
        self.max_age_ns = max_age_ns
        self._entries: deque[Entry] = deque()
        self.bytes = 0
        #: Entries pushed out by either bound (not lost: they were never asked for).
        self.evicted = 0
        self.oversize = 0

    def __len__(self) -> int:
        return len(self._entries)

    def append(self, entry: Entry) -> None:
        """Add the newest entry, evicting the oldest until both bounds hold."""
        size = len(entry[2])
        if size > self.max_bytes:
            self.oversize += 1
            return
        entries = self._entries
        entries.append(entry)
        self.bytes += size
        while self.bytes > self.max_bytes:
            self.bytes -= len(entries.popleft()[2])
            self.evicted += 1
        oldest_allowed = entry[0] - self.max_age_ns
        while entries and entries[0][0] < oldest_allowed:
            self.bytes -= len(entries.popleft()[2])
            self.evicted += 1

    def since(self, t_ns: int) -> Iterator[Entry]:
        """Entries with a time at or after ``t_ns``, oldest first."""
        for entry in self._entries:
            if entry[0] >= t_ns:
                yield entry

    def oldest_ns(self) -> int | None:
        return self._entries[0][0] if self._entries else None

    def newest_ns(self) -> int | None:
        return self._entries[-1][0] if self._entries else None

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0
