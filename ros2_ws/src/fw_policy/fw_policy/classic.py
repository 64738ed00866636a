"""``classic``: follow-the-gap toward the goal on the cleaned scan, no learned model.

For each of ``headings`` candidate directions the controller measures how far a corridor as
wide as the robot (plus ``margin`` on each side) stays free of scan returns. It steers to the
open heading (free for ``lookahead``, or up to the goal when nearer) closest to the goal
bearing, with a small preference for the heading it chose last (no dithering between two
equal gaps); when nothing is open it steers to the most open heading. It turns in place when
the heading error is large and slows down as the way straight ahead shortens.

Returns are taken as seen from ``base_link`` (the laser's offset ignored): for a laser mounted
ahead of the centre that puts obstacles ahead slightly nearer than they are, the safe side.
Lengths in m, angles in rad, speeds in m/s and rad/s.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from fw_common.profile import ClassicPolicyConfig
from fw_policy.base import Action, PolicyInput

__all__ = ["FollowTheGap"]

_HYSTERESIS = 0.15  # cost of 1 rad away from the previous choice, relative to the goal error


def _wrap(angle: npt.ArrayLike) -> Any:
    return np.mod(np.asarray(angle) + math.pi, 2.0 * math.pi) - math.pi


class FollowTheGap:
    """Reactive controller; keeps the last chosen heading (in the robot frame) between calls."""

    kind = "classic"

    def __init__(self, config: ClassicPolicyConfig) -> None:
        self.config = config
        self.headings = np.linspace(-math.pi, math.pi, config.headings, endpoint=False)
        self._cos, self._sin = np.cos(self.headings), np.sin(self.headings)
        self._previous = 0.0

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "controller": "follow_the_gap"}

    def free_distances(self, inputs: PolicyInput) -> npt.NDArray[np.float64]:
        """Free corridor length (m) ahead of the bumper along every candidate heading."""
        r = np.asarray(inputs.ranges, dtype=np.float64)
        angles = inputs.angle_min + inputs.angle_increment * np.arange(r.size)
        # -inf: something nearer than the sensor's minimum: put it there.
        r = np.where(np.isneginf(r), inputs.range_min, r)
        keep = np.isfinite(r)
        px, py = r[keep] * np.cos(angles[keep]), r[keep] * np.sin(angles[keep])
        along = np.outer(self._cos, px) + np.outer(self._sin, py)
        lateral = np.outer(-self._sin, px) + np.outer(self._cos, py)
        corridor = self.config.half_width + self.config.margin
        blocked = (np.abs(lateral) < corridor) & (along > 0.0)
        ahead = np.where(blocked, along, np.inf).min(axis=1, initial=np.inf)
        return np.asarray(ahead - self.config.front_extent, dtype=np.float64)

    def act(self, inputs: PolicyInput) -> Action:
        c = self.config
        gx, gy = inputs.goal_xy
        distance = math.hypot(gx, gy)
        bearing = math.atan2(gy, gx)
        free = self.free_distances(inputs)
        need = min(c.lookahead, distance)
        goal_error = np.abs(_wrap(self.headings - bearing))
        cost = goal_error + _HYSTERESIS * np.abs(_wrap(self.headings - self._previous))
        is_open = free >= need
        if is_open.any():
            k = int(np.argmin(np.where(is_open, cost, np.inf)))
        else:
            k = int(np.argmax(free - 1e-3 * cost))
        target = float(self.headings[k])
        self._previous = target
        angular = max(-c.max_angular, min(c.max_angular, c.heading_gain * target))
        if abs(target) > c.turn_in_place:
            return Action(0.0, angular)
        straight = float(free[int(np.argmin(np.abs(self.headings)))])
        span = max(c.slow_distance - c.stop_distance, 1e-6)
        clearance = min(max((straight - c.stop_distance) / span, 0.0), 1.0)
        linear = c.max_linear * math.cos(target) * clearance * min(1.0, distance)
        return Action(max(linear, 0.0), angular)
