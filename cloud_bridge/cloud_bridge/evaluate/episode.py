"""One evaluation episode: a seeded, randomised scenario in the headless world with the robot's
own loop (perception, the policy, safety, the bridge's kinematics) driving.

:func:`run_episode` is a pure function of its :class:`EpisodeSpec`: a fresh world and loop each
time, every random draw seeded by the scenario seed, so the same spec gives the same
:class:`EpisodeResult` in any process (serial, or a Ray worker). Wall time is kept apart in
:class:`EpisodeTiming`, which is all that differs between runs.
"""

from __future__ import annotations

import dataclasses
import math
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from cloud_bridge.evaluate.policies import load_policy
from cloud_bridge.evaluate.seeds import scenario_config
from fw_bringup.headless import run_headless_episode
from fw_bringup.robot_loop import RobotLoop
from fw_common.profile import RobotProfile
from fw_safety.events import EVENT_KINDS
from fw_sim.scenario import family_of
from fw_sim.world import SimWorld

__all__ = [
    "INTERVENTION_KINDS",
    "PATH_RATE_HZ",
    "EpisodeResult",
    "EpisodeSpec",
    "EpisodeTiming",
    "downsample_path",
    "run_episode",
    "scan_latency",
]

#: Safety events that count as interventions: the supervisor changed or stopped the command.
#: A take-over (``teleop_override``) is a person's or the expert's, counted apart; ``reset``
#: is an operator clearing a latched stop.
INTERVENTION_KINDS = frozenset(EVENT_KINDS) - {"teleop_override", "reset"}
#: Points per sim second kept of an episode's ground-truth path (for the report's maps).
PATH_RATE_HZ = 2.0
#: Decimals kept of each path coordinate (m): a millimetre, far below what a map shows.
_PATH_DECIMALS = 3
#: Mixed into the scenario seed for the scan-latency draw (independent of the world's draws).
_LATENCY_STREAM = 0x1A7E


@dataclass(frozen=True)
class EpisodeSpec:
    """Everything that decides an episode."""

    seed: int
    #: ``"classic"`` or the path of an ONNX model.
    policy_ref: str
    profile: RobotProfile
    #: Scenario family (``fw_sim.scenario``).
    family: str = "open"
    #: Draw physics and sensor parameters per scenario (``sim.randomisation`` ranges) and a
    #: scan latency from ``scan_latency_range``; off: the profile's nominal values, no latency.
    randomise: bool = True
    #: Sim seconds before an episode that has not reached its goal counts as failed.
    time_limit: float = 60.0
    #: Scan latency range (s), drawn uniformly per scenario when randomising.
    scan_latency_range: tuple[float, float] = (0.0, 0.1)
    #: The model file's sha256 when the evaluation started: a worker that loads a different
    #: file (replaced or tampered with mid-run) refuses to score it.
    model_sha256: str | None = None

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seeds must not be negative, not {self.seed}")
        low, high = self.scan_latency_range
        if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low <= high <= 1.0):
            raise ValueError(f"scan_latency_range must be within [0, 1] s, not {low}, {high}")
        if not (math.isfinite(self.time_limit) and self.time_limit > 0):
            raise ValueError(f"time_limit must be positive, not {self.time_limit}")


@dataclass(frozen=True)
class EpisodeResult:
    """The outcome of one episode, judged with ground truth (JSON-ready)."""

    seed: int
    #: The scenario's family (the one drawn for this seed when evaluating ``mixed``).
    family: str
    policy: str
    #: Ground truth at rest within ``REACHED_RADIUS`` of the goal before the time limit.
    reached: bool
    #: Contact-begin events with obstacles.
    collisions: int
    #: Sim time until the episode ended (s).
    duration_s: float
    #: Ground-truth path length (m).
    path_length_m: float
    #: Smallest free distance between the body and an obstacle (m); None with no obstacles.
    min_clearance_m: float | None
    #: Safety events by kind.
    safety_events: dict[str, int]
    #: Final ground-truth position (m, world) and its distance to the goal (m).
    final_x: float
    final_y: float
    final_distance_m: float
    #: The parameters in force: the world's randomisation draw and the scan latency (s).
    randomisation: dict[str, Any] = field(default_factory=dict)
    #: Ground-truth positions (m, world frame) at about :data:`PATH_RATE_HZ`, first to last;
    #: empty when not recorded (results written before paths were kept).
    path: tuple[tuple[float, float], ...] = ()

    @property
    def collided(self) -> bool:
        return self.collisions > 0

    @property
    def success(self) -> bool:
        """Reached the goal without touching anything."""
        return self.reached and not self.collided

    @property
    def time_to_goal_s(self) -> float | None:
        return self.duration_s if self.success else None

    @property
    def interventions(self) -> int:
        return sum(n for kind, n in self.safety_events.items() if kind in INTERVENTION_KINDS)

    def to_dict(self) -> dict[str, Any]:
        """The row of the results file, with the derived verdicts spelled out."""
        return {
            **asdict(self),
            "success": self.success,
            "collided": self.collided,
            "time_to_goal_s": self.time_to_goal_s,
            "interventions": self.interventions,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpisodeResult:
        names = {f.name for f in dataclasses.fields(cls)}
        fields = {k: v for k, v in data.items() if k in names}
        # JSON holds the path as lists; the result holds tuples (equal to a fresh run's).
        fields["path"] = tuple((float(x), float(y)) for x, y in fields.get("path") or ())
        return cls(**fields)


@dataclass(frozen=True)
class EpisodeTiming:
    """Where and how fast an episode ran (differs run to run, so not part of the result)."""

    seed: int
    wall_s: float
    sim_s: float
    #: ``host:pid`` of the process that ran it.
    worker: str


def scan_latency(spec: EpisodeSpec) -> float:
    """The scan latency (s) of ``spec``'s scenario."""
    if not spec.randomise:
        return 0.0
    low, high = spec.scan_latency_range
    return float(np.random.default_rng([spec.seed, _LATENCY_STREAM]).uniform(low, high))


def downsample_path(
    path: list[tuple[float, float]], rate_hz: float
) -> tuple[tuple[float, float], ...]:
    """``path``, sampled at ``rate_hz``, cut to about :data:`PATH_RATE_HZ` and rounded; the
    last point is always kept, so the path ends where the robot did."""
    if not path:
        return ()
    stride = max(1, round(rate_hz / PATH_RATE_HZ))
    indices = list(range(0, len(path), stride))
    if indices[-1] != len(path) - 1:
        indices.append(len(path) - 1)
    return tuple(
        (round(path[i][0], _PATH_DECIMALS), round(path[i][1], _PATH_DECIMALS)) for i in indices
    )


def run_episode(spec: EpisodeSpec) -> tuple[EpisodeResult, EpisodeTiming]:
    """Run ``spec``'s scenario to its end; the result and how long it took."""
    started = time.perf_counter()
    profile = spec.profile
    sim = profile.sim
    sim = dataclasses.replace(
        sim,
        seed=spec.seed,
        gui=False,
        scenario=scenario_config(sim.scenario, spec.family),
        randomisation=dataclasses.replace(sim.randomisation, enabled=spec.randomise),
    )
    policy = load_policy(spec.policy_ref, profile)
    loaded = policy.describe().get("model_sha256")
    if spec.model_sha256 is not None and loaded != spec.model_sha256:
        raise ValueError(
            f"{spec.policy_ref}: the model changed during the evaluation "
            f"(sha256 {loaded}, started with {spec.model_sha256})"
        )
    loop = RobotLoop(profile, policy=policy)
    latency = scan_latency(spec)
    with SimWorld(sim, gui=False) as world:
        episode = run_headless_episode(
            world, loop, time_limit=spec.time_limit, scan_latency=latency
        )
        draw = world.randomisation.to_dict()
        goal = world.scenario.goal
        truth = world.ground_truth()
    x, y = truth.position[0], truth.position[1]
    result = EpisodeResult(
        seed=spec.seed,
        family=family_of(spec.family, spec.seed),
        policy=spec.policy_ref,
        reached=episode.reached,
        collisions=episode.collisions,
        duration_s=round(episode.duration, 9),
        path_length_m=episode.path_length,
        min_clearance_m=None if math.isinf(episode.min_clearance) else episode.min_clearance,
        safety_events=dict(sorted(episode.interventions.items())),
        final_x=x,
        final_y=y,
        final_distance_m=math.hypot(goal.x - x, goal.y - y),
        randomisation={**draw, "scan_latency": latency},
        path=downsample_path(episode.path, sim.lidar.rate),
    )
    timing = EpisodeTiming(
        seed=spec.seed,
        wall_s=time.perf_counter() - started,
        sim_s=episode.duration,
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )
    return result, timing
