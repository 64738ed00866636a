"""Domain randomisation: the physical and sensor parameters of one scenario.

Values are drawn uniformly from the configured ranges with a generator seeded by the scenario
seed, so an episode can be reproduced from its metadata. With randomisation disabled the draw
holds the nominal values of the profile, so the world always reads its parameters from here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from fw_common.profile.sim import SimConfig

__all__ = ["RandomisationDraw", "draw_randomisation"]

#: Mixed into the scenario seed so these draws are independent of the scenario layout.
_STREAM = 0x5EED_D12A


@dataclass(frozen=True)
class RandomisationDraw:
    """Parameters in force for one scenario."""

    #: False when these are the nominal profile values.
    randomised: bool
    #: Wheel lateral friction coefficient.
    wheel_friction: float
    #: Chassis mass scale (dimensionless).
    mass_scale: float
    #: Lidar range noise std (m).
    lidar_noise_std: float
    #: Lidar per-beam dropout probability.
    lidar_dropout: float
    #: IMU noise std scale (dimensionless).
    imu_noise_scale: float
    #: Actuation latency (s).
    actuation_latency: float

    def to_dict(self) -> dict[str, float | bool]:
        """Plain data for episode metadata."""
        return asdict(self)


def draw_randomisation(config: SimConfig, seed: int) -> RandomisationDraw:
    """Draw the parameters of the scenario with ``seed`` (nominal values when disabled)."""
    r = config.randomisation
    if not r.enabled:
        return RandomisationDraw(
            randomised=False,
            wheel_friction=config.base.wheel_friction,
            mass_scale=1.0,
            lidar_noise_std=config.lidar.noise_std,
            lidar_dropout=config.lidar.dropout_probability,
            imu_noise_scale=1.0,
            actuation_latency=config.base.actuation_latency,
        )
    rng = np.random.default_rng([seed, _STREAM])

    def draw(bounds: list[float]) -> float:
        return float(rng.uniform(bounds[0], bounds[1]))

    return RandomisationDraw(
        randomised=True,
        wheel_friction=draw(r.friction_range),
        mass_scale=draw(r.mass_scale_range),
        lidar_noise_std=draw(r.lidar_noise_std_range),
        lidar_dropout=draw(r.lidar_dropout_range),
        imu_noise_scale=draw(r.imu_noise_scale_range),
        actuation_latency=draw(r.actuation_latency_range),
    )
