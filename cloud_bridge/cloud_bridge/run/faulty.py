"""The faulty-release stage: a release that drives badly reaches the fleet, and the robots roll
it back on their own.

The model is well formed and its metadata correct (the robot's observation spec, action scale,
a version), so every check a robot makes before a swap passes; what is wrong is its behaviour:
it drives straight ahead at nearly full speed whatever it sees. Such a release could only reach
a fleet by skipping the gate, and this one does, on purpose; ``releases.json`` says so.

The fleet drives missions once the release runs, with the expert only labelling, so the safety
supervisor intervenes as the robots head for the walls. Each agent counts the interventions
after its swap and, when their rate exceeds the release before's by its margin, swaps back on
its own (``cloud_agent.rollback_*``). The stage ends when every robot reports the release
rolled back and the episodes it drove have ended (each robot's mission log shows them); then
the operator's side withdraws it from the channel, so that no robot installs it again.
"""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from cloud_bridge.run.agents import read_agents
from cloud_bridge.run.drive import merge_mission_logs
from cloud_bridge.run.fleet_session import CANARY, FleetSession
from cloud_bridge.run.layout import RunLayout, release_name
from cloud_bridge.run.missions import read_missions
from cloud_bridge.run.publishing import FAULTY_RELEASE, faulty_plan
from cloud_bridge.run.releases_log import ReleaseDesk
from cloud_bridge.run.sampler import StoreSampler
from cloud_bridge.run.stages import StageBook
from cloud_bridge.store import ObjectStore

__all__ = ["FAULTY_ACTION", "make_faulty_model", "run_faulty"]

#: The model's normalised command whatever it sees: forward at 0.98 of full speed, no turn.
FAULTY_ACTION = (0.98, 0.0)


def make_faulty_model(layout: RunLayout) -> Path:
    """Write the faulty model to ``<run>/faulty/model.onnx``; its path."""
    from cloud_bridge.run.learning import sim_profile
    from cloud_bridge.train import TrainConfig
    from fw_common.observation import spec_by_name
    from fw_policy.model_file import main as make_model

    profile = sim_profile()
    spec = spec_by_name(profile.policy.observation_spec)
    layout.faulty.mkdir(parents=True, exist_ok=True)
    path = layout.faulty / "model.onnx"
    scale = TrainConfig().action_scale  # what the run's trained releases use
    args = [
        "constant", str(path), "--inputs", str(spec.size), "--spec-id", spec.spec_id,
        "--action", *(str(a) for a in FAULTY_ACTION), "--version", FAULTY_RELEASE,
        "--action-scale", *(str(s) for s in scale),
    ]  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()):  # it prints the path
        if make_model(args) != 0:
            raise RuntimeError("the faulty model could not be written")
    return path


def run_faulty(
    book: StageBook,
    desk: ReleaseDesk,
    session: FleetSession,
    store: ObjectStore,
    sampler: StoreSampler,
    console: Console,
) -> dict[str, Any]:
    """Publish the faulty release and wait for the robots to roll it back; the stage result."""
    from cloud_bridge.train.code_version import code_version

    options = session.options
    good = release_name(options.iterations - 1)
    model = make_faulty_model(session.layout)
    started = session.ensure(faulty_plan(options.iterations))
    dataset_hash = book.result(f"dataset-{options.iterations - 1}")["dataset_hash"]
    entry = desk.publish(
        FAULTY_RELEASE,
        model,
        channel=CANARY,
        parent=good,
        dataset_hash=dataset_hash,
        metrics={},
        code_version=code_version(),
        gate="skipped: a deliberately faulty release (drives straight ahead at full speed), "
        "published without its gate to show the robots' automatic rollback",
        faulty=True,
    )
    began = time.monotonic()
    seen: dict[str, dict[str, Any]] = {}
    with console.status("faulty: waiting for every robot to roll it back") as status:

        def rolled_back() -> tuple[bool, str]:
            for rid, agent in read_agents(store, session.robot_ids).items():
                if (
                    agent is not None
                    and FAULTY_RELEASE in agent.rolled_back
                    and agent.active == good
                    and rid not in seen
                ):
                    seen[rid] = {
                        "after_s": round(time.monotonic() - began, 2),
                        "reason": agent.rolled_back[FAULTY_RELEASE],
                        "back_on": agent.active,
                    }
            waiting = [rid for rid in session.robot_ids if rid not in seen]
            status.update(f"faulty: waiting for {', '.join(waiting) or 'nobody'} to roll it back")
            return not waiting, f"{', '.join(waiting)} to roll {FAULTY_RELEASE} back"

        session.wait("faulty", rolled_back)
        # The episode the release drove ends (by its time limit at the latest) and is logged:
        # the run's mission log then shows what the faulty release did. A robot that had rolled
        # it back before this run (a resumed stage) never drives it, so the wait is bounded.
        # An external fleet's mission logs are the robots' own: nothing to wait for here.
        plan = faulty_plan(options.iterations)
        status.update("faulty: rolled back; waiting for the episodes it drove to end")
        deadline = time.monotonic() + options.mission_time_limit / options.real_time_factor + 30
        while (
            not options.external
            and time.monotonic() < deadline
            and not all(
                read_missions(session.mission_log(plan, rid)).episodes for rid in session.robot_ids
            )
        ):
            session.check_alive("faulty")
            time.sleep(0.5)
    sampler.sample()
    channel = desk.rollback(
        CANARY, good, "every canary robot rolled it back on its own: safety interventions"
    )
    session.stop()
    merge_mission_logs(session, options.iterations)
    return {
        "release": FAULTY_RELEASE,
        "model_sha256": entry["model_sha256"],
        "gate": entry["gate"],
        "fleet_started": started,
        "rolled_back": seen,
        "channel": {"canary": good, "withdrawn": channel["release"]},
    }
