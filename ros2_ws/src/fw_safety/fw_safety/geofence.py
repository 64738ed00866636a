"""A polygon geofence in the odometry frame."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["Geofence"]


class Geofence:
    """A simple polygon (vertices ``x0 y0 x1 y1 ...``, m) with an inner margin (m)."""

    def __init__(self, flat_vertices: Sequence[float], margin: float = 0.0) -> None:
        values = [float(v) for v in flat_vertices]
        if len(values) < 6 or len(values) % 2:
            raise ValueError("a geofence needs at least 3 vertices as x y pairs")
        self.vertices = list(zip(values[0::2], values[1::2], strict=True))
        self.margin = float(margin)

    def contains(self, x: float, y: float) -> bool:
        """True when ``(x, y)`` is inside the polygon (even-odd rule)."""
        inside = False
        n = len(self.vertices)
        for i in range(n):
            x1, y1 = self.vertices[i]
            x2, y2 = self.vertices[(i + 1) % n]
            if (y1 > y) != (y2 > y):
                x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
                if x < x_cross:
                    inside = not inside
        return inside

    def boundary_distance(self, x: float, y: float) -> float:
        """Distance (m) from ``(x, y)`` to the nearest polygon edge."""
        best = math.inf
        n = len(self.vertices)
        for i in range(n):
            x1, y1 = self.vertices[i]
            x2, y2 = self.vertices[(i + 1) % n]
            dx, dy = x2 - x1, y2 - y1
            length2 = dx * dx + dy * dy
            u = 0.0 if length2 == 0.0 else ((x - x1) * dx + (y - y1) * dy) / length2
            u = min(max(u, 0.0), 1.0)
            best = min(best, math.hypot(x - (x1 + u * dx), y - (y1 + u * dy)))
        return best

    def violation(self, x: float, y: float) -> str | None:
        """Why ``(x, y)`` breaches the fence, or None when it is inside with the margin."""
        if not self.contains(x, y):
            return f"position ({x:.2f}, {y:.2f}) is outside the geofence"
        if self.margin > 0.0:
            distance = self.boundary_distance(x, y)
            if distance < self.margin:
                return (
                    f"position ({x:.2f}, {y:.2f}) is {distance:.2f} m from the geofence, "
                    f"inside the {self.margin:.2f} m margin"
                )
        return None
