"""A planar body twist: the only command a ground robot's base obeys."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ZERO", "Twist2D"]


@dataclass(frozen=True)
class Twist2D:
    """Body velocity in base_link: forward speed (m/s) and yaw rate (rad/s)."""

    linear: float = 0.0
    angular: float = 0.0

    def is_finite(self) -> bool:
        return math.isfinite(self.linear) and math.isfinite(self.angular)

    def is_zero(self) -> bool:
        return self.linear == 0.0 and self.angular == 0.0

    def scaled(self, factor: float) -> Twist2D:
        """Both components times ``factor`` (keeps the curvature)."""
        return Twist2D(self.linear * factor, self.angular * factor)


ZERO = Twist2D()
