"""The drive stages: the fleet drives its missions, records them, and its agents upload them.

Drive ``k`` runs iteration ``k``'s missions: in iteration 0 the expert drives every step through
the teleop path (``sim.supervisor.mode=drive``), as a person with a joystick would; from
iteration 1 the robots drive with release ``v<k>`` while the expert supervises (``supervise``:
HG-DAgger take-overs and labels). The missions wait for that release to be active, so the swap
always comes first.

The stage ends when every robot's mission log says it is done and every episode it logged is in
the store under its own prefix (``episodes/<robot_id>/<episode_id>/manifest.json``, written
last by the uploader); then the fleet is stopped, so the cloud stages have the CPU, and each
robot's ``mission.jsonl`` is brought up to date.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cloud_bridge.run.fleet_session import FleetPlan, FleetSession
from cloud_bridge.run.layout import release_name
from cloud_bridge.run.missions import (
    MissionProgress,
    merge_drive_logs,
    mission_seeds,
    read_missions,
)
from cloud_bridge.run.sampler import StoreSampler
from cloud_bridge.store import ObjectStore, StoreError

__all__ = ["drive_plan", "merge_mission_logs", "robot_drive_summary", "run_drive"]


def drive_plan(iteration: int) -> FleetPlan:
    """Iteration ``iteration``'s missions: the expert drives iteration 0, ``v<k>`` the rest."""
    if iteration == 0:
        return FleetPlan(drive=0, supervisor_mode="drive", start_after_release="")
    return FleetPlan(
        drive=iteration,
        supervisor_mode="supervise",
        start_after_release=release_name(iteration - 1),
    )


def merge_mission_logs(session: FleetSession, last_drive: int) -> None:
    """Each robot's ``mission.jsonl``: its lines of drives 0 to ``last_drive``."""
    for rid in session.robot_ids:
        logs = [session.layout.drive_log(rid, d) for d in range(last_drive + 1)]
        merge_drive_logs(logs, session.layout.mission_log(rid))


def _uploaded(store: ObjectStore, robot_id: str, episode_ids: list[str]) -> list[str]:
    """The episodes whose manifest is in the store (an id no key can hold never is)."""
    found = []
    for episode in episode_ids:
        try:
            if store.head(f"episodes/{robot_id}/{episode}/manifest.json") is not None:
                found.append(episode)
        except StoreError:
            continue
    return found


def _count(value: Any) -> int:
    """A count from a robot's log line; anything else counts nothing."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value


def robot_drive_summary(progress: MissionProgress, seeds: list[int]) -> dict[str, Any]:
    """One robot's part of a drive's result, from its mission log (values of the wrong type
    count nothing)."""
    interventions: Counter[str] = Counter()
    for episode in progress.episodes:
        counts = episode.get("interventions")
        if isinstance(counts, dict):
            for kind, count in counts.items():
                interventions[str(kind)] += _count(count)
    return {
        "seeds": seeds,
        "episodes": len(progress.episodes),
        "reached": progress.reached,
        "episode_ids": progress.episode_ids,
        "releases": sorted({str(e.get("release")) for e in progress.episodes}),
        "takeover_steps": sum(_count(e.get("takeover_steps")) for e in progress.episodes),
        "collisions": sum(_count(e.get("collisions")) for e in progress.episodes),
        "interventions": dict(interventions),
    }


def run_drive(
    iteration: int,
    session: FleetSession,
    store: ObjectStore,
    sampler: StoreSampler,
    console: Console,
) -> dict[str, Any]:
    """Drive iteration ``iteration`` (see the module docstring); the stage result."""
    stage = f"drive-{iteration}"
    plan = drive_plan(iteration)
    started = session.ensure(plan)
    o = session.options
    wanted = o.episodes_per_robot
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
    )
    progress: dict[str, MissionProgress] = {}
    with Progress(*columns, console=console, transient=False) as bar:
        tasks = {
            rid: bar.add_task(f"{stage} {rid}", total=wanted, note="starting")
            for rid in session.robot_ids
        }

        def all_uploaded() -> tuple[bool, str]:
            waiting = []
            for rid in session.robot_ids:
                mine = read_missions(session.mission_log(plan, rid))
                progress[rid] = mine
                up = _uploaded(store, rid, mine.episode_ids)
                bar.update(
                    tasks[rid],
                    completed=min(len(mine.episodes), wanted),
                    note=f"{mine.reached} reached, {len(up)} uploaded",
                )
                if not (mine.done and len(up) == len(mine.episode_ids)):
                    waiting.append(rid)
            return not waiting, f"missions and uploads of {', '.join(waiting)}"

        session.wait(stage, all_uploaded)
    sampler.sample()
    session.stop()
    merge_mission_logs(session, iteration)
    robots = {
        spec.robot_id: robot_drive_summary(
            progress[spec.robot_id],
            mission_seeds(plan.drive or 0, spec.index - 1, o.robots, wanted),
        )
        for spec in session.specs
    }
    return {
        "driver": "expert" if plan.supervisor_mode == "drive" else plan.start_after_release,
        "supervisor_mode": plan.supervisor_mode,
        "fleet_started": started,
        "episodes": sum(r["episodes"] for r in robots.values()),
        "reached": sum(r["reached"] for r in robots.values()),
        "robots": robots,
    }
