"""fw_safety: the software safety supervisor between command sources and ``cmd_vel``.

The plain-Python core (:class:`SafetySupervisor` and its parts) has no ROS dependency; the node
(:mod:`fw_safety.safety_node`) wires it to topics. Non-rated: rated stops stay in hardware.
"""

from fw_safety.events import EVENT_KINDS, Level, SafetyEvent
from fw_safety.scan_points import ScanPoints, ScanProjector
from fw_safety.supervisor import POLICY, SOURCES, TELEOP, SafetySupervisor, StepResult
from fw_safety.twist import ZERO, Twist2D
from fw_safety.zones import CollisionZones, ZoneVerdict

__all__ = [
    "EVENT_KINDS",
    "POLICY",
    "SOURCES",
    "TELEOP",
    "ZERO",
    "CollisionZones",
    "Level",
    "SafetyEvent",
    "SafetySupervisor",
    "ScanPoints",
    "ScanProjector",
    "StepResult",
    "Twist2D",
    "ZoneVerdict",
]
