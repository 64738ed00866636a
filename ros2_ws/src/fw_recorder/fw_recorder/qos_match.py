"""QoS of a recording subscription that matches every publisher of a topic.

Like ``ros2 bag record``: subscribe best-effort if any publisher is best-effort (a reliable
reader would not match it), transient-local only if every publisher is (so latched state such as
the scenario and policy info is received even when it was published before the recorder
started, and a volatile publisher is still matched).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rosbags.interfaces import (
    Qos,
    QosDurability,
    QosHistory,
    QosLiveliness,
    QosReliability,
    QosTime,
)

__all__ = ["PublisherQos", "offered_qos", "subscription_qos"]


@dataclass(frozen=True)
class PublisherQos:
    """The two policies that decide matching, as a publisher offers them."""

    reliable: bool
    transient_local: bool


def subscription_qos(publishers: Sequence[PublisherQos]) -> PublisherQos | None:
    """The subscription's ``(reliable, transient_local)``; None when there is no publisher."""
    if not publishers:
        return None
    return PublisherQos(
        reliable=all(p.reliable for p in publishers),
        transient_local=all(p.transient_local for p in publishers),
    )


def offered_qos(publishers: Sequence[PublisherQos], depth: int) -> list[Qos]:
    """The publishers' QoS in rosbag2 metadata form (``ros2 bag play`` republishes with it)."""
    zero = QosTime(0, 0)
    return [
        Qos(
            history=QosHistory.KEEP_LAST,
            depth=depth,
            reliability=QosReliability.RELIABLE if p.reliable else QosReliability.BEST_EFFORT,
            durability=(
                QosDurability.TRANSIENT_LOCAL if p.transient_local else QosDurability.VOLATILE
            ),
            deadline=zero,
            lifespan=zero,
            liveliness=QosLiveliness.AUTOMATIC,
            liveliness_lease_duration=zero,
            avoid_ros_namespace_conventions=False,
        )
        for p in sorted(set(publishers), key=lambda q: (q.reliable, q.transient_local))
    ]
