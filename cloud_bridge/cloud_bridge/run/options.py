"""What one ``flywheel run`` does: the fleet, the budget of each stage, the gates.

:class:`RunOptions` holds every choice, each field commented; its defaults are the demo's
(``make demo``): a folder store inside the run folder, two robots, two iterations, and budgets
chosen for ``make demo``'s time target on a two-core host (issue 16; measured by
``bench/bench_flywheel_stages.py``). ``run.json`` keeps them, so a re-run
in the same folder resumes the same run (:func:`check_resume`).

The gates are explicit: v1 is gated against ``classic`` and every later release against the
release before it (``cloud_bridge.evaluate.gate``). The demo's gate is a paired
non-inferiority test on success (reaching the goal without touching anything): the interval of
the success difference may not reach below ``-max_success_regression``; and a ceiling on the
collision rate. It has no success floor and no paired collision test: the demo trains on a
handful of demonstrations and scores a dozen scenarios of walls, where ``classic`` mostly stands
stuck (and so never collides), so its claim is "reaches goals no less often than what the robots
run today, without crashing in half the scenarios", not a success rate. ``--max-regression``,
``--max-collision`` and ``--max-collision-increase`` tighten it; a fleet's gate would also set
floors.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloud_bridge.evaluate.gate import GateConfig

__all__ = ["DEFAULT_RUN_DIR", "RunOptions", "check_resume", "demo_gate"]

#: What an external robot's id may be: one path segment of ``episodes/<robot_id>/`` and
#: ``robots/<robot_id>/``, as ``--robot-id`` names it.
_ROBOT_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


def _check_robot_ids(robot_ids: tuple[str, ...]) -> None:
    """``ValueError`` for an id that is not a plain robot id, or one given twice."""
    for robot_id in robot_ids:
        if not isinstance(robot_id, str) or not _ROBOT_ID.match(robot_id):
            raise ValueError(
                f"--external-robots: {robot_id!r} is not a robot id (a letter, then letters, "
                "digits or _; at most 64)"
            )
    if len(set(robot_ids)) != len(robot_ids):
        raise ValueError(f"--external-robots names a robot twice: {','.join(robot_ids)}")


#: Where ``flywheel run`` writes unless told (``make demo`` names a fresh folder per run).
DEFAULT_RUN_DIR = Path("runs") / "flywheel"


def demo_gate() -> GateConfig:
    """The gate of the demo's releases: paired non-inferiority against the baseline."""
    return GateConfig(
        min_success_rate=None,
        max_collision_rate=0.5,
        max_interventions_per_100m=None,
        # Twelve scenarios: two releases at the same 17 % that succeed on different pairs
        # (2 against 2) already give an interval down to -0.33, so 0.3 failed equal releases.
        max_success_regression=0.5,
        max_collision_increase=None,
    )


@dataclass(frozen=True)
class RunOptions:
    """One run of the flywheel (see the module docstring)."""

    #: The run folder (``run.json``, ``stages/``, ``robots/``, ...; see RUN_LAYOUT in the docs).
    run_dir: Path = DEFAULT_RUN_DIR
    #: Object store URL (a folder or ``s3://bucket/prefix``); None: ``<run_dir>/store``.
    store: str | None = None
    #: S3 endpoint (MinIO, a local S3 server) and region; None: boto3's defaults.
    endpoint_url: str | None = None
    region: str | None = None
    #: Simulated robots, each its own process group and ROS namespace (``robot_<i>``).
    robots: int = 2
    #: Robots that run elsewhere (containers, real robots) on the same store and the fleet's
    #: ``canary`` channel, by robot id; when given, the run starts no robots of its own (see
    #: :mod:`cloud_bridge.run.external_fleet`) and ``robots`` is their number.
    external_robots: tuple[str, ...] = ()
    #: The folder of an earlier ``flywheel keys init`` to sign with (its repository must be
    #: the store's, or the store has none yet); None: the ``keys`` stage makes ``<run>/keys``.
    keys: str | None = None
    #: Learning iterations: iteration 0 is driven by the expert, iteration k by release v<k>.
    iterations: int = 2
    #: Missions (scenarios driven, one recorded episode each) per robot per iteration.
    episodes_per_robot: int = 3
    #: Held-out scenarios (``seed_set("heldout")``) each release and its baseline are run on.
    eval_scenarios: int = 12
    #: Scenario family the robots drive and releases are evaluated on (fw_sim.scenario): walls
    #: across the way, which the expert passes and ``classic`` rarely does.
    family: str = "walls"
    #: Sim seconds a mission may take before it counts as failed (the expert's way round the
    #: walls fits well within it).
    mission_time_limit: float = 30.0
    #: Sim seconds an evaluation episode may take.
    eval_time_limit: float = 30.0
    #: The robots' simulation speed (sim seconds per wall second).
    real_time_factor: float = 2.0
    #: Training: most epochs, early-stopping patience, and the seed of everything random.
    epochs: int = 60
    patience: int = 10
    seed: int = 0
    #: Loss weight of the supervisor's take-over steps (HG-DAgger), relative to 1.
    takeover_weight: float = 5.0
    #: Learning rate at which v<k+1> fine-tunes v<k> on the grown dataset (v1 trains from
    #: scratch at TrainConfig's rate); bench_learning.py chose it on validation scenarios.
    dagger_learning_rate: float = 3e-4
    #: Networks per release, trained apart, whose actions the model averages
    #: (``TrainConfig.ensemble_size``): a release is spared one network's bad training draw
    #: (bench_learning.py: +6.7 points over the single network on one host, +0.0 on another
    #: where the single network drew well), at three times a few seconds of training.
    ensemble_size: int = 3
    #: The gate every release must pass before it is published.
    gate: GateConfig = field(default_factory=demo_gate)
    #: Publish a deliberately faulty release at the end and watch the robots roll it back.
    faulty: bool = True
    #: Minutes of PPO training (``cloud_bridge.rl``, from the last release) for a candidate
    #: scored, gated and ranked like the others; 0 skips it.
    ppo_minutes: float = 0.5
    #: The PPO reward file (``reward_function(params)``); None: cloud_bridge/examples'
    #: progress reward where the checkout has it, else the built-in one.
    ppo_reward: str | None = None
    #: Scenarios of the leaderboard (``seed_set("race")``); 0 skips it.
    leaderboard_scenarios: int = 8
    #: The fleet name in the release repository. Its robots follow the ``canary`` channel:
    #: each release reaches them when it is published; the last iteration's release is then
    #: promoted to ``stable``.
    fleet: str = "demo"
    #: The agents' channel poll and status period (s).
    poll_period: float = 1.0
    #: The agents' automatic rollback: window (s), least interventions, excess rate (1/min).
    rollback_window: float = 20.0
    rollback_min_events: int = 3
    rollback_margin: float = 3.0
    #: Longest wall time a fleet stage waits for the robots (s); beyond it the stage fails with
    #: the robots' log tails.
    fleet_timeout: float = 420.0
    #: Evaluate on a local Ray with this many CPUs; 0 runs the scenarios here, one by one.
    ray_cpus: int = 0

    def __post_init__(self) -> None:
        # run.json gives a list; a tuple keeps the options hashable and comparable.
        object.__setattr__(self, "external_robots", tuple(self.external_robots))
        if self.external_robots:
            _check_robot_ids(self.external_robots)
            object.__setattr__(self, "robots", len(self.external_robots))
        counts = {
            "robots": (self.robots, 1),
            "iterations": (self.iterations, 1),
            "episodes_per_robot": (self.episodes_per_robot, 1),
            "eval_scenarios": (self.eval_scenarios, 2),
            "epochs": (self.epochs, 1),
            "patience": (self.patience, 1),
            "rollback_min_events": (self.rollback_min_events, 1),
            "leaderboard_scenarios": (self.leaderboard_scenarios, 0),
            "ray_cpus": (self.ray_cpus, 0),
            "seed": (self.seed, 0),
            "ensemble": (self.ensemble_size, 1),
        }
        for name, (value, least) in counts.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"--{name.replace('_', '-')} must be an integer >= {least}")
        positive = {
            "mission_time_limit": self.mission_time_limit,
            "eval_time_limit": self.eval_time_limit,
            "real_time_factor": self.real_time_factor,
            "takeover_weight": self.takeover_weight,
            "dagger_learning_rate": self.dagger_learning_rate,
            "poll_period": self.poll_period,
            "rollback_window": self.rollback_window,
            "rollback_margin": self.rollback_margin,
            "fleet_timeout": self.fleet_timeout,
        }
        if not (math.isfinite(self.ppo_minutes) and self.ppo_minutes >= 0):
            raise ValueError("--ppo-minutes must be a number >= 0")
        for name, number in positive.items():
            if not (isinstance(number, int | float) and math.isfinite(number) and number > 0):
                raise ValueError(f"--{name.replace('_', '-')} must be a positive number")

    @property
    def store_url(self) -> str:
        """The store's URL: the given one (a folder made absolute: the robots get it too),
        else the run folder's own."""
        if self.store is None:
            return str(Path(self.run_dir).resolve() / "store")
        return self.store if "://" in self.store else str(Path(self.store).resolve())

    @property
    def external(self) -> bool:
        """The robots run elsewhere: the run starts none."""
        return bool(self.external_robots)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for ``run.json``."""
        doc = dataclasses.asdict(self)
        doc["external_robots"] = list(self.external_robots)
        doc["run_dir"] = str(self.run_dir)
        doc["gate"] = self.gate.to_dict()
        return doc

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> RunOptions:
        """The options ``run.json`` recorded; unknown keys are refused (another version)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise ValueError(f"unknown options {unknown}")
        values = dict(doc)
        values["run_dir"] = Path(values.get("run_dir", DEFAULT_RUN_DIR))
        if "gate" in values:
            values["gate"] = GateConfig(**values["gate"])
        return cls(**values)


#: Options that may differ on a re-run of the same folder: they change how long the run waits
#: or where it runs, not what it produces.
_RESUMABLE = ("run_dir", "fleet_timeout", "ray_cpus")


def check_resume(recorded: RunOptions, asked: RunOptions) -> None:
    """Refuse to resume a run with other choices than it started with: its finished stages
    would silently mix two runs. ``ValueError`` naming each difference."""
    mine, theirs = recorded.to_dict(), asked.to_dict()
    changed = [k for k in mine if k not in _RESUMABLE and mine[k] != theirs[k]]
    if changed:
        what = ", ".join(f"{k}: {mine[k]!r} -> {theirs[k]!r}" for k in changed)
        raise ValueError(
            f"{recorded.run_dir} holds a run started with other options ({what}); "
            "resume it with the same options or give a new --run-dir"
        )
