"""LaserScan fields → obstacle points in base_link, validated and vectorised.

Beam directions are cached per scan geometry (``angle_min``, ``angle_increment``, beam count),
so a scan costs a handful of NumPy operations and no per-beam Python. Range conventions follow
REP-117: ``+inf`` is "nothing in range" (free), ``-inf`` is "closer than ``range_min``" (an
obstacle at ``range_min``), NaN is an erroneous beam. Finite values outside
``[range_min, range_max]`` are discarded, as sensor_msgs/LaserScan asks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["ScanPoints", "ScanProjector"]

FloatArray = npt.NDArray[np.float64]

# A full turn of beams may hold one beam more or less than (max - min) / increment + 1.
_COUNT_TOLERANCE = 1
_MAX_BEAMS = 100_000


@dataclass(frozen=True)
class ScanPoints:
    """Obstacle points of one scan in base_link: ``x`` and ``y`` (m), same length."""

    x: FloatArray
    y: FloatArray

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @staticmethod
    def empty() -> ScanPoints:
        return ScanPoints(np.zeros(0), np.zeros(0))


class ScanProjector:
    """Validates a scan's fields and projects its beams into base_link points.

    ``laser_pose`` is the laser's ``(x, y, yaw)`` in base_link (m, m, rad). A scan whose share
    of NaN beams exceeds ``max_invalid_fraction`` is refused as blind: an all-NaN scan would
    otherwise look like free space.
    """

    def __init__(self, laser_pose: Sequence[float], max_invalid_fraction: float) -> None:
        self.laser_x, self.laser_y, self.laser_yaw = (float(v) for v in laser_pose)
        self.max_invalid_fraction = float(max_invalid_fraction)
        self._key: tuple[float, float, int] | None = None
        self._cos: FloatArray = np.zeros(0)
        self._sin: FloatArray = np.zeros(0)

    def _directions(self, angle_min: float, increment: float, n: int) -> None:
        key = (angle_min, increment, n)
        if key != self._key:
            angles = angle_min + increment * np.arange(n, dtype=np.float64) + self.laser_yaw
            self._cos, self._sin = np.cos(angles), np.sin(angles)
            self._key = key

    @staticmethod
    def check_fields(
        angle_min: float,
        angle_max: float,
        angle_increment: float,
        range_min: float,
        range_max: float,
        n: int,
    ) -> str | None:
        """Why a scan's header fields are unusable, or None when they are consistent."""
        if n == 0:
            return "empty scan (no ranges)"
        if n > _MAX_BEAMS:
            return f"{n} beams is more than {_MAX_BEAMS}"
        fields = (angle_min, angle_max, angle_increment, range_min, range_max)
        if not all(math.isfinite(v) for v in fields):
            return f"non-finite angle or range fields {fields}"
        if angle_increment == 0.0:
            return "angle_increment is 0"
        if abs(angle_increment) * (n - 1) > 2.0 * math.pi + 1e-3:
            return f"{n} beams × angle_increment {angle_increment} spans more than a turn"
        expected = round((angle_max - angle_min) / angle_increment) + 1
        if abs(expected - n) > _COUNT_TOLERANCE:
            return f"{n} ranges but angle_min/max/increment describe {expected} beams"
        if range_min < 0.0 or range_max <= range_min:
            return f"range_min {range_min} / range_max {range_max} are inconsistent"
        return None

    def project(
        self,
        angle_min: float,
        angle_max: float,
        angle_increment: float,
        range_min: float,
        range_max: float,
        ranges: npt.ArrayLike,
    ) -> ScanPoints | str:
        """The scan's obstacle points in base_link, or why the scan was refused."""
        r = np.asarray(ranges, dtype=np.float64).reshape(-1)
        n = int(r.shape[0])
        reason = self.check_fields(angle_min, angle_max, angle_increment, range_min, range_max, n)
        if reason is not None:
            return reason
        nan = np.isnan(r)
        invalid = int(np.count_nonzero(nan))
        if invalid > self.max_invalid_fraction * n:
            return f"blind scan: {invalid}/{n} beams are NaN"
        self._directions(float(angle_min), float(angle_increment), n)
        # -inf (too close to measure) is an obstacle at range_min; +inf and NaN are no point.
        r = np.where(np.isneginf(r), range_min, r)
        keep = (r >= range_min) & (r <= range_max)
        rk = r[keep]
        x = self.laser_x + rk * self._cos[keep]
        y = self.laser_y + rk * self._sin[keep]
        return ScanPoints(x, y)
