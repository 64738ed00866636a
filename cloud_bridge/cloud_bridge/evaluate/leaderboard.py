"""The leaderboard: every release on the same held-out "race" scenarios, ranked.

Each entry (a release name, how it was made, and its policy: ``"classic"`` or an ONNX model) is
scored by :func:`cloud_bridge.evaluate.evaluate` on the very same seeds, serially or on Ray, so
the rows differ only by the policy. The result is plain JSON data (the run folder's
``leaderboard.json``)::

    {"seeds": [3000000, ...], "seed_set": "race", "family": "walls", "time_limit": 40.0,
     "randomise": true, "confidence": 0.95,
     "entries": [{"rank": 1, "release": "v2", "kind": "dagger", "policy": {"ref": ...,
                  "model_sha256": ..., ...},
                  "success": {"rate", "low", "high"},
                  "time_to_goal_s": {"mean", "low", "high", "n"},
                  "collisions": {"rate", "low", "high"},
                  "n": 20}, ...]}

``success`` and ``collisions`` are the shares of episodes that reached the goal without
touching anything and that touched something, with Wilson intervals; ``time_to_goal_s`` is the
mean sim time to the goal over the successful episodes (``n`` of them), with a bootstrap
interval, null where none succeeded. ``seed_set`` is ``"race"`` when the seeds are the race
set's first ones (``fw_sim.seed_sets``), else null.

Ranking: the higher success rate first, then the lower collision rate, then the shorter time to
goal (none last), then the release name, so equal rows always come out in the same order.

    from cloud_bridge.evaluate.leaderboard import LeaderboardEntry, leaderboard
    board = leaderboard([LeaderboardEntry("classic", "classic", "classic"),
                         LeaderboardEntry("v1", "bc", "train/v1/model.onnx")],
                        seed_set("race", 20), family="walls", profile=profile)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cloud_bridge.evaluate.evaluation import evaluate
from cloud_bridge.evaluate.intervals import Interval
from cloud_bridge.evaluate.policies import CLASSIC, describe_policy
from cloud_bridge.evaluate.report import EvaluationReport, json_ready
from cloud_bridge.evaluate.runner import ray_session
from cloud_bridge.evaluate.seeds import DEFAULT_FAMILY, scenario_config
from fw_common.profile import RobotProfile
from fw_sim.seed_sets import SeedSetName, seed_set

__all__ = [
    "RACE_SEED_SET",
    "RELEASE_KINDS",
    "LeaderboardEntry",
    "leaderboard",
    "rank_rows",
]

#: How a release was made: the reactive controller, behaviour cloning, DAgger, PPO.
RELEASE_KINDS = ("classic", "bc", "dagger", "ppo")
#: The seed set the leaderboard races on (disjoint from training and held-out evaluation).
RACE_SEED_SET: Final[SeedSetName] = "race"


@dataclass(frozen=True)
class LeaderboardEntry:
    """One release on the leaderboard."""

    #: The release's name (``classic``, ``v1``, ...): unique on a leaderboard.
    release: str
    #: One of :data:`RELEASE_KINDS`.
    kind: str
    #: ``"classic"`` or the path of the release's ONNX model.
    policy_ref: str

    def __post_init__(self) -> None:
        if not self.release.strip():
            raise ValueError("a leaderboard entry needs a release name")
        if self.kind not in RELEASE_KINDS:
            raise ValueError(
                f"release {self.release!r}: kind {self.kind!r} is not one of "
                f"{', '.join(RELEASE_KINDS)}"
            )
        if not self.policy_ref:
            raise ValueError(f"release {self.release!r}: no policy ('classic' or an ONNX path)")
        # The kind is what a reader compares by: a model labelled as the classic controller
        # (or the controller labelled as a trained model) would mislead every row.
        if (self.kind == CLASSIC) != (self.policy_ref == CLASSIC):
            raise ValueError(
                f"release {self.release!r}: kind {self.kind!r} with policy "
                f"{self.policy_ref!r}: the 'classic' kind is exactly the 'classic' policy"
            )


def leaderboard(
    entries: Sequence[LeaderboardEntry],
    seeds: Iterable[int],
    *,
    family: str = DEFAULT_FAMILY,
    profile: RobotProfile,
    randomise: bool = True,
    time_limit: float = 60.0,
    ray_address: str | None = None,
    ray_cpus: int = 2,
    progress: bool = False,
) -> dict[str, Any]:
    """Score every entry on ``seeds``' scenarios of ``family`` and rank them (see the module
    doc for the result). Every entry's policy is loaded first, so a bad entry (a duplicate
    name, a missing or refused model) fails with ``ValueError`` before any episode runs;
    ``ConnectionError`` when the Ray cluster cannot be reached. The other arguments are
    :func:`cloud_bridge.evaluate.evaluate`'s."""
    seed_list = [int(s) for s in seeds]
    if not entries:
        raise ValueError("the leaderboard needs at least one release")
    names = [e.release for e in entries]
    if duplicated := sorted({n for n in names if names.count(n) > 1}):
        raise ValueError(f"release listed twice on the leaderboard: {', '.join(duplicated)}")
    if not seed_list:
        raise ValueError("no seeds to race on")
    scenario_config(profile.sim.scenario, family)  # an unknown family fails before any work
    for entry in entries:
        try:
            describe_policy(entry.policy_ref, profile)
        except ValueError as exc:
            raise ValueError(f"release {entry.release!r}: {exc}") from exc
    with ray_session(ray_address, ray_cpus):
        reports = [
            evaluate(
                entry.policy_ref,
                seed_list,
                family=family,
                profile=profile,
                randomise=randomise,
                ray_address=ray_address,
                ray_cpus=ray_cpus,
                time_limit=time_limit,
                progress=progress,
            )
            for entry in entries
        ]
    rows = [_row(entry, report) for entry, report in zip(entries, reports, strict=True)]
    is_race = seed_list == seed_set(RACE_SEED_SET, len(seed_list))
    board = {
        "seeds": seed_list,
        "seed_set": RACE_SEED_SET if is_race else None,
        "family": family,
        "time_limit": time_limit,
        "randomise": randomise,
        "confidence": reports[0].summary.confidence,
        "entries": rank_rows(rows),
    }
    result: dict[str, Any] = json_ready(board)
    return result


def _rate(interval: Interval) -> dict[str, float]:
    return {"rate": interval.value, "low": interval.low, "high": interval.high}


def _row(entry: LeaderboardEntry, report: EvaluationReport) -> dict[str, Any]:
    summary = report.summary
    time_to_goal = summary.time_to_goal_s
    return {
        "release": entry.release,
        "kind": entry.kind,
        "policy": report.policy,
        "success": _rate(summary.success_rate),
        "time_to_goal_s": {
            "mean": time_to_goal.value,
            "low": time_to_goal.low,
            "high": time_to_goal.high,
            "n": time_to_goal.n,
        },
        "collisions": _rate(summary.collision_rate),
        "n": summary.episodes,
    }


def _order(row: dict[str, Any]) -> tuple[float, float, float, str]:
    time_to_goal = row["time_to_goal_s"]["mean"]
    missing = time_to_goal is None or math.isnan(time_to_goal)
    return (
        -row["success"]["rate"],
        row["collisions"]["rate"],
        math.inf if missing else time_to_goal,
        row["release"],
    )


def rank_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (leaderboard entries without a rank) best first, each with its ``rank`` (1
    for the best); see the module doc for the order."""
    ranked = sorted(rows, key=_order)
    return [{"rank": i, **row} for i, row in enumerate(ranked, start=1)]
