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
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from fw_common.profile import PerceptionConfig

__all__ = ["CleanedScan", "ScanCleaner", "median_filter", "normalise_rep117"]

FloatArray = npt.NDArray[np.float32]


def _nan_comparisons_flag_invalid() -> bool:
    """Whether this NumPy build sets the floating-point "invalid" flag when it compares NaN
    (some SIMD comparison loops once did, and NumPy then warns). The cleaner compares arrays
    that hold NaN on every scan; where the flag stays clear it skips ``np.errstate``, whose
    first entry after the idle time between two scans costs about as much as a NumPy call."""
    nan32 = np.full(64, np.nan, dtype=np.float32)
    with np.errstate(invalid="raise"):
        try:
            _ = nan32 > 1.0, nan32 < 1.0, nan32 >= np.zeros(64), nan32 <= np.zeros(64)
        except FloatingPointError:
            return True
    return False


_QUIET = nullcontext()
_COMPARISONS_NEED_ERRSTATE = _nan_comparisons_flag_invalid()


def _quiet_nan_comparisons() -> AbstractContextManager[object]:
    """The context for comparisons of arrays that may hold NaN: no warning either way."""
    return np.errstate(invalid="ignore") if _COMPARISONS_NEED_ERRSTATE else _QUIET


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
    _to_rep117(r, sensor_min, sensor_max)
    return r


def _to_rep117(r: FloatArray, low: float, high: float) -> None:
    """In place: ``r > high`` → ``+inf``, ``r < low`` → ``-inf``. ``±inf`` already compare
    that way and NaN compares false, so no finiteness mask is needed."""
    with _quiet_nan_comparisons():
        np.copyto(r, np.inf, where=r > high)
        np.copyto(r, -np.inf, where=r < low)


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
    """:func:`median_filter` for the default window of 3, without a sort: the median of three
    valid values, else the smaller of the valid ones (the lower median), NaN when none is
    valid. ``np.minimum``/``np.maximum`` propagate NaN, so the median of three is NaN exactly
    when a value is missing; ``np.fmin`` skips NaN."""
    a, b, c = padded[:-2], padded[1:-1], padded[2:]
    mid: FloatArray = np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))
    np.copyto(mid, np.fmin(np.fmin(a, b), c), where=np.isnan(mid))
    return mid


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
        self._body_from: npt.NDArray[np.float64] = np.empty(0)
        self._body_to: npt.NDArray[np.float64] = np.empty(0)

    @classmethod
    def from_config(cls, config: PerceptionConfig) -> ScanCleaner:
        """The cleaner a robot profile's ``perception`` section describes (with the body box and
        laser pose of its ``robot`` body)."""
        return cls(
            range_min=config.range_min,
            range_max=config.range_max,
            median_window=config.median_window,
            laser_pose=config.robot.laser.pose2d,
            footprint=config.robot.footprint.box(),
            footprint_margin=config.footprint_margin,
        )

    def _geometry_for(self, beams: int, angle_min: float, angle_increment: float) -> None:
        """Per beam, the ranges at which its return lies inside the body box (cached: a
        driver's scan geometry never changes). A beam's line meets a box in one interval of
        range (slab method), so the body mask costs two comparisons per scan."""
        if self._geometry == (beams, angle_min, angle_increment):
            return
        angles = angle_min + angle_increment * np.arange(beams) + self.laser_pose[2]
        lower = np.full(beams, -np.inf)
        upper = np.full(beams, np.inf)
        x_min, x_max, y_min, y_max = self.box
        for origin, direction, low, high in (
            (self.laser_pose[0], np.cos(angles), x_min, x_max),
            (self.laser_pose[1], np.sin(angles), y_min, y_max),
        ):
            parallel = direction == 0.0
            # A direction of ~1e-310 overflows to ±inf: the limit of a beam all but parallel.
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                t_low, t_high = (low - origin) / direction, (high - origin) / direction
            enter, leave = np.minimum(t_low, t_high), np.maximum(t_low, t_high)
            # A beam parallel to a slab is inside it everywhere or nowhere.
            within = low <= origin <= high
            enter[parallel] = -np.inf if within else np.inf
            leave[parallel] = np.inf if within else -np.inf
            lower, upper = np.maximum(lower, enter), np.minimum(upper, leave)
        self._body_from, self._body_to = lower, upper
        self._geometry = (beams, angle_min, angle_increment)

    def body_mask(
        self, ranges: FloatArray, angle_min: float, angle_increment: float
    ) -> npt.NDArray[np.bool_]:
        """Beams whose return lies inside the (grown) body box (never ``±inf`` or NaN)."""
        self._geometry_for(ranges.size, angle_min, angle_increment)
        with _quiet_nan_comparisons():
            inside: npt.NDArray[np.bool_] = (ranges >= self._body_from) & (ranges <= self._body_to)
        return inside

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
        np.copyto(r, np.nan, where=mask)
        full_turn = abs(abs(angle_increment) * r.size - 2.0 * math.pi) < abs(angle_increment)
        r = median_filter(r, self.median_window, wrap=full_turn)
        np.copyto(r, np.nan, where=mask)
        _to_rep117(r, self.range_min, self.range_max)
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
