"""When the policy must command zero instead of acting: its input gate.

The node and the golden-bag replay both call :func:`stop_reason`, so the rules cannot drift
apart. Times are integer nanoseconds on one clock (ROS time: sim time in simulation).
"""

from __future__ import annotations

import math

__all__ = ["stop_reason"]


def stop_reason(
    scan_ns: int,
    now_ns: int,
    state_ns: int | None,
    goal_ns: int | None,
    goal_xy: tuple[float, float] | None,
    input_timeout: float,
    goal_tolerance: float,
) -> str | None:
    """Why the policy must output zero for the scan stamped ``scan_ns``, or None to act.

    ``state_ns``/``goal_ns`` are the stamps of the latest state and goal (None: none yet),
    ``goal_xy`` the goal in ``base_link`` (m); ``input_timeout`` (s) bounds how far apart the
    scan, the state and the goal may be, and how old the scan may be at ``now_ns``;
    ``goal_tolerance`` (m) is the radius within which the goal counts as reached.
    """
    timeout_ns = int(input_timeout * 1e9)
    if now_ns - scan_ns > timeout_ns:
        return "scan is stale"
    if state_ns is None:
        return "no state yet"
    if abs(scan_ns - state_ns) > timeout_ns:
        return "state is stale"
    if goal_ns is None or goal_xy is None:
        return "no goal"
    if abs(scan_ns - goal_ns) > timeout_ns:
        return "goal is stale"
    if math.hypot(goal_xy[0], goal_xy[1]) <= goal_tolerance:
        return "goal reached"
    return None
