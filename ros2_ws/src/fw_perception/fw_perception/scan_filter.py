"""Scan cleaning: REP-117 normalisation, a median filter, range clipping, body masking.

REP-117 gives a LaserScan range three special values, and this module keeps them so the
cleaned scan is still a valid, recordable LaserScan:

* ``+inf``: no return within ``range_max`` (free space, as far as the sensor knows);
* ``-inf``: a return closer than ``range_min`` (something is touching the sensor);
* ``NaN``: an erroneous measurement; here also a return masked as the robot's own body.

Drivers that predate REP-117 report out-of-range readings as plain numbers; those are mapped to
``±inf`` first, using the *sensor's* limits. The median then runs over neighbouring beams (NaN
left out, so a single dropout is filled from its neighbours, and a single spurious return is
removed), and the result is clipped to the configured limits. Returns that fall inside the
robot's footprint are the robot itself (a mast, a bumper) and become NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fw_common.profile import PerceptionConfig

__all__ = ["CleanedScan", "ScanCleaner", "median_filter", "normalise_rep117"]

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class CleanedScan:
    """Cleaned ranges (m, REP-117 values) and the limits they were clipped to (m)."""

    ranges: FloatArray
    range_min: float
    range_max: float
    #: Beams masked as the robot's body in this scan.
    masked: int


def normalise_rep117(ranges: npt.ArrayLike, sensor_min: float, sensor_max: float) -> FloatArray:
    """Map out-of-range numeric readings to REP-117 values: ``r > sensor_max`` → ``+inf``,
    ``r < sensor_min`` → ``-inf`` (``NaN`` and ``±inf`` pass through unchanged)."""
    r = np.array(ranges, dtype=np.float32)  # a copy: the caller's message stays untouched
    with np.errstate(invalid="ignore"):
        r[np.isfinite(r) & (r > sensor_max)] = np.inf
        r[np.isfinite(r) & (r < sensor_min)] = -np.inf
    return r


def median_filter(ranges: FloatArray, window: int, wrap: bool) -> FloatArray:
    """Sliding median over ``window`` neighbouring beams, NaN left out of each window.

    Takes the lower median of the valid values, so the output is always a real reading (never
    an average of ``-inf`` and ``+inf``). A window with no valid value stays NaN. ``wrap``
    joins the last beam to the first (full-turn scans).
    """
    if window <= 1 or ranges.size == 0:
        return ranges.copy()
    half = window // 2
    if wrap and ranges.size > window:
        padded = np.concatenate([ranges[-half:], ranges, ranges[:half]])
    else:
        padded = np.pad(ranges, half, mode="constant", constant_values=np.nan)
    if window == 3:
        return _median3(padded)
    windows = np.lib.stride_tricks.sliding_window_view(padded, window)
    ordered = np.sort(windows, axis=1)  # NaN sorts last; -inf first, +inf after numbers
    valid = np.count_nonzero(~np.isnan(windows), axis=1)
    pick = np.maximum((valid - 1) // 2, 0)
    out: FloatArray = ordered[np.arange(ranges.size), pick].astype(np.float32)
    out[valid == 0] = np.nan
    return out


def _median3(padded: FloatArray) -> FloatArray:
    """:func:`median_filter` for the default window of 3, without a sort (about 7× faster):
    the median of three valid values, else the smaller of the valid ones (the lower median),
    NaN when none is valid. ``np.fmin``/``np.fmax`` skip NaN."""
    a, b, c = padded[:-2], padded[1:-1], padded[2:]
    low = np.fmin(np.fmin(a, b), c)
    with np.errstate(invalid="ignore"):
        all_valid = ~(np.isnan(a) | np.isnan(b) | np.isnan(c))
        mid = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    out: FloatArray = np.where(all_valid, mid, low).astype(np.float32)
    return out


class ScanCleaner:
    """Cleans one scan at a time. Lengths in m, angles in rad.

    ``laser_pose`` is ``(x, y, yaw)`` of the laser in ``base_link``; ``footprint`` the body box
    ``(x_min, x_max, y_min, y_max)`` in ``base_link``, grown by ``footprint_margin``.
    """

    def __init__(
        self,
        *,
        range_min: float,
        range_max: float,
        median_window: int,
        laser_pose: Sequence[float],
        footprint: Sequence[float],
        footprint_margin: float,
    ) -> None:
        if not 0.0 <= range_min < range_max:
            raise ValueError("expected 0 <= range_min < range_max")
        self.range_min = float(range_min)
        self.range_max = float(range_max)
        self.median_window = int(median_window)
        self.laser_pose = tuple(float(v) for v in laser_pose)
        m = float(footprint_margin)
        x_min, x_max, y_min, y_max = (float(v) for v in footprint)
        self.box = (x_min - m, x_max + m, y_min - m, y_max + m)
        self._geometry: tuple[int, float, float] | None = None
        self._cos: npt.NDArray[np.float64] = np.empty(0)
        self._sin: npt.NDArray[np.float64] = np.empty(0)

    @classmethod
    def from_config(cls, config: PerceptionConfig) -> ScanCleaner:
        """The cleaner a robot profile's ``perception`` section describes."""
        return cls(
            range_min=config.range_min,
            range_max=config.range_max,
            median_window=config.median_window,
            laser_pose=config.laser_pose,
            footprint=config.footprint,
            footprint_margin=config.footprint_margin,
        )

    def _directions(self, beams: int, angle_min: float, angle_increment: float) -> None:
        if self._geometry == (beams, angle_min, angle_increment):
            return
        angles = angle_min + angle_increment * np.arange(beams) + self.laser_pose[2]
        self._cos, self._sin = np.cos(angles), np.sin(angles)
        self._geometry = (beams, angle_min, angle_increment)

    def body_mask(
        self, ranges: FloatArray, angle_min: float, angle_increment: float
    ) -> npt.NDArray[np.bool_]:
        """Beams whose return lies inside the (grown) body box."""
        self._directions(ranges.size, angle_min, angle_increment)
        finite = np.isfinite(ranges)
        r = np.where(finite, ranges, 0.0)
        x = self.laser_pose[0] + r * self._cos
        y = self.laser_pose[1] + r * self._sin
        x_min, x_max, y_min, y_max = self.box
        inside = (x >= x_min) & (x <= x_max) & (y >= y_min) & (y <= y_max)
        return finite & inside

    def clean(
        self,
        ranges: npt.ArrayLike,
        angle_min: float,
        angle_increment: float,
        sensor_min: float,
        sensor_max: float,
    ) -> CleanedScan:
        """Clean one scan; raises ``ValueError`` on unusable geometry (non-finite angles)."""
        if not (math.isfinite(angle_min) and math.isfinite(angle_increment)):
            raise ValueError("scan angles must be finite")
        r = normalise_rep117(ranges, sensor_min, sensor_max)
        if r.ndim != 1:
            raise ValueError(f"ranges must be 1-D, got shape {r.shape}")
        # Mask the body before the median (so it cannot leak into neighbouring beams) and again
        # after it (the median fills a masked beam from its neighbours).
        mask = self.body_mask(r, angle_min, angle_increment)
        r[mask] = np.nan
        full_turn = abs(abs(angle_increment) * r.size - 2.0 * math.pi) < abs(angle_increment)
        r = median_filter(r, self.median_window, wrap=full_turn)
        r[mask] = np.nan
        with np.errstate(invalid="ignore"):
            r[np.isfinite(r) & (r > self.range_max)] = np.inf
            r[np.isfinite(r) & (r < self.range_min)] = -np.inf
        limit_min = (
            max(self.range_min, float(sensor_min))
            if math.isfinite(sensor_min)
            else (self.range_min)
        )
        limit_max = (
            min(self.range_max, float(sensor_max))
            if math.isfinite(sensor_max)
            else (self.range_max)
        )
        return CleanedScan(r, limit_min, limit_max, int(np.count_nonzero(mask)))
