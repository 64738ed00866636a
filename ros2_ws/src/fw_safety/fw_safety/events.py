"""Safety interventions as plain records (the node turns them into messages)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fw_safety.twist import ZERO, Twist2D

__all__ = ["EVENT_KINDS", "Level", "SafetyEvent"]


class Level:
    """Severity, with the values of diagnostic_msgs/DiagnosticStatus."""

    OK = 0
    WARN = 1
    ERROR = 2


#: Every event kind and its severity.
EVENT_KINDS: dict[str, int] = {
    "estop": Level.ERROR,  # e-stop pressed (latched)
    "heartbeat": Level.ERROR,  # heartbeat lock lost or released (latched)
    "tilt": Level.ERROR,  # roll or pitch beyond its limit (latched)
    "geofence": Level.ERROR,  # odometry outside the fence (latched)
    "stale_scan": Level.ERROR,  # scan watchdog fired (stop until fresh)
    "stale_odom": Level.ERROR,  # odometry watchdog fired
    "stale_imu": Level.ERROR,  # IMU watchdog fired
    "stale_command": Level.WARN,  # the driving source went stale while moving
    "refused_command": Level.WARN,  # non-finite command or wrong frame (zeroed)
    "stop_zone": Level.WARN,  # obstacle in the stop zone
    "slowdown_zone": Level.WARN,  # obstacle in the slowdown zone
    "approach": Level.WARN,  # time to collision below its limit
    "teleop_override": Level.WARN,  # a person took over from the policy
    "reset": Level.OK,  # a latched stop was reset through the service
}


@dataclass(frozen=True)
class SafetyEvent:
    """One intervention: what happened, why, and the commands around it."""

    kind: str
    reason: str
    #: ROS time of the intervention (ns).
    stamp_ns: int
    #: Source driving the output at the time ("" when none).
    source: str = ""
    #: Latest command of each source that had one (before any filtering).
    inputs: dict[str, Twist2D] = field(default_factory=dict)
    #: The command the supervisor output.
    output: Twist2D = ZERO

    @property
    def level(self) -> int:
        return EVENT_KINDS.get(self.kind, Level.WARN)
