"""Cost-to-go field over an occupancy grid of a scenario (privileged planning).

Instead of one path from the start, the planner computes the cost to reach the goal from every
cell (Dijkstra by vectorised relaxation, 8-connected). A path can then be read from *any*
position by descending the field, so the expert can label states the learner visits that the
expert never would (DAgger) without replanning.

Cells near obstacles cost more, so paths keep to the middle of gaps; cells closer than the
robot's radius cost a large penalty rather than being forbidden, so a robot pushed into such a
cell still has a finite way out.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from fw_sim.layout import Scenario, distance_to_obstacles

__all__ = ["CostToGo"]

_NEIGHBOURS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


class CostToGo:
    """Cost to reach the scenario goal from every grid cell.

    ``resolution`` is the cell side (m); the grid covers the arena plus ``margin`` (m) on each
    side. ``robot_radius`` (m) is the clearance below which a cell is penalised by
    ``blocked_penalty``; ``comfort_distance`` (m) is where the proximity cost fades to zero.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        resolution: float = 0.1,
        margin: float = 3.0,
        robot_radius: float = 0.65,
        comfort_distance: float = 1.4,
        proximity_weight: float = 4.0,
        blocked_penalty: float = 200.0,
    ) -> None:
        self.resolution = resolution
        half = 0.5 * scenario.arena_size + margin
        self.origin = -half
        self.size = math.ceil(2.0 * half / resolution)
        centres = self.origin + (np.arange(self.size) + 0.5) * resolution
        xs, ys = np.meshgrid(centres, centres)  # [row = y, col = x]
        points = np.stack([xs.ravel(), ys.ravel()], axis=1)
        self.clearance = distance_to_obstacles(points, scenario.obstacles).reshape(xs.shape)
        proximity = np.clip((comfort_distance - self.clearance) / comfort_distance, 0.0, 1.0)
        cell_cost = 1.0 + proximity_weight * proximity**2
        cell_cost[self.clearance < robot_radius] += blocked_penalty
        self.cell_cost = cell_cost
        self.goal = (scenario.goal.x, scenario.goal.y)
        self.field = self._relax(cell_cost, self.cell_of(*self.goal))

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """Grid cell (row, col) containing world point (x, y) (m), clamped to the grid."""
        col = int((x - self.origin) / self.resolution)
        row = int((y - self.origin) / self.resolution)
        return min(max(row, 0), self.size - 1), min(max(col, 0), self.size - 1)

    def centre_of(self, row: int, col: int) -> tuple[float, float]:
        """World point (m) at the centre of a cell."""
        return (
            self.origin + (col + 0.5) * self.resolution,
            self.origin + (row + 0.5) * self.resolution,
        )

    def _relax(
        self, cost: npt.NDArray[np.float64], goal: tuple[int, int]
    ) -> npt.NDArray[np.float64]:
        field = np.full(cost.shape, np.inf)
        field[goal] = 0.0
        n = self.size
        while True:
            before = field.copy()
            for dy, dx in _NEIGHBOURS:
                step = self.resolution * (math.sqrt(2.0) if dy and dx else 1.0)
                # Moving from cell (r, c) to its neighbour (r+dy, c+dx).
                rs = slice(max(0, -dy), n - max(0, dy))
                cs = slice(max(0, -dx), n - max(0, dx))
                rn = slice(max(0, dy), n - max(0, -dy))
                cn = slice(max(0, dx), n - max(0, -dx))
                edge = step * 0.5 * (cost[rs, cs] + cost[rn, cn])
                np.minimum(field[rs, cs], field[rn, cn] + edge, out=field[rs, cs])
            if np.array_equal(before, field):
                return field

    def path_from(self, x: float, y: float, length: float) -> list[tuple[float, float]]:
        """Waypoints (m) descending the field from (x, y), about ``length`` m long; ends at the
        goal when the goal is closer than that."""
        row, col = self.cell_of(x, y)
        points: list[tuple[float, float]] = []
        travelled = 0.0
        field, n = self.field, self.size
        while travelled < length:
            best = (field[row, col], row, col)
            for dy, dx in _NEIGHBOURS:
                r, c = row + dy, col + dx
                if 0 <= r < n and 0 <= c < n and field[r, c] < best[0]:
                    best = (field[r, c], r, c)
            if best[1] == row and best[2] == col:
                points.append(self.goal)
                break
            travelled += self.resolution * math.hypot(best[1] - row, best[2] - col)
            row, col = best[1], best[2]
            points.append(self.centre_of(row, col))
        return points
