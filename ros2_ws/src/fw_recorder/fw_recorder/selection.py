"""Which topics to record: exact names, regular expressions, exclusions (exclusions win).

Every pattern is anchored (``re.fullmatch``). A pattern that starts with ``/`` is matched
against the absolute topic name; any other pattern is matched against the name relative to the
recorder's namespace, and never matches a topic outside that namespace. So with the default
``fw/perception/.*`` the robot in ``/r1`` records ``/r1/fw/perception/scan`` and not
``/r2/fw/perception/scan``, and a robot in the root namespace records neither.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["TopicSelection", "absolute_name", "relative_name"]


def _namespace_prefix(namespace: str) -> str:
    """``/r1/`` for ``r1`` or ``/r1``; ``/`` for the root namespace."""
    ns = namespace.strip("/")
    return f"/{ns}/" if ns else "/"


def absolute_name(name: str, namespace: str) -> str:
    """``scan`` in ``/r1`` → ``/r1/scan``; absolute names are kept; ``~`` is not supported."""
    if name.startswith("/"):
        return name
    return _namespace_prefix(namespace) + name


def relative_name(topic: str, namespace: str) -> str | None:
    """``/r1/fw/x`` in ``/r1`` → ``fw/x``; None for a topic outside the namespace."""
    prefix = _namespace_prefix(namespace)
    return topic[len(prefix) :] if topic.startswith(prefix) else None


class _Patterns:
    """Anchored patterns, absolute (leading ``/``) or relative to one namespace."""

    def __init__(self, patterns: Iterable[str], namespace: str) -> None:
        patterns = list(patterns)
        self.namespace = namespace
        self.absolute = [re.compile(p) for p in patterns if p.startswith("/")]
        self.relative = [re.compile(p) for p in patterns if not p.startswith("/")]

    def match(self, topic: str) -> bool:
        if any(p.fullmatch(topic) for p in self.absolute):
            return True
        relative = relative_name(topic, self.namespace)
        return relative is not None and any(p.fullmatch(relative) for p in self.relative)


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
        self.include = _Patterns(include_regex, namespace)
        self.exclude = _Patterns(exclude_regex, namespace)
        self.low = _Patterns(low_priority_regex, namespace)

    def selects(self, topic: str) -> bool:
        if self.exclude.match(topic):
            return False
        return topic in self.exact or self.include.match(topic)

    def low_priority(self, topic: str) -> bool:
        return self.low.match(topic)
