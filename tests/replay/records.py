"""What the replays compare: stage outputs as plain records keyed by header stamp (ns), read
from recorded messages or made from the robot loop's outputs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from fw_common.conversions import stamp_to_ns, yaw_from_quaternion

__all__ = [
    "Command",
    "Pose2D",
    "SafetyStep",
    "ScanOut",
    "by_stamp",
    "odom_pose",
    "pairs",
    "pose_stamped",
    "scan_out",
    "twist_command",
]


@dataclass(frozen=True)
class ScanOut:
    """A cleaned scan: stamp (ns), ranges (m, float32, REP-117 values), limits (m), and the
    beam angles ``angle_min + i * angle_increment`` (rad)."""

    stamp_ns: int
    ranges: npt.NDArray[np.float32]
    range_min: float
    range_max: float
    angle_min: float = 0.0
    angle_increment: float = 0.0


@dataclass(frozen=True)
class Pose2D:
    """A planar pose or state: stamp (ns), x, y (m), yaw (rad), linear (m/s), angular (rad/s)."""

    stamp_ns: int
    x: float
    y: float
    yaw: float
    linear: float = 0.0
    angular: float = 0.0


@dataclass(frozen=True)
class Command:
    """A twist command with the stamp it carries (ns); ``reason`` why it is zero, if known."""

    stamp_ns: int
    linear: float
    angular: float
    reason: str | None = None


def scan_out(msg: Any) -> ScanOut:
    return ScanOut(
        stamp_to_ns(msg.header.stamp),
        np.asarray(msg.ranges, dtype=np.float32),
        float(msg.range_min),
        float(msg.range_max),
        float(msg.angle_min),
        float(msg.angle_increment),
    )


def odom_pose(msg: Any) -> Pose2D:
    p, q = msg.pose.pose.position, msg.pose.pose.orientation
    t = msg.twist.twist
    return Pose2D(
        stamp_to_ns(msg.header.stamp),
        p.x,
        p.y,
        yaw_from_quaternion(q.x, q.y, q.z, q.w),
        t.linear.x,
        t.angular.z,
    )


def pose_stamped(msg: Any) -> Pose2D:
    p, q = msg.pose.position, msg.pose.orientation
    return Pose2D(stamp_to_ns(msg.header.stamp), p.x, p.y, yaw_from_quaternion(q.x, q.y, q.z, q.w))


def twist_command(msg: Any) -> Command:
    return Command(stamp_to_ns(msg.header.stamp), msg.twist.linear.x, msg.twist.angular.z)


@dataclass(frozen=True)
class SafetyStep:
    """One supervisor step: when (ROS time, ns), the output and the events it started."""

    now_ns: int
    stamp_ns: int
    linear: float
    angular: float
    state: str
    events: tuple[str, ...] = ()


def by_stamp(items: Iterable[Any]) -> dict[int, Any]:
    """Records keyed by ``stamp_ns`` (the last one wins for a repeated stamp)."""
    return {item.stamp_ns: item for item in items}


def pairs(ours: dict[int, Any], recorded: dict[int, Any]) -> Iterator[tuple[Any, Any]]:
    """(replayed, recorded) for every stamp both have."""
    for stamp, ref in recorded.items():
        if stamp in ours:
            yield ours[stamp], ref
