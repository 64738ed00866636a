"""A candidate against a baseline on the same seeds: paired differences.

Each seed is one scenario both policies drove, so the difference is taken per seed and its
interval comes from resampling the seeds (paired bootstrap): what makes a scenario hard counts
for both and cancels, which a comparison of two independent rates would not allow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cloud_bridge.evaluate.episode import EpisodeResult
from cloud_bridge.evaluate.intervals import (
    DEFAULT_CONFIDENCE,
    Interval,
    paired_bootstrap_difference,
)

__all__ = ["Comparison", "compare"]


@dataclass(frozen=True)
class Comparison:
    """Candidate minus baseline, per seed, averaged (intervals at ``confidence``)."""

    baseline: str
    pairs: int
    #: Success rate difference (positive: the candidate succeeds more often).
    success: Interval
    #: Collision rate difference (positive: the candidate collides more often).
    collision: Interval
    #: Time-to-goal difference (s) over seeds both policies succeeded on.
    time_to_goal_s: Interval
    #: Seeds only the candidate succeeded on, and only the baseline.
    candidate_only: tuple[int, ...]
    baseline_only: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "pairs": self.pairs,
            "success": self.success.to_dict(),
            "collision": self.collision.to_dict(),
            "time_to_goal_s": self.time_to_goal_s.to_dict(),
            "candidate_only": list(self.candidate_only),
            "baseline_only": list(self.baseline_only),
        }


def compare(
    candidate: Sequence[EpisodeResult],
    baseline: Sequence[EpisodeResult],
    confidence: float = DEFAULT_CONFIDENCE,
) -> Comparison:
    """Pair ``candidate`` and ``baseline`` by seed; both must cover the same seeds."""
    by_seed = {r.seed: r for r in baseline}
    seeds = [r.seed for r in candidate]
    if sorted(seeds) != sorted(by_seed) or len(set(seeds)) != len(seeds):
        raise ValueError("a paired comparison needs the same seeds, once each, on both sides")
    pairs = [(r, by_seed[r.seed]) for r in candidate]
    both = [(c, b) for c, b in pairs if c.success and b.success]
    return Comparison(
        baseline=baseline[0].policy if baseline else "",
        pairs=len(pairs),
        success=paired_bootstrap_difference(
            [float(c.success) for c, _ in pairs], [float(b.success) for _, b in pairs], confidence
        ),
        collision=paired_bootstrap_difference(
            [float(c.collided) for c, _ in pairs],
            [float(b.collided) for _, b in pairs],
            confidence,
        ),
        time_to_goal_s=paired_bootstrap_difference(
            [c.duration_s for c, _ in both], [b.duration_s for _, b in both], confidence
        ),
        candidate_only=tuple(c.seed for c, b in pairs if c.success and not b.success),
        baseline_only=tuple(c.seed for c, b in pairs if b.success and not c.success),
    )
