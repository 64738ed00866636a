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

With an external fleet (``--external-robots``, :mod:`cloud_bridge.run.external_fleet`) the
robots drive as they are configured: :func:`run_external_drive` waits until each has uploaded
``episodes_per_robot`` episodes (their manifests in the store) that were not there when the
stage first began (``<run>/external/drive-<k>.json`` keeps that baseline, so a resumed stage
counts from the same point). From iteration 1 those are driven by the release the publish
stage saw every robot swap to.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from rich.console import Console

from cloud_bridge.run.files import read_json, write_json
from cloud_bridge.run.fleet_session import FleetPlan, FleetSession
from cloud_bridge.run.layout import release_name
from cloud_bridge.run.missions import (
    MissionProgress,
    merge_drive_logs,
    mission_seeds,
    read_missions,
)
from cloud_bridge.run.progress import stage_progress
from cloud_bridge.run.sampler import StoreSampler
from cloud_bridge.store import ObjectStore, StoreError

__all__ = [
    "drive_plan",
    "merge_mission_logs",
    "robot_drive_summary",
    "run_drive",
    "run_external_drive",
    "uploaded_episodes",
]


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
    progress: dict[str, MissionProgress] = {}
    with stage_progress(console) as bar:
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


def uploaded_episodes(store: ObjectStore, robot_id: str) -> set[str]:
    """The episode ids of ``robot_id`` whose manifest (the uploader's last write) is in the
    store; an unreadable store counts none (the caller polls again)."""
    prefix = f"episodes/{robot_id}/"
    try:
        keys = [info.key for info in store.list(prefix)]
    except StoreError:
        return set()
    found = set()
    for key in keys:
        parts = key[len(prefix) :].split("/")
        if len(parts) == 2 and parts[1] == "manifest.json" and parts[0]:
            found.add(parts[0])
    return found


def _baseline(iteration: int, session: FleetSession, store: ObjectStore) -> dict[str, list[str]]:
    """Each robot's episodes in the store when the stage first began (kept for a resume)."""
    path = session.layout.external_baseline(iteration)
    doc = read_json(path)
    if isinstance(doc, dict) and set(doc) == set(session.robot_ids):
        return {rid: sorted(str(e) for e in doc[rid]) for rid in session.robot_ids}
    before = {rid: sorted(uploaded_episodes(store, rid)) for rid in session.robot_ids}
    write_json(path, before)
    return before


def run_external_drive(
    iteration: int,
    session: FleetSession,
    store: ObjectStore,
    sampler: StoreSampler,
    console: Console,
) -> dict[str, Any]:
    """Drive iteration ``iteration`` on an external fleet (see the module docstring): wait,
    bounded by the fleet timeout, for each robot's new uploads; the stage result."""
    stage = f"drive-{iteration}"
    wanted = session.options.episodes_per_robot
    before = _baseline(iteration, session, store)
    began = time.monotonic()
    new: dict[str, list[str]] = {}
    done_after: dict[str, float] = {}
    with stage_progress(console) as bar:
        tasks = {
            rid: bar.add_task(f"{stage} {rid} (external)", total=wanted, note="waiting")
            for rid in session.robot_ids
        }

        def all_uploaded() -> tuple[bool, str]:
            waiting = []
            for rid in session.robot_ids:
                new[rid] = sorted(uploaded_episodes(store, rid) - set(before[rid]))
                count = len(new[rid])
                bar.update(tasks[rid], completed=min(count, wanted), note=f"{count} new uploaded")
                if count >= wanted:
                    done_after.setdefault(rid, round(time.monotonic() - began, 2))
                else:
                    waiting.append(rid)
            what = ", ".join(f"{rid} ({len(new[rid])} of {wanted})" for rid in waiting)
            return not waiting, f"new episodes uploaded by {what}"

        session.wait(stage, all_uploaded)
    sampler.sample()
    robots = {
        rid: {
            "episodes": len(new[rid]),
            "episode_ids": new[rid],
            "before": len(before[rid]),
            "done_after_s": done_after[rid],
        }
        for rid in session.robot_ids
    }
    return {
        "driver": "external",
        "external": True,
        "episodes": sum(r["episodes"] for r in robots.values()),
        "robots": robots,
    }
