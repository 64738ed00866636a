"""One mission episode seen from ground truth: when it is over, and the line the mission log
gets for it.

:class:`EpisodeWatch` takes ground-truth samples (world frame, sim time) from the moment the
robot has its goal: it keeps the path (one point per ``path_period``), its length, and says when
the episode ends: the robot rests within :data:`fw_bringup.headless.REACHED_RADIUS` of the goal
(reached), or ``time_limit`` seconds of sim time have passed (failed). Counters the robot keeps
(collisions, safety interventions by kind, the expert's take-over steps) are read at the start
and at the end; the episode's are the difference.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fw_bringup.headless import AT_REST_SPEED, REACHED_RADIUS

__all__ = ["EpisodeCounters", "EpisodeWatch", "TruthSample"]


@dataclass(frozen=True)
class TruthSample:
    """The robot's ground truth at ``stamp_ns`` (sim time): pose in the world (m, rad) and
    planar speed (m/s)."""

    stamp_ns: int
    x: float
    y: float
    yaw: float
    speed: float


@dataclass(frozen=True)
class EpisodeCounters:
    """Counts the robot keeps from its start: contacts with obstacles, safety interventions by
    kind, and control steps the expert drove on ``fw/teleop/cmd_vel``."""

    collisions: int = 0
    interventions: Mapping[str, int] = field(default_factory=dict)
    takeover_steps: int = 0

    def since(self, start: EpisodeCounters) -> EpisodeCounters:
        """What was counted after ``start`` (an earlier reading of the same counters)."""
        kinds = Counter(self.interventions)
        kinds.subtract(start.interventions)
        return EpisodeCounters(
            self.collisions - start.collisions,
            {k: n for k, n in sorted(kinds.items()) if n > 0},
            self.takeover_steps - start.takeover_steps,
        )


class EpisodeWatch:
    """Judges one episode from ground-truth samples (see the module docstring)."""

    def __init__(self, goal: tuple[float, float], time_limit: float, path_period: float) -> None:
        """``goal``: world frame (m); ``time_limit`` and ``path_period``: s of sim time."""
        if not all(math.isfinite(v) for v in goal):
            raise ValueError(f"goal must be finite, got {goal!r}")
        if not (time_limit > 0 and path_period > 0):
            raise ValueError("time_limit and path_period must be positive")
        self.goal = goal
        self._limit_ns = round(time_limit * 1e9)
        self._period_ns = round(path_period * 1e9)
        self.start_ns: int | None = None
        self.last_ns: int | None = None
        self.path: list[tuple[float, float]] = []
        self._next_path_ns = 0
        self._last_xy: tuple[float, float] | None = None
        self.path_length = 0.0
        self.reached = False
        self.timed_out = False

    @property
    def over(self) -> bool:
        return self.reached or self.timed_out

    @property
    def sim_seconds(self) -> float:
        if self.start_ns is None or self.last_ns is None:
            return 0.0
        return (self.last_ns - self.start_ns) * 1e-9

    def add(self, sample: TruthSample) -> bool:
        """Take one sample (older or repeated ones are ignored; non-finite ones too: they
        say nothing about where the robot is). True once the episode is over."""
        if self.over:
            return True
        values = (sample.x, sample.y, sample.yaw, sample.speed)
        if not all(math.isfinite(v) for v in values):
            return False
        if self.last_ns is not None and sample.stamp_ns <= self.last_ns:
            return False
        if self.start_ns is None:
            self.start_ns = self._next_path_ns = sample.stamp_ns
        self.last_ns = sample.stamp_ns
        xy = (sample.x, sample.y)
        if self._last_xy is not None:
            self.path_length += math.dist(self._last_xy, xy)
        self._last_xy = xy
        if sample.stamp_ns >= self._next_path_ns:
            self.path.append(xy)
            # On the episode's grid of sim time: late samples do not stretch the spacing.
            behind = (sample.stamp_ns - self._next_path_ns) // self._period_ns
            self._next_path_ns += (behind + 1) * self._period_ns
        if math.dist(xy, self.goal) < REACHED_RADIUS and sample.speed < AT_REST_SPEED:
            self.reached = True
        elif sample.stamp_ns - self.start_ns >= self._limit_ns:
            self.timed_out = True
        if self.over and self.path[-1] != xy:
            self.path.append(xy)  # the path ends where the robot did
        return self.over

    def record(self, counters: EpisodeCounters) -> dict[str, Any]:
        """The episode's outcome fields of a mission log line."""
        return {
            "reached": self.reached,
            "collisions": counters.collisions,
            "interventions": dict(counters.interventions),
            "sim_seconds": round(self.sim_seconds, 3),
            "path_length_m": round(self.path_length, 3),
            "path": [[round(x, 3), round(y, 3)] for x, y in self.path],
            "takeover_steps": counters.takeover_steps,
        }
