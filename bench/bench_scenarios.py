"""Per scenario family: how often the privileged expert and the ``classic`` policy succeed.

For each family, the same seeds (the ``validation`` seed set) run headless twice:

* ``expert``: :func:`fw_sim.episode.run_expert_episode`, the planner on the known map driving
  the wheels directly. Success: the goal reached with no contact.
* ``classic``: the robot's own loop (perception, the ``classic`` policy, safety, the bridge's
  kinematics) through :func:`fw_bringup.headless.run_headless_episode`. Success: at rest within
  ``REACHED_RADIUS`` of the goal with no contact.

Rates come with their 95 % Wilson score interval. The issue asks for an expert success of at
least 95 % on every family, and for ``classic`` to fail often on the walled ones.

Run it from the repository root (CPU heavy: about a minute per family for 40 seeds)::

    . .venv/bin/activate && . ros2_ws/install/setup.bash
    flock /tmp/fw-bench.lock python bench/bench_scenarios.py --seeds 40
"""

from __future__ import annotations

import argparse
import math
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from fw_bringup.headless import run_headless_episode
from fw_bringup.node_parameters import default_profile_path
from fw_bringup.robot_loop import RobotLoop
from fw_common.profile import load_profile
from fw_sim.episode import run_expert_episode
from fw_sim.scenario import FAMILIES, seed_set
from fw_sim.world import SimWorld


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial rate."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _rate(successes: int, trials: int) -> str:
    low, high = wilson(successes, trials)
    return f"{successes}/{trials} = {successes / trials:.0%} [{low:.0%}, {high:.0%}]"


@dataclass
class FamilyResult:
    """Counts of one family's episodes."""

    family: str
    seeds: int
    expert_ok: int = 0
    classic_ok: int = 0
    expert_contacts: int = 0
    classic_contacts: int = 0
    expert_failures: list[int] = field(default_factory=list)
    wall_s: float = 0.0


def run_family(family: str, seeds: list[int], time_limit: float, classic: bool) -> FamilyResult:
    """Both controllers on every seed of one family (one PyBullet world, reset per seed)."""
    profile = load_profile(default_profile_path("sim"))
    config = replace(
        profile.sim, scenario=replace(profile.sim.scenario, family=family), seed=seeds[0]
    )
    result = FamilyResult(family, len(seeds))
    started = time.perf_counter()
    with SimWorld(config) as world:
        for seed in seeds:
            world.new_scenario(seed)
            expert = run_expert_episode(world, time_limit=time_limit)
            result.expert_contacts += bool(expert.collisions)
            if expert.reached and not expert.collisions:
                result.expert_ok += 1
            else:
                result.expert_failures.append(seed)
            if classic:
                episode = run_headless_episode(world, RobotLoop(profile), time_limit=time_limit)
                result.classic_contacts += bool(episode.collisions)
                result.classic_ok += episode.reached and not episode.collisions
    result.wall_s = time.perf_counter() - started
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=40, help="seeds per family")
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated")
    parser.add_argument("--time-limit", type=float, default=60.0, help="s of sim time")
    parser.add_argument("--no-classic", action="store_true", help="measure the expert only")
    parser.add_argument("--jobs", type=int, default=2, help="families measured in parallel")
    args = parser.parse_args()
    seeds = seed_set("validation", args.seeds)
    families = [f for f in args.families.split(",") if f]
    table = Table(title=f"Scenario families, {len(seeds)} validation seeds each")
    for column in ("family", "expert success [95 % Wilson]", "classic success [95 % Wilson]"):
        table.add_column(column)
    table.add_column("contacts expert / classic", justify="right")
    table.add_column("wall s", justify="right")
    results: dict[str, FamilyResult] = {}
    with (
        Progress(console=Console(stderr=True), transient=True) as progress,
        ProcessPoolExecutor(max_workers=args.jobs) as pool,
    ):
        task = progress.add_task("families", total=len(families))
        futures = [
            pool.submit(run_family, f, seeds, args.time_limit, not args.no_classic)
            for f in families
        ]
        for future in as_completed(futures):
            done = future.result()
            results[done.family] = done
            progress.advance(task)
    for family in families:
        r = results[family]
        table.add_row(
            family,
            _rate(r.expert_ok, r.seeds),
            "-" if args.no_classic else _rate(r.classic_ok, r.seeds),
            f"{r.expert_contacts} / {'-' if args.no_classic else r.classic_contacts}",
            f"{r.wall_s:.0f}",
        )
    Console().print(table)
    for family in families:
        if results[family].expert_failures:
            print(f"expert failures in {family}: seeds {results[family].expert_failures}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
