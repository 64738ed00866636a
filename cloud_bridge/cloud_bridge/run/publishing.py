"""The publish stages: a release that passed its gate goes to the fleet's ``canary`` channel,
and the stage watches every robot's agent pull, verify and swap it.

Before publishing, the fleet is brought up with the plan of what comes next (the next
iteration's missions, or the faulty release's), so the robots are there to pull the release,
and their missions start once it runs. The last iteration's release is promoted to ``stable``
once every canary robot runs it.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console

from cloud_bridge.run.agents import read_agents
from cloud_bridge.run.drive import drive_plan
from cloud_bridge.run.fleet_session import CANARY, STABLE, FleetPlan, FleetSession
from cloud_bridge.run.layout import release_name
from cloud_bridge.run.progress import stage_progress
from cloud_bridge.run.releases_log import ReleaseDesk
from cloud_bridge.run.sampler import StoreSampler
from cloud_bridge.run.stages import StageBook, StageError
from cloud_bridge.store import ObjectStore

__all__ = ["FAULTY_RELEASE", "faulty_plan", "next_plan", "run_publish", "wait_for_release"]

#: The deliberately faulty release's id.
FAULTY_RELEASE = "faulty"
#: Missions each robot has for the faulty release: enough driving for its agent to see the
#: interventions, however short the run's missions are.
FAULTY_MISSIONS = 3


def faulty_plan(iterations: int) -> FleetPlan:
    """The robots drive once the faulty release runs; the expert only labels, so nothing but
    the safety supervisor stands between the release and the walls."""
    return FleetPlan(
        drive=iterations,
        supervisor_mode="label",
        start_after_release=FAULTY_RELEASE,
        missions=FAULTY_MISSIONS,
    )


def next_plan(iteration: int, iterations: int, faulty: bool) -> FleetPlan:
    """What the fleet does after ``v<iteration + 1>`` is published."""
    if iteration + 1 < iterations:
        return drive_plan(iteration + 1)
    if faulty:
        return faulty_plan(iterations)
    return FleetPlan(drive=None)


def wait_for_release(
    stage: str,
    release: str,
    session: FleetSession,
    store: ObjectStore,
    console: Console,
) -> dict[str, float]:
    """Wait until every robot's agent reports ``release`` active; when each did (s since the
    wait began, as seen by polling)."""
    began = time.monotonic()
    seen: dict[str, float] = {}
    with stage_progress(console) as bar:
        task = bar.add_task(
            f"{stage} robots running {release}", total=len(session.robot_ids), note=""
        )

        def swapped() -> tuple[bool, str]:
            statuses = read_agents(store, session.robot_ids)
            for rid, status in statuses.items():
                if status is not None and status.active == release and rid not in seen:
                    seen[rid] = round(time.monotonic() - began, 2)
            waiting = [rid for rid in session.robot_ids if rid not in seen]
            notes = [
                f"{rid}: {s.running if s else 'no status'}"
                + (f" ({s.problem})" if s and s.problem else "")
                for rid, s in statuses.items()
                if rid in waiting
            ]
            bar.update(task, completed=len(seen), note="; ".join(notes))
            return not waiting, f"{release} on {', '.join(waiting)} (now: {'; '.join(notes)})"

        session.wait(stage, swapped)
    return seen


def run_publish(
    iteration: int,
    book: StageBook,
    desk: ReleaseDesk,
    session: FleetSession,
    store: ObjectStore,
    sampler: StoreSampler,
    console: Console,
) -> dict[str, Any]:
    """Publish ``v<iteration + 1>`` (see the module docstring); the stage result."""
    from cloud_bridge.train.code_version import code_version

    stage = f"publish-{iteration}"
    release = release_name(iteration)
    options = session.options
    verdict = book.result(f"evaluate-{iteration}")
    if not verdict["passed"]:
        raise StageError(
            stage,
            f"{release} failed its gate against {verdict['baseline']}, so it is not published: "
            + "; ".join(verdict["reasons"]),
        )
    dataset = book.result(f"dataset-{iteration}")
    started = session.ensure(next_plan(iteration, options.iterations, options.faulty))
    entry = desk.publish(
        release,
        session.layout.model(release),
        channel=CANARY,
        parent=None if iteration == 0 else release_name(iteration - 1),
        dataset_hash=dataset["dataset_hash"],
        metrics=verdict["metrics"],
        code_version=code_version(),
        gate={"passed": True, "baseline": verdict["baseline"],
              "file": str(session.layout.gate(release))},
    )  # fmt: skip
    swaps = wait_for_release(stage, release, session, store, console)
    sampler.sample()
    channels = [CANARY]
    if iteration + 1 == options.iterations:
        desk.promote(release, STABLE)
        channels.append(STABLE)
    return {
        "release": release,
        "channels": channels,
        "model_sha256": entry["model_sha256"],
        "dataset_hash": entry["dataset_hash"],
        "parent": entry["parent"],
        "fleet_started": started,
        "swapped_after_s": swaps,
    }
