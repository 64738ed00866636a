"""Noise injected into the expert's executed command (DART), so demonstrations visit the states
a slightly wrong policy reaches and show how to recover from them.

Behaviour cloning on clean demonstrations only ever sees the expert's own states; the learner's
small errors then compound into states no demonstration covers (facing a wall at arm's length),
where it does something arbitrary. DART (Laskey et al., 2017) perturbs what the expert
*executes* while the label stays the expert's clean command for the state actually reached, so
the data holds recovery labels without a learner in the loop. The perturbation is Gaussian, held
for a few control steps (a single-step kick at 10 Hz barely moves a skid-steer base), and
seeded, so a demonstration is reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["CommandNoise"]


@dataclass
class CommandNoise:
    """Held Gaussian perturbations of a body twist (m/s, rad/s).

    A new perturbation ``(N(0, linear_std), N(0, angular_std))`` is drawn every ``hold_steps``
    calls of :meth:`perturb`; the result is clipped to ``±max_linear`` and ``±max_angular``
    (the expert's own limits).
    """

    linear_std: float
    angular_std: float
    hold_steps: int = 5
    max_linear: float = 0.8
    max_angular: float = 1.0
    seed: int = 0
    _rng: np.random.Generator = field(init=False, repr=False)
    _held: tuple[float, float] = field(init=False, default=(0.0, 0.0), repr=False)
    _left: int = field(init=False, default=0, repr=False)

    def __post_init__(self) -> None:
        for name in ("linear_std", "angular_std", "max_linear", "max_angular"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and non-negative, got {value!r}")
        if self.hold_steps < 1:
            raise ValueError(f"hold_steps must be at least 1, got {self.hold_steps}")
        self._rng = np.random.default_rng(self.seed)

    def perturb(self, linear: float, angular: float) -> tuple[float, float]:
        """The command to execute instead of ``(linear, angular)``."""
        if self._left <= 0:
            dl, da = self._rng.normal(0.0, 1.0, 2)
            self._held = (float(dl) * self.linear_std, float(da) * self.angular_std)
            self._left = self.hold_steps
        self._left -= 1
        return (
            min(max(linear + self._held[0], -self.max_linear), self.max_linear),
            min(max(angular + self._held[1], -self.max_angular), self.max_angular),
        )
