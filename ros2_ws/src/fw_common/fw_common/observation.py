"""The observation spec: perception outputs → the policy's input vector.

The robot (fw_policy) and the cloud (dataset building) both call :meth:`ObservationSpec.featurize`
on plain arrays, so a policy is trained on exactly the features it is served (no train/serve
skew). A spec is identified by :attr:`ObservationSpec.spec_id`, a hash of its name, version and
parameters; a model carries that id in its metadata and a node refuses a model whose id differs.

Layout of the vector (float32, every element in [-1, 1]):

====================  =============================================================
``scan_sectors``      min-pooled scan: beams grouped by angle into N equal sectors
                      over a full turn starting at -pi (sector 0 is behind, to the
                      right), each the nearest range / ``scan_range`` clipped to [0, 1]
``goal_distance``     distance to the goal / ``goal_range``, clipped to [0, 1]
``goal_sin``          sin of the goal bearing in ``base_link``
``goal_cos``          cos of the goal bearing
``linear``            forward speed / ``max_linear``, clipped to [-1, 1]
``angular``           yaw rate / ``max_angular``, clipped to [-1, 1]
====================  =============================================================

Range semantics follow REP-117 as fw_perception emits them: ``+inf`` (nothing within range)
counts as free (1.0), ``-inf`` (closer than the sensor's minimum) as touching (0.0), and ``NaN``
(invalid or masked) carries no information. A sector with no valid beam reads as free.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_SPEC", "SPECS", "ObservationSpec", "spec_by_name"]

_TWO_PI = 2.0 * math.pi


@lru_cache(maxsize=16)
def _sector_index(
    beams: int, angle_min: float, angle_increment: float, sectors: int
) -> npt.NDArray[np.intp]:
    """Sector of every beam (cached: a driver's scan geometry never changes)."""
    angles = angle_min + angle_increment * np.arange(beams, dtype=np.float64)
    wrapped = np.mod(angles + math.pi, _TWO_PI)  # [0, 2 pi) from -pi
    index = np.floor(wrapped / (_TWO_PI / sectors)).astype(np.intp)
    return np.minimum(index, sectors - 1)


@dataclass(frozen=True)
class _SectorLayout:
    """How a scan geometry's beams group into sectors, for one ``np.fmin.reduceat``."""

    #: Beam order that makes every sector's beams contiguous; None when they already are.
    order: npt.NDArray[np.intp] | None
    #: Where each non-empty sector starts in that order.
    starts: npt.NDArray[np.intp]
    #: The sectors those are; None when every sector has a beam.
    sectors: npt.NDArray[np.intp] | None


@lru_cache(maxsize=16)
def _sector_layout(
    beams: int, angle_min: float, angle_increment: float, sectors: int
) -> _SectorLayout:
    index = _sector_index(beams, angle_min, angle_increment, sectors)
    in_order = bool(np.all(index[1:] >= index[:-1]))
    order = None if in_order else np.argsort(index, kind="stable")
    grouped = index if order is None else index[order]
    starts = np.flatnonzero(np.concatenate(([True], grouped[1:] != grouped[:-1])))
    present = grouped[starts]
    return _SectorLayout(order, starts, None if present.size == sectors else present)


@dataclass(frozen=True)
class ObservationSpec:
    """A named, versioned featurizer. Distances in m, speeds in m/s and rad/s.

    Change ``version`` whenever :meth:`featurize` changes meaning for the same parameters;
    changing a parameter changes the id by itself.
    """

    # Name of the feature layout.
    name: str = "nav_scan_goal"
    # Version of the featurize code for this layout.
    version: int = 1
    # Number of angular sectors the scan is min-pooled into.
    scan_sectors: int = 36
    # Ranges at or beyond this distance read as 1.0 (m).
    scan_range: float = 5.0
    # Goal distances at or beyond this read as 1.0 (m).
    goal_range: float = 10.0
    # Forward speed that reads as 1.0 (m/s).
    max_linear: float = 1.0
    # Yaw rate that reads as 1.0 (rad/s).
    max_angular: float = 1.5

    def __post_init__(self) -> None:
        if self.scan_sectors < 1:
            raise ValueError("scan_sectors must be at least 1")
        for field in ("scan_range", "goal_range", "max_linear", "max_angular"):
            value = getattr(self, field)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{field} must be finite and positive, got {value!r}")

    @property
    def size(self) -> int:
        """Length of the observation vector."""
        return self.scan_sectors + 5

    @property
    def definition(self) -> dict[str, object]:
        """Everything that defines the features, as plain JSON-able values."""
        return dataclasses.asdict(self)

    @property
    def spec_id(self) -> str:
        """Hash of the definition: 16 hex chars, the same in every process and on every host.

        Canonical JSON (sorted keys, floats by ``repr``) so that neither dict order nor
        Python's per-process hash seed changes it.
        """
        text = json.dumps(self.definition, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def feature_names(self) -> list[str]:
        """Name of every element of the vector, in order."""
        return [f"scan_{i}" for i in range(self.scan_sectors)] + [
            "goal_distance",
            "goal_sin",
            "goal_cos",
            "linear",
            "angular",
        ]

    def pool_scan(
        self, ranges: npt.ArrayLike, angle_min: float, angle_increment: float
    ) -> npt.NDArray[np.float32]:
        """Min-pool a scan (m, REP-117 values) into normalised sectors in [0, 1]."""
        out = np.empty(self.scan_sectors, dtype=np.float32)
        self._pool_into(out, ranges, angle_min, angle_increment)
        return out

    def _pool_into(
        self,
        out: npt.NDArray[np.float32],
        ranges: npt.ArrayLike,
        angle_min: float,
        angle_increment: float,
    ) -> None:
        r = np.asarray(ranges, dtype=np.float64)
        if r.ndim != 1:
            raise ValueError(f"ranges must be 1-D, got shape {r.shape}")
        if not (math.isfinite(angle_min) and math.isfinite(angle_increment)):
            raise ValueError("scan angles must be finite")
        if r.size == 0:
            out[:] = 1.0
            return
        layout = _sector_layout(
            r.size, float(angle_min), float(angle_increment), self.scan_sectors
        )
        if layout.order is not None:
            r = r[layout.order]
        # The nearest return per sector: fmin leaves NaN (no information) out, and a sector of
        # NaN only stays NaN. Dividing and clipping are monotonic, so normalising the minimum
        # equals the minimum of the normalised beams, bit for bit. +inf → 1.0 (free), -inf →
        # 0.0 (touching), NaN → 1.0 (fmin skips it): as documented at the top.
        nearest = np.fmin.reduceat(r, layout.starts)
        pooled = np.maximum(np.fmin(nearest / self.scan_range, 1.0), 0.0)
        if layout.sectors is None:
            out[:] = pooled
        else:  # sectors no beam falls in read as free
            out[:] = 1.0
            out[layout.sectors] = pooled

    def featurize(
        self,
        ranges: npt.ArrayLike,
        angle_min: float,
        angle_increment: float,
        goal_xy: tuple[float, float],
        linear: float,
        angular: float,
    ) -> npt.NDArray[np.float32]:
        """The observation vector (float32, shape ``(size,)``).

        ``ranges`` (m) at angles ``angle_min + i * angle_increment`` (rad) in the robot frame;
        ``goal_xy`` the goal in ``base_link`` (m); ``linear`` (m/s) and ``angular`` (rad/s) the
        robot's current velocity. Raises ``ValueError`` on non-finite goal or velocity.
        """
        gx, gy = float(goal_xy[0]), float(goal_xy[1])
        if not all(math.isfinite(v) for v in (gx, gy, linear, angular)):
            raise ValueError("goal and velocity must be finite")
        distance = math.hypot(gx, gy)
        bearing = math.atan2(gy, gx) if distance > 0.0 else 0.0
        out = np.empty(self.size, dtype=np.float32)
        self._pool_into(out[: self.scan_sectors], ranges, angle_min, angle_increment)
        out[self.scan_sectors :] = (
            min(distance / self.goal_range, 1.0),
            math.sin(bearing),
            math.cos(bearing),
            min(max(linear / self.max_linear, -1.0), 1.0),
            min(max(angular / self.max_angular, -1.0), 1.0),
        )
        return out


#: The spec the stack uses unless a profile names another.
DEFAULT_SPEC = ObservationSpec()

#: Specs by name (what a profile's ``observation_spec`` setting chooses).
SPECS: dict[str, ObservationSpec] = {DEFAULT_SPEC.name: DEFAULT_SPEC}


def spec_by_name(name: str) -> ObservationSpec:
    """A registered spec; ``KeyError`` lists the known names."""
    try:
        return SPECS[name]
    except KeyError:
        raise KeyError(f"unknown observation spec {name!r}; known: {sorted(SPECS)}") from None
