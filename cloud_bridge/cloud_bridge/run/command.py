"""``flywheel run``: the flywheel end to end on a simulated fleet, in one resumable run folder.

Examples::

    # the demo (make demo): a folder store in the run folder, 2 robots, 2 iterations
    flywheel run --run-dir out/demo/now
    # again in the same folder: finished stages are skipped, the run resumes
    flywheel run --run-dir out/demo/now
    # S3 (MinIO, or any endpoint; credentials from boto3's chain), 3 robots, 3 iterations
    flywheel run --store s3://fleet/demo --endpoint-url http://127.0.0.1:9000 \\
        --robots 3 --iterations 3 --run-dir runs/s3
    # a reduced budget (CI)
    flywheel run --episodes-per-robot 1 --eval-scenarios 6 --epochs 10 --leaderboard-scenarios 0
    # robots that run elsewhere (docker/compose.yaml), keys from `flywheel keys init`
    flywheel run --store s3://flywheel/fleet --endpoint-url http://minio:9000 \\
        --external-robots robot_1,robot_2 --keys /var/lib/flywheel/keys

Iteration 0: the expert drives every robot through the teleop path; the episodes are recorded,
uploaded by each robot's agent, built into a dataset; v1 is trained, gated against ``classic``
on held-out scenarios, and published to ``canary``; the agents pull, verify and swap.
Iteration k: the robots drive with v<k> while the expert supervises, the dataset grows, v<k+1>
is trained on all of it, gated against v<k> and published; the last release is promoted to
``stable``. Then a deliberately faulty release is published, and the robots roll it back on
their own. The run folder's layout is in :mod:`cloud_bridge.run.layout`.

The robots run the workspace's Python bringup: source ``ros2_ws/install/setup.bash`` first (as
``make demo`` does). With ``--external-robots`` the run starts no robot: the listed robots run
elsewhere on the same store, following the fleet's ``canary`` channel and trusting the root of
``--keys``; their missions, supervisor mode and simulation speed are their own configuration,
and each drive stage waits (up to ``--fleet-timeout``) for ``--episodes-per-robot`` new
uploads from each. Exit status: 0 when every stage ran, 1 when a stage failed (the message
says which and why; a re-run resumes there), 2 for bad options.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import signal
import sys
from pathlib import Path
from typing import Any

from cloud_bridge.run.options import DEFAULT_RUN_DIR, RunOptions, demo_gate
from cloud_bridge.store.options import add_store_options

__all__ = ["options_from_args", "register", "run_flywheel"]

_DEFAULTS = RunOptions()


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run", help="the flywheel end to end on a simulated fleet", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    d = _DEFAULTS
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR, help="the run folder")
    # No store given (nor $FLYWHEEL_STORE): a folder store inside the run folder.
    add_store_options(parser, required=False)
    add = parser.add_argument
    add("--robots", type=int, default=d.robots, help="simulated robots")
    add("--external-robots", type=_robot_ids, default=(), metavar="ID,ID",
        help="robots that run elsewhere on the store (no fleet is started)")  # fmt: skip
    add("--fleet", default=d.fleet,
        help="fleet name in the release repository (the robots' cloud_agent.fleet)")  # fmt: skip
    add("--keys", type=Path, default=None, metavar="DIR",
        help="the keys of `flywheel keys init --out DIR` (default: <run>/keys)")  # fmt: skip
    add("--iterations", type=int, default=d.iterations, help="learning iterations")
    add("--episodes-per-robot", type=int, default=d.episodes_per_robot,
        help="missions per robot per iteration")  # fmt: skip
    add("--eval-scenarios", type=int, default=d.eval_scenarios, help="held-out scenarios")
    add("--family", default=d.family, help="scenario family the fleet drives and is scored on")
    add("--mission-time-limit", type=float, default=d.mission_time_limit,
        help="sim seconds per mission")  # fmt: skip
    add("--eval-time-limit", type=float, default=d.eval_time_limit,
        help="sim seconds per evaluation episode")  # fmt: skip
    add("--real-time-factor", type=float, default=d.real_time_factor,
        help="the robots' simulation speed")  # fmt: skip
    add("--epochs", type=int, default=d.epochs, help="most training epochs")
    add("--patience", type=int, default=d.patience, help="early-stopping patience (epochs)")
    add("--seed", type=int, default=d.seed, help="training seed")
    add("--dagger-learning-rate", type=float, default=d.dagger_learning_rate,
        help="rate at which v<k+1> fine-tunes v<k> on the grown dataset")  # fmt: skip
    add("--ensemble", type=int, default=d.ensemble_size, dest="ensemble_size",
        help="networks per release, their actions averaged")  # fmt: skip
    add("--max-regression", type=float, default=demo_gate().max_success_regression,
        help="gate: largest success drop against the baseline its interval may allow")  # fmt: skip
    add("--max-collision", type=float, default=demo_gate().max_collision_rate,
        help="gate: highest collision rate (a share of the scenarios)")  # fmt: skip
    add("--max-collision-increase", type=float, default=demo_gate().max_collision_increase,
        help="gate: largest collision-rate rise vs the baseline (default: off)")  # fmt: skip
    add("--no-faulty", action="store_true", help="skip the faulty release")
    add("--ppo-minutes", type=float, default=d.ppo_minutes,
        help="minutes of PPO from the last release, scored and ranked (0: none)")  # fmt: skip
    add("--ppo-reward", default=d.ppo_reward,
        help="PPO reward file (default: cloud_bridge/examples/reward_progress.py)")  # fmt: skip
    add("--leaderboard-scenarios", type=int, default=d.leaderboard_scenarios,
        help="race scenarios of the leaderboard (0: none)")  # fmt: skip
    add("--fleet-timeout", type=float, default=d.fleet_timeout,
        help="longest wait for the robots in a stage (s)")  # fmt: skip
    add("--ray-cpus", type=int, default=d.ray_cpus,
        help="evaluate on a local Ray with this many CPUs (0: serially)")  # fmt: skip
    parser.set_defaults(func=run_flywheel)


def _robot_ids(text: str) -> tuple[str, ...]:
    """``robot_1,robot_2`` as ids (checked by :class:`RunOptions`)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def options_from_args(args: argparse.Namespace) -> RunOptions:
    """The run's options; ``ValueError`` for a bad one."""
    return RunOptions(
        run_dir=args.run_dir,
        store=args.store,
        endpoint_url=args.endpoint_url,
        region=args.region,
        robots=args.robots,
        external_robots=args.external_robots,
        fleet=args.fleet,
        keys=None if args.keys is None else str(args.keys.resolve()),
        iterations=args.iterations,
        episodes_per_robot=args.episodes_per_robot,
        eval_scenarios=args.eval_scenarios,
        family=args.family,
        mission_time_limit=args.mission_time_limit,
        eval_time_limit=args.eval_time_limit,
        real_time_factor=args.real_time_factor,
        epochs=args.epochs,
        patience=args.patience,
        seed=args.seed,
        dagger_learning_rate=args.dagger_learning_rate,
        ensemble_size=args.ensemble_size,
        gate=dataclasses.replace(
            demo_gate(),
            max_success_regression=args.max_regression,
            max_collision_rate=args.max_collision,
            max_collision_increase=args.max_collision_increase,
        ),
        faulty=not args.no_faulty,
        ppo_minutes=args.ppo_minutes,
        ppo_reward=args.ppo_reward,
        leaderboard_scenarios=args.leaderboard_scenarios,
        fleet_timeout=args.fleet_timeout,
        ray_cpus=args.ray_cpus,
    )


def run_flywheel(args: argparse.Namespace) -> int:
    from rich.console import Console

    from cloud_bridge.dataset.errors import DatasetError
    from cloud_bridge.fleet.errors import FleetError
    from cloud_bridge.releases import ReleaseError
    from cloud_bridge.run.flywheel import Flywheel
    from cloud_bridge.run.stages import StageError
    from cloud_bridge.run.summary import print_summary
    from cloud_bridge.store import StoreError
    from fw_common.profile.sim import SCENARIO_FAMILIES

    try:
        options = options_from_args(args)
        if options.family not in SCENARIO_FAMILIES:
            raise ValueError(f"--family {options.family!r}: one of {', '.join(SCENARIO_FAMILIES)}")
        if options.keys is not None and not Path(options.keys).is_dir():
            raise ValueError(f"--keys {options.keys}: no such folder (`flywheel keys init --out`)")
        if importlib.util.find_spec("fw_bringup") is None:
            raise ValueError(
                "the robot stack (fw_bringup) is not on this Python path: build the workspace "
                "and source it (make build; source ros2_ws/install/setup.bash)"
            )
        flywheel = Flywheel(options)
    except (ValueError, StoreError) as exc:
        print(f"flywheel run: {exc}", file=sys.stderr)
        return 2
    console = flywheel.console
    fleet = (
        f"external robots {', '.join(options.external_robots)}"
        if options.external
        else f"{options.robots} robots"
    )
    console.print(
        f"flywheel run: {fleet}, {options.iterations} iterations, "
        f"store {flywheel.store.url}, run folder {flywheel.layout.root}"
    )
    # OSError: a full disk, a folder it may not write, a Ray it cannot reach.
    failures: tuple[type[Exception], ...] = (StageError, FleetError, ReleaseError, StoreError)
    failures += (DatasetError, ValueError, OSError)
    status = 0
    # Ctrl-C is how a person stops a run (a re-run resumes): take it even when the parent
    # left SIGINT ignored, which Python would otherwise keep and a child inherits (a
    # non-interactive shell does that for `&` jobs).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        flywheel.run()
    except KeyboardInterrupt:
        console.print("flywheel run: interrupted; the fleet is stopped, a re-run resumes")
        status = 130
    except failures as exc:
        console.print(f"[red]flywheel run: {exc}[/red]")
        console.print("re-run the same command to resume from the stage that failed")
        status = 1
    print_summary(flywheel.summary(), flywheel.desk.entries(), Console())
    return status
