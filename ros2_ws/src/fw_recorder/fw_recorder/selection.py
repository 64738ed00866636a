"""Which topics to record: exact names, regular expressions, exclusions (exclusions win)."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["TopicSelection", "absolute_name"]


def absolute_name(name: str, namespace: str) -> str:
    """``scan`` in ``/r1`` → ``/r1/scan``; absolute names are kept; ``~`` is not supported."""
    if name.startswith("/"):
        return name
    ns = "/" + namespace.strip("/") if namespace.strip("/") else ""
    return f"{ns}/{name}"


class TopicSelection:
    """Decides per absolute topic name whether it is recorded and whether it is low priority."""

    def __init__(
        self,
        topics: Iterable[str],
        include_regex: Iterable[str],
        exclude_regex: Iterable[str],
        low_priority_regex: Iterable[str],
        namespace: str = "/",
    ) -> None:
        self.exact = {absolute_name(t, namespace) for t in topics}
        self.include = [re.compile(p) for p in include_regex]
        self.exclude = [re.compile(p) for p in exclude_regex]
        self.low = [re.compile(p) for p in low_priority_regex]

    def selects(self, topic: str) -> bool:
        if any(p.search(topic) for p in self.exclude):
            return False
        return topic in self.exact or any(p.search(topic) for p in self.include)

    def low_priority(self, topic: str) -> bool:
        return any(p.search(topic) for p in self.low)
