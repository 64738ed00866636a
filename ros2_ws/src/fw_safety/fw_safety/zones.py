"""Collision zones from scan points: stop zone, slowdown zone and the approach rule.

All zones are shaped from the rectangular footprint in the direction of travel and evaluated
with vectorised NumPy masks over the scan's points (no per-beam Python):

* **stop zone**: a box from base_link to ``front + distance`` (or ``rear + distance`` when
  reversing), ``lateral_margin`` wider than the footprint on each side. With at least
  ``min_points`` inside, translation that way is removed; rotation in place stays allowed
  (the approach rule still guards what rotation would hit).
* **slowdown zone**: the same shape, longer and wider; occupied, it scales the whole twist by
  ``ratio``.
* **approach**: the footprint (plus ``footprint_padding``) is moved along the command's arc for
  ``time_to_collision`` seconds; if ``min_points`` enter it at time ``t`` the twist is scaled by
  ``t / time_to_collision`` so the time to collision stays at least ``time_to_collision``.
  Points already inside the padded footprint are left to the stop zone (they would freeze the
  robot in every direction).

The most restrictive zone wins.

Everything that depends on the scan alone (the boxes' counts, which points lie outside the
padded footprint and how far they are) is computed once per scan by :meth:`CollisionZones.prepare`,
when the scan arrives; a command then costs a few comparisons, one binary search and, only with
points within reach of the arc, the approach rule's poses. The command path is the latency
path from scan to actuator; the scan arrives before the command computed from it. There each
call is the first in a scan period, with cold caches, where a NumPy call has a fixed cost
whatever its size: the approach rule loops over a few points in plain Python and takes the
NumPy pose grid only for many, and the supervisor's second check of an unchanged twist reuses
the first's answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fw_common.profile.body import FootprintBox
from fw_common.profile.safety import ZonesConfig
from fw_safety.scan_points import ScanPoints
from fw_safety.twist import Twist2D

__all__ = ["CollisionZones", "ZoneScan", "ZoneVerdict"]

STOP_ZONE = "stop_zone"
SLOWDOWN_ZONE = "slowdown_zone"
APPROACH = "approach"
#: Points × simulated poses up to which the approach rule loops in Python rather than over a
#: NumPy grid: below it the loop was faster, timed as on the control path, where every call is
#: the first in a scan period.
_LOOP_LIMIT = 1000


@dataclass(frozen=True)
class ZoneVerdict:
    """What the zones did to a command."""

    twist: Twist2D
    #: Zones that restricted the command (``stop_zone``, ``slowdown_zone``, ``approach``).
    active: tuple[str, ...] = ()
    #: Scale applied to the twist by slowdown/approach (1 = none).
    scale: float = 1.0
    #: Human-readable reason for each active zone, ``;``-separated.
    reason: str = ""


@dataclass(frozen=True)
class ZoneScan:
    """One scan's points, prepared by :meth:`CollisionZones.prepare` for that zone set."""

    points: ScanPoints
    #: Points in the stop box ahead (forward motion) and behind (reverse motion).
    stop_ahead: int
    stop_behind: int
    #: Points in the slowdown box ahead and behind.
    slowdown_ahead: int
    slowdown_behind: int
    #: Points outside the padded footprint, nearest to base_link first: x, y (m) and x² + y².
    outside_x: npt.NDArray[np.float64]
    outside_y: npt.NDArray[np.float64]
    outside_d2: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.points)


class CollisionZones:
    """Restricts a twist given obstacle points in base_link.

    ``footprint`` is the robot's body box (the profile's ``robot.footprint``); ``padding`` (m)
    grows it on every side into what counts as a collision.
    """

    def __init__(self, footprint: FootprintBox, padding: float, zones: ZonesConfig) -> None:
        self.footprint = footprint
        self.zones = zones
        self._box = footprint.box(padding)
        rx_lo, rx_hi, ry_lo, ry_hi = self._box
        # Farthest padded-footprint point from base_link: rotation never sweeps beyond it.
        self._reach = math.hypot(max(-rx_lo, rx_hi), max(-ry_lo, ry_hi))
        # The approach rule's simulated times (s).
        steps = zones.approach.simulation_steps
        self._times: list[float] = (
            np.arange(1, steps + 1, dtype=np.float64) * (zones.approach.time_to_collision / steps)
        ).tolist()
        # The last time_to_collision() call: the supervisor checks the same twist twice (what
        # the source asks for, then the ramped output) once the ramp has caught up.
        self._last_ttc: tuple[ZoneScan, float, float, float | None] | None = None

    def _count_in_box(
        self, points: ScanPoints, forward: bool, distance: float, margin: float
    ) -> int:
        fp = self.footprint
        if forward:
            x_lo, x_hi = 0.0, fp.front + distance
        else:
            x_lo, x_hi = -(fp.rear + distance), 0.0
        x, y = points.x, points.y
        inside = (x >= x_lo) & (x <= x_hi) & (y >= -(fp.right + margin)) & (y <= fp.left + margin)
        return int(np.count_nonzero(inside))

    def prepare(self, points: ScanPoints) -> ZoneScan:
        """What every command's check needs from ``points``, computed once per scan."""
        stop, slowdown = self.zones.stop, self.zones.slowdown
        x_lo, x_hi, y_lo, y_hi = self._box
        x, y = points.x, points.y
        outside = ~((x >= x_lo) & (x <= x_hi) & (y >= y_lo) & (y <= y_hi))
        ox, oy = x[outside], y[outside]
        d2 = ox * ox + oy * oy
        order = np.argsort(d2, kind="stable")
        return ZoneScan(
            points,
            self._count_in_box(points, True, stop.distance, stop.lateral_margin),
            self._count_in_box(points, False, stop.distance, stop.lateral_margin),
            self._count_in_box(points, True, slowdown.distance, slowdown.lateral_margin),
            self._count_in_box(points, False, slowdown.distance, slowdown.lateral_margin),
            ox[order],
            oy[order],
            d2[order],
        )

    def stops(self, linear: float, scan: ZoneScan) -> bool:
        """True when the stop zone would remove ``linear`` (m/s): ``min_points`` of the scan's
        points in the stop box that way. The scan-time check of the node."""
        stop = self.zones.stop
        if not stop.enabled or linear == 0.0 or len(scan) == 0:
            return False
        n = scan.stop_ahead if linear > 0.0 else scan.stop_behind
        return bool(n >= stop.min_points)

    def _poses(self, linear: float, angular: float) -> list[tuple[float, float, float, float]]:
        """``(cos, sin, x, y)`` of the footprint at each simulated time along the arc."""
        poses = []
        turning = abs(angular) > 1e-9
        radius = linear / angular if turning else 0.0
        for t in self._times:
            theta = angular * t
            c, s = math.cos(theta), math.sin(theta)
            if turning:
                poses.append((c, s, radius * s, radius * (1.0 - c)))
            else:
                poses.append((c, s, linear * t, 0.0))
        return poses

    def time_to_collision(self, cmd: Twist2D, scan: ZoneScan) -> float | None:
        """Earliest time (s) within ``time_to_collision`` at which ``min_points`` points enter
        the padded footprint moving along ``cmd``'s arc, or None. Conservative: the time of
        the last simulated pose still clear. Points already inside the padded footprint are
        left to the stop zone."""
        last = self._last_ttc
        if last and last[0] is scan and last[1] == cmd.linear and last[2] == cmd.angular:
            return last[3]
        cfg = self.zones.approach
        reach = abs(cmd.linear) * cfg.time_to_collision + self._reach
        # Only points within reach of the arc can enter the footprint: a prefix of the
        # nearest-first outside points.
        near = int(np.searchsorted(scan.outside_d2, reach * reach, side="right"))
        first: int | None = None
        if near >= cfg.min_points:
            poses = self._poses(cmd.linear, cmd.angular)
            px, py = scan.outside_x[:near], scan.outside_y[:near]
            if near * len(poses) <= _LOOP_LIMIT:
                points = list(zip(px.tolist(), py.tolist(), strict=True))
                first = self._first_hit_loop(poses, points, cfg.min_points)
            else:
                first = self._first_hit_grid(poses, px, py, cfg.min_points)
        ttc = None if first is None else 0.0 if first == 0 else self._times[first - 1]
        self._last_ttc = (scan, cmd.linear, cmd.angular, ttc)
        return ttc

    def _first_hit_loop(
        self,
        poses: list[tuple[float, float, float, float]],
        points: list[tuple[float, float]],
        min_points: int,
    ) -> int | None:
        """Index of the first pose with ``min_points`` of ``points`` inside the padded
        footprint, pose by pose in Python: for a few points a cold NumPy call costs more than
        the whole loop."""
        x_lo, x_hi, y_lo, y_hi = self._box
        for k, (c, s, ox, oy) in enumerate(poses):
            n = 0
            for px, py in points:
                dx, dy = px - ox, py - oy
                if x_lo <= c * dx + s * dy <= x_hi and y_lo <= -s * dx + c * dy <= y_hi:
                    n += 1
                    if n >= min_points:
                        return k
        return None

    def _first_hit_grid(
        self,
        poses: list[tuple[float, float, float, float]],
        px: npt.NDArray[np.float64],
        py: npt.NDArray[np.float64],
        min_points: int,
    ) -> int | None:
        """:meth:`_first_hit_loop` over the whole pose × point grid at once, for many points.
        The same arithmetic in the same order, so the two agree to the bit."""
        x_lo, x_hi, y_lo, y_hi = self._box
        c, s, ox, oy = (v[:, None] for v in np.array(poses).T)
        dx, dy = px[None, :] - ox, py[None, :] - oy
        lx, ly = c * dx + s * dy, -s * dx + c * dy
        hit = (lx >= x_lo) & (lx <= x_hi) & (ly >= y_lo) & (ly <= y_hi)
        colliding = np.flatnonzero(np.count_nonzero(hit, axis=1) >= min_points)
        return int(colliding[0]) if colliding.size else None

    def restrict(self, cmd: Twist2D, scan: ZoneScan, use_slowdown: bool = True) -> ZoneVerdict:
        """The most restrictive of the enabled zones applied to ``cmd`` (``scan`` from
        :meth:`prepare`).

        ``use_slowdown=False`` leaves the slowdown zone out: the supervisor applies it once, to
        the requested command, and guards the smoothed output with the stop zone and the
        approach rule only (a second slowdown would scale twice).
        """
        zones = self.zones
        linear, angular = cmd.linear, cmd.angular
        active: list[str] = []
        reasons: list[str] = []
        scale = 1.0
        if len(scan) == 0 or (linear == 0.0 and angular == 0.0):
            return ZoneVerdict(cmd)
        way = "ahead" if linear > 0.0 else "behind"
        if zones.stop.enabled and linear != 0.0:
            n = scan.stop_ahead if linear > 0.0 else scan.stop_behind
            if n >= zones.stop.min_points:
                linear = 0.0
                active.append(STOP_ZONE)
                reasons.append(f"{n} points in the stop zone {way}")
        if use_slowdown and zones.slowdown.enabled and linear != 0.0:
            n = scan.slowdown_ahead if linear > 0.0 else scan.slowdown_behind
            if n >= zones.slowdown.min_points and zones.slowdown.ratio < 1.0:
                scale = min(scale, zones.slowdown.ratio)
                active.append(SLOWDOWN_ZONE)
                reasons.append(f"{n} points in the slowdown zone {way}")
        if zones.approach.enabled and (linear != 0.0 or angular != 0.0):
            ttc = self.time_to_collision(Twist2D(linear, angular), scan)
            if ttc is not None:
                allowed = ttc / zones.approach.time_to_collision
                if allowed < scale:
                    scale = allowed
                active.append(APPROACH)
                reasons.append(f"collision in {ttc:.2f} s at the commanded twist")
        return ZoneVerdict(
            Twist2D(linear * scale, angular * scale), tuple(active), scale, "; ".join(reasons)
        )
