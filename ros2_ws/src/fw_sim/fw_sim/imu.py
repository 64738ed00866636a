"""A 6-axis IMU with orientation, read from the motion of a PyBullet link.

The accelerometer measures specific force, as a real one does: at rest it reads +9.81 m/s² on
the axis that points up. Linear acceleration is the mean over the sample period (velocity
difference divided by the period), which is what an integrating sensor with an anti-aliasing
filter reports. Axes are those of the link (for the Husky, ``imu_link`` is aligned with
``base_link``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pybullet as p

from fw_sim import vec3

__all__ = ["GRAVITY", "ImuModel", "ImuReading"]

#: Standard gravity (m/s²), applied along world -z.
GRAVITY = 9.80665
_ZERO6 = [0.0] * 6
#: IMU samples per block of noise draws (2.56 s at 100 Hz).
_NOISE_BLOCK = 256


@dataclass(frozen=True, slots=True)
class ImuReading:
    """One IMU sample: orientation quaternion (x, y, z, w) in the world frame, angular
    velocity (rad/s) and linear acceleration (m/s², specific force) in the IMU frame."""

    orientation: tuple[float, float, float, float]
    angular_velocity: tuple[float, float, float]
    linear_acceleration: tuple[float, float, float]


class ImuModel:
    """Samples a link's motion into noisy IMU readings."""

    def __init__(
        self,
        client: int,
        body: int,
        link: int,
        *,
        gyro_bias: Sequence[float],
        accel_bias: Sequence[float],
    ) -> None:
        self._client = client
        self._body = body
        self._link = link
        self._gyro_bias = (float(gyro_bias[0]), float(gyro_bias[1]), float(gyro_bias[2]))
        self._accel_bias = (float(accel_bias[0]), float(accel_bias[1]), float(accel_bias[2]))
        self._previous: tuple[int, Sequence[float]] | None = None
        # Standard normal draws, taken a block at a time: one NumPy call per sample cost more
        # than the rest of the sample together.
        self._noise: list[list[float]] = []
        self._noise_used = 0

    def reset(self) -> None:
        """Forget the previous sample (after the robot was teleported) and the noise drawn
        ahead, so that a re-seeded generator replays the same noise."""
        self._previous = None
        self._noise = []
        self._noise_used = 0

    def read(
        self,
        now_ns: int,
        rng: np.random.Generator,
        gyro_noise_std: float,
        accel_noise_std: float,
    ) -> ImuReading:
        """Sample at sim time ``now_ns`` with the given white-noise stds."""
        state = p.getLinkState(
            self._body, self._link, computeLinkVelocity=1, physicsClientId=self._client
        )
        orientation, velocity = state[5], state[6]
        rot = p.getMatrixFromQuaternion(orientation)
        previous = self._previous
        if previous is None or now_ns <= previous[0]:
            accel_world: tuple[float, float, float] = (0.0, 0.0, GRAVITY)
        else:
            inv_dt = 1e9 / (now_ns - previous[0])
            last = previous[1]
            accel_world = (
                (velocity[0] - last[0]) * inv_dt,
                (velocity[1] - last[1]) * inv_dt,
                (velocity[2] - last[2]) * inv_dt + GRAVITY,
            )
        self._previous = (now_ns, velocity)
        # World → IMU frame is the transpose of the link's rotation.
        gyro = vec3.rotate_transposed(rot, state[7])
        accel = vec3.rotate_transposed(rot, accel_world)
        gb, ab = self._gyro_bias, self._accel_bias
        gs, acs = gyro_noise_std, accel_noise_std
        n = self._standard_normal(rng) if gs > 0.0 or acs > 0.0 else _ZERO6
        return ImuReading(
            orientation=(orientation[0], orientation[1], orientation[2], orientation[3]),
            angular_velocity=(
                gyro[0] + gb[0] + gs * n[0],
                gyro[1] + gb[1] + gs * n[1],
                gyro[2] + gb[2] + gs * n[2],
            ),
            linear_acceleration=(
                accel[0] + ab[0] + acs * n[3],
                accel[1] + ab[1] + acs * n[4],
                accel[2] + ab[2] + acs * n[5],
            ),
        )

    def _standard_normal(self, rng: np.random.Generator) -> list[float]:
        """Six standard normal draws (gyro xyz, accel xyz)."""
        if self._noise_used == len(self._noise):
            self._noise = rng.standard_normal((_NOISE_BLOCK, 6)).tolist()
            self._noise_used = 0
        self._noise_used += 1
        return self._noise[self._noise_used - 1]
