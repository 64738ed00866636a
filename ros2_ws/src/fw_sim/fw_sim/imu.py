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

__all__ = ["GRAVITY", "ImuModel", "ImuReading"]

#: Standard gravity (m/s²), applied along world -z.
GRAVITY = 9.80665


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
        self.gyro_bias = np.asarray(gyro_bias, dtype=np.float64)
        self.accel_bias = np.asarray(accel_bias, dtype=np.float64)
        self._previous: tuple[int, np.ndarray] | None = None

    def reset(self) -> None:
        """Forget the previous sample (after the robot was teleported)."""
        self._previous = None

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
        orientation = state[5]
        rot = np.array(p.getMatrixFromQuaternion(orientation)).reshape(3, 3)
        velocity = np.array(state[6])
        previous = self._previous
        if previous is None or now_ns <= previous[0]:
            accel_world = np.zeros(3)
        else:
            accel_world = (velocity - previous[1]) / ((now_ns - previous[0]) * 1e-9)
        self._previous = (now_ns, velocity)
        accel_world[2] += GRAVITY
        # World → IMU frame is the transpose of the link's rotation.
        gyro = rot.T @ np.array(state[7]) + self.gyro_bias
        accel = rot.T @ accel_world + self.accel_bias
        if gyro_noise_std > 0.0:
            gyro += rng.normal(0.0, gyro_noise_std, 3)
        if accel_noise_std > 0.0:
            accel += rng.normal(0.0, accel_noise_std, 3)
        return ImuReading(
            orientation=(orientation[0], orientation[1], orientation[2], orientation[3]),
            angular_velocity=(float(gyro[0]), float(gyro[1]), float(gyro[2])),
            linear_acceleration=(float(accel[0]), float(accel[1]), float(accel[2])),
        )
