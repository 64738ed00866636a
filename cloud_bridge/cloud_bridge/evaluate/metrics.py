"""The summary of a set of episodes: every metric with its confidence interval."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cloud_bridge.evaluate.episode import EpisodeResult
from cloud_bridge.evaluate.intervals import (
    DEFAULT_CONFIDENCE,
    Interval,
    bootstrap_mean,
    poisson_rate,
    wilson,
)

__all__ = ["Summary", "summarise"]

#: Interventions are counted per this many metres driven.
PER_METRES = 100.0


@dataclass(frozen=True)
class Summary:
    """Metrics over ``episodes`` episodes (intervals two-sided at ``confidence``)."""

    episodes: int
    #: Episodes that reached the goal without a collision (Wilson).
    success_rate: Interval
    #: Episodes with at least one collision (Wilson).
    collision_rate: Interval
    #: Safety interventions per 100 m driven (exact Poisson on the count).
    interventions_per_100m: Interval
    #: Mean sim time to the goal over successful episodes (s, bootstrap).
    time_to_goal_s: Interval
    #: Mean over episodes of each one's smallest clearance (m, bootstrap).
    min_clearance_m: Interval
    #: The smallest clearance of any episode (m; NaN with no obstacles).
    worst_clearance_m: float
    #: Ground-truth distance driven over all episodes (m).
    distance_m: float
    confidence: float = DEFAULT_CONFIDENCE

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            out[name] = value.to_dict() if isinstance(value, Interval) else value
        return out


def summarise(results: Sequence[EpisodeResult], confidence: float = DEFAULT_CONFIDENCE) -> Summary:
    """The metrics of ``results``."""
    n = len(results)
    distance = sum(r.path_length_m for r in results)
    times = [r.duration_s for r in results if r.success]
    clearances = [r.min_clearance_m for r in results if r.min_clearance_m is not None]
    return Summary(
        episodes=n,
        success_rate=wilson(sum(r.success for r in results), n, confidence),
        collision_rate=wilson(sum(r.collided for r in results), n, confidence),
        interventions_per_100m=poisson_rate(
            sum(r.interventions for r in results), distance, PER_METRES, confidence
        ),
        time_to_goal_s=bootstrap_mean(times, confidence),
        min_clearance_m=bootstrap_mean(clearances, confidence),
        worst_clearance_m=min(clearances) if clearances else math.nan,
        distance_m=distance,
        confidence=confidence,
    )
