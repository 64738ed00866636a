"""Ablation for the latency benchmark: the stack with chosen cores made free.

``bench_latency.py --ablate clean,featurize,zones`` runs one more chain, the real stack whose
named cores compute each distinct call once and then look the answer up.
That chain is a bound: no faster implementation of those cores (a compiled kernel, a better
algorithm) can make the stack faster than it. Whatever gap to the relays remains is the rest of
the stack: reading and writing messages, the nodes' Python, the inference, the hand-offs.

Results are cached per call's small arguments (angles and limits, goal and velocity, the
command and the zone rule), not per scan: that is exact for the benchmark, not an
approximation, because its driver sends the same ranges every period, so each core's answer
depends only on those arguments (no core reads a stamp). Nothing else may use this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fw_common.observation import ObservationSpec
from fw_perception.scan_filter import ScanCleaner
from fw_safety.zones import CollisionZones

__all__ = ["PARTS", "ablated", "parse_parts"]

#: Per part: the class, the method, and the key of a call (its arguments but the scan).
_TARGETS: dict[str, tuple[type, str, Callable[..., Any]]] = {
    # perception: REP-117 mapping, body mask, median, clipping
    "clean": (ScanCleaner, "clean", lambda _ranges, *limits: limits),
    # policy: min-pooled beams, goal and velocity features
    "featurize": (ObservationSpec, "featurize", lambda _ranges, *rest: rest),
    # safety: stop zone, slowdown zone and the approach rule on each command
    "zones": (
        CollisionZones,
        "restrict",
        lambda cmd, _scan, use_slowdown=True: (cmd, use_slowdown),
    ),
}
PARTS = tuple(_TARGETS)


def parse_parts(text: str) -> tuple[str, ...]:
    """``"clean,zones"`` → ``("clean", "zones")``; raises ``ValueError`` on unknown parts."""
    parts = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise ValueError(f"unknown parts {unknown}; choose from {', '.join(PARTS)}")
    return parts


def _cached(compute: Callable[..., Any], key: Callable[..., Any]) -> Callable[..., Any]:
    cache: dict[Any, Any] = {}

    def lookup(self: Any, *args: Any, **kwargs: Any) -> Any:
        k = key(*args, **kwargs)
        if k not in cache:
            cache[k] = compute(self, *args, **kwargs)
        return cache[k]

    return lookup


@contextmanager
def ablated(parts: tuple[str, ...]) -> Iterator[None]:
    """Within the block, every ``parts`` core computes each distinct call once."""
    saved = {part: getattr(_TARGETS[part][0], _TARGETS[part][1]) for part in parts}
    try:
        for part in parts:
            cls, name, key = _TARGETS[part]
            setattr(cls, name, _cached(saved[part], key))
        yield
    finally:
        for part in parts:
            cls, name, _key = _TARGETS[part]
            setattr(cls, name, saved[part])
