"""A planar lidar simulated with one PyBullet ``rayTestBatch`` per scan.

Rays are cast in the frame of the robot link that carries the laser, so the per-scan Python
work is one C call and a few vectorised NumPy operations. The robot's own body is excluded by a
collision filter mask (the robot is in :data:`ROBOT_COLLISION_GROUP`), not by post-filtering,
so an obstacle behind a robot part is still seen.

Range conventions follow REP-117 and ``sensor_msgs/LaserScan``:

* no return within ``range_max`` → ``+inf``;
* a return closer than ``range_min`` → ``-inf``;
* a dropped beam (randomised sensor fault) → ``NaN`` ("erroneous measurement").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pybullet as p

__all__ = ["ALL_COLLISION_GROUPS", "ROBOT_COLLISION_GROUP", "Lidar"]

#: Collision filter group bit of every robot link (ray casts leave it out).
ROBOT_COLLISION_GROUP = 0x4
#: Mask matching every collision group.
ALL_COLLISION_GROUPS = 0xFFFF


class Lidar:
    """Ray-cast 2D lidar mounted on one link of a PyBullet body.

    ``mount_xyz`` is the laser origin in the link's URDF frame (m) and ``mount_yaw`` (rad) the
    laser frame's rotation about the link's z axis. ``angle_min`` and ``field_of_view`` (rad)
    describe the beams in the laser frame, counter-clockwise.
    """

    def __init__(
        self,
        client: int,
        body: int,
        link: int,
        *,
        beams: int,
        angle_min: float,
        field_of_view: float,
        range_min: float,
        range_max: float,
        mount_xyz: Sequence[float],
        mount_yaw: float = 0.0,
    ) -> None:
        self._client = client
        self._body = body
        self._link = link
        self.beams = beams
        self.angle_min = angle_min
        full_turn = math.isclose(field_of_view, 2.0 * math.pi, rel_tol=1e-6)
        # A full turn must not repeat its first beam as its last (LaserScan convention).
        self.angle_increment = field_of_view / (beams if full_turn else max(beams - 1, 1))
        self.angle_max = angle_min + self.angle_increment * (beams - 1)
        self.range_min = range_min
        self.range_max = range_max
        # rayTestBatch's parent frame is the link's centre-of-mass (inertial) frame, not its
        # URDF frame: move the mount into it once.
        if link >= 0:
            info = p.getDynamicsInfo(body, link, physicsClientId=client)
            inertial_pos, inertial_orn = info[3], info[4]
        else:
            inertial_pos, inertial_orn = (0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0)
        inv_pos, inv_orn = p.invertTransform(inertial_pos, inertial_orn)
        origin, _ = p.multiplyTransforms(inv_pos, inv_orn, list(mount_xyz), (0, 0, 0, 1))
        rot = np.array(p.getMatrixFromQuaternion(inv_orn)).reshape(3, 3)
        angles = angle_min + self.angle_increment * np.arange(beams) + mount_yaw
        directions = np.stack([np.cos(angles), np.sin(angles), np.zeros(beams)], axis=1)
        directions = directions @ rot.T
        origin_arr = np.asarray(origin, dtype=np.float64)
        self._from = np.tile(origin_arr, (beams, 1)).tolist()
        self._to = (origin_arr + range_max * directions).tolist()
        self._mask = ALL_COLLISION_GROUPS & ~ROBOT_COLLISION_GROUP

    def cast(self) -> npt.NDArray[np.float64]:
        """Noise-free ranges (m) of every beam; ``+inf`` where nothing is hit."""
        hits = p.rayTestBatch(
            self._from,
            self._to,
            parentObjectUniqueId=self._body,
            parentLinkIndex=self._link,
            collisionFilterMask=self._mask,
            physicsClientId=self._client,
        )
        fractions = np.fromiter((h[2] for h in hits), dtype=np.float64, count=self.beams)
        # A miss reports fraction 1.0 (and object -1); treat the exact far end as a miss too.
        return np.where(fractions < 1.0, fractions * self.range_max, np.inf)

    def scan(
        self, rng: np.random.Generator, noise_std: float, dropout: float
    ) -> npt.NDArray[np.float32]:
        """One scan (m, float32) in LaserScan conventions, with noise and dropout applied."""
        ranges = self.cast()
        if noise_std > 0.0:
            ranges = ranges + rng.normal(0.0, noise_std, self.beams)
        ranges[ranges > self.range_max] = np.inf
        ranges[ranges < self.range_min] = -np.inf
        if dropout > 0.0:
            ranges[rng.random(self.beams) < dropout] = np.nan
        return ranges.astype(np.float32)
