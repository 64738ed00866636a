"""Roll and pitch from an IMU orientation quaternion."""

from __future__ import annotations

import math

__all__ = ["roll_pitch"]

# A unit quaternion from a driver is within rounding of norm 1; anything else is garbage.
_NORM_TOLERANCE = 0.1


def roll_pitch(x: float, y: float, z: float, w: float) -> tuple[float, float] | str:
    """``(roll, pitch)`` (rad, ZYX Euler convention) of a quaternion, or why it is unusable."""
    q = (x, y, z, w)
    if not all(math.isfinite(v) for v in q):
        return f"non-finite orientation {q}"
    norm = math.sqrt(x * x + y * y + z * z + w * w)
    if abs(norm - 1.0) > _NORM_TOLERANCE:
        return f"orientation quaternion has norm {norm:.3f}, not 1"
    x, y, z, w = x / norm, y / norm, z / norm, w / norm
    roll = math.atan2(2.0 * (w * x + y * z), 1.0 - 2.0 * (x * x + y * y))
    pitch = math.asin(min(1.0, max(-1.0, 2.0 * (w * y - z * x))))
    return roll, pitch
