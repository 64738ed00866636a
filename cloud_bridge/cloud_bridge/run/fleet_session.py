"""The simulated fleet as the run uses it: started for what the next stages need, reused while
that does not change, stopped while the cloud computes.

A :class:`FleetPlan` says what the robots do: which missions (a block of training seeds, or
none: idle), how the simulated supervisor acts (``drive``: the expert drives; ``supervise``:
it takes over when the policy is about to fail; ``label``: it only labels), and which release
they wait for before the missions start. A plan is a set of profile overrides, so it changes
only by restarting the robots; each agent's state (active, previous and rolled-back releases)
lives in its cache folder and survives the restart.

The fleet is up from a publish stage through the drive it prepares (the robots pull the new
release, swap, then start the missions that wait for it) and down during the dataset, training
and evaluation stages: on a two-core host two idle simulated robots take the CPU those stages
need, and a restart costs seconds.

Each drive's missions log to their own file (:mod:`cloud_bridge.run.missions`), emptied when
the fleet is started for the drive, so a resumed, interrupted drive starts its missions over.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud_bridge.fleet import (
    AgentOptions,
    FleetError,
    FleetState,
    RobotExit,
    RobotSpec,
    plan_fleet,
    robot_command,
    start_fleet,
    stop_fleet,
)
from cloud_bridge.fleet.processes import exited_early, group_alive
from cloud_bridge.run.layout import RunLayout
from cloud_bridge.run.missions import mission_seeds
from cloud_bridge.run.options import RunOptions
from cloud_bridge.run.stages import StageError

__all__ = ["CANARY", "STABLE", "FleetPlan", "FleetSession", "log_tail"]

_log = logging.getLogger(__name__)

#: The channel the run's robots follow, and the one its last release is promoted to.
CANARY = "canary"
STABLE = "stable"
#: The supervisor modes of ``sim.supervisor.mode`` a plan may use.
SUPERVISOR_MODES = ("off", "label", "supervise", "drive")


@dataclass(frozen=True)
class FleetPlan:
    """What the robots do (see the module docstring)."""

    #: Which block of mission seeds (see :mod:`cloud_bridge.run.missions`); None: no missions.
    drive: int | None
    #: ``sim.supervisor.mode``.
    supervisor_mode: str = "label"
    #: The release the missions wait for ("": start at once).
    start_after_release: str = ""
    #: Missions per robot; None: the run's ``episodes_per_robot``.
    missions: int | None = None

    def __post_init__(self) -> None:
        if self.supervisor_mode not in SUPERVISOR_MODES:
            raise ValueError(f"supervisor mode {self.supervisor_mode!r}")


def log_tail(path: str | Path, lines: int = 20) -> str:
    """The last ``lines`` of a robot's log, indented, for an error message."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return "    (no log)"
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def _yaml(value: Any) -> str:
    # `--set` reads YAML; JSON is YAML, so strings with odd characters and lists stay as given.
    return json.dumps(value)


class FleetSession:
    """The run's fleet (see the module docstring)."""

    def __init__(self, options: RunOptions, layout: RunLayout) -> None:
        self.options = options
        self.layout = layout
        self.specs: list[RobotSpec] = plan_fleet(options.robots, layout.root)
        self.agent = AgentOptions(
            store_url=options.store_url,
            trusted_root=layout.trusted_root.resolve(),
            endpoint_url=options.endpoint_url,
            region=options.region,
            fleet=options.fleet,
            channel=CANARY,
            poll_period=options.poll_period,
        )

    @property
    def robot_ids(self) -> list[str]:
        return [spec.robot_id for spec in self.specs]

    def sets(self, plan: FleetPlan, spec: RobotSpec) -> list[str]:
        """The profile overrides of ``spec`` under ``plan``."""
        o = self.options
        seeds = (
            []
            if plan.drive is None
            else mission_seeds(
                plan.drive, spec.index - 1, o.robots, o.episodes_per_robot, plan.missions
            )
        )
        return [
            f"sim.real_time_factor={o.real_time_factor}",
            f"sim.scenario.family={_yaml(o.family)}",
            f"sim.supervisor.mode={plan.supervisor_mode}",
            f"mission.seeds={_yaml(seeds)}",
            f"mission.time_limit={o.mission_time_limit}",
            f"mission.log_path={_yaml(str(self.mission_log(plan, spec.robot_id)))}",
            f"mission.start_after_release={_yaml(plan.start_after_release)}",
            # A swap waits for an episode to end (the runner waits for the swap between
            # missions), but never longer than a mission.
            f"cloud_agent.defer_timeout={o.mission_time_limit / o.real_time_factor:g}",
            f"cloud_agent.rollback_window={o.rollback_window}",
            f"cloud_agent.rollback_min_events={o.rollback_min_events}",
            f"cloud_agent.rollback_margin={o.rollback_margin}",
        ]

    def commands(self, plan: FleetPlan) -> list[tuple[RobotSpec, list[str]]]:
        return [
            (spec, robot_command(spec, agent=self.agent, sets=self.sets(plan, spec)))
            for spec in self.specs
        ]

    def running(self) -> FleetState | None:
        """The fleet this run folder started, when any of it still runs."""
        state = FleetState.load(self.layout.root)
        if state is None or not any(group_alive(r) for r in state.robots):
            return None
        return state

    def mission_log(self, plan: FleetPlan, robot_id: str) -> Path:
        """Where ``robot_id`` logs ``plan``'s missions (a plan without missions logs none)."""
        if plan.drive is None:
            return self.layout.robot(robot_id).resolve() / "missions" / "idle.jsonl"
        return self.layout.drive_log(robot_id, plan.drive).resolve()

    def ensure(self, plan: FleetPlan) -> bool:
        """The fleet runs ``plan``: kept when it already does, else (re)started. True when
        it was started."""
        commands = self.commands(plan)
        state = self.running()
        if state is not None:
            same = [r.command for r in state.robots] == [c for _, c in commands]
            if same and not exited_early(state):
                return False
            self.stop()
        for spec in self.specs:
            self.mission_log(plan, spec.robot_id).unlink(missing_ok=True)
        try:
            start_fleet(commands, self.layout.root, store_url=self.agent.store_url)
        except FleetError as exc:
            raise StageError("fleet", str(exc)) from None
        return True

    def check_alive(self, stage: str) -> None:
        """:class:`StageError` with the robots' last words when one of them exited."""
        state = FleetState.load(self.layout.root)
        if state is None:
            raise StageError(stage, "the fleet is not running")
        dead = exited_early(state)
        if dead:
            tails = "\n".join(
                f"  {d.robot_id} (exit status {d.status}), {d.log_path}:\n{log_tail(d.log_path)}"
                for d in dead
            )
            raise StageError(stage, f"robots exited:\n{tails}")

    def wait(
        self,
        stage: str,
        condition: Callable[[], tuple[bool, str]],
        *,
        timeout: float | None = None,
        period: float = 0.5,
    ) -> None:
        """Poll ``condition`` (done, what it waits for) until done; :class:`StageError` when
        a robot exits or after ``timeout`` (default: the run's fleet timeout) s."""
        limit = self.options.fleet_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            done, waiting_for = condition()
            if done:
                return
            self.check_alive(stage)
            if time.monotonic() > deadline:
                raise StageError(
                    stage, f"waited {limit:.0f} s for {waiting_for}; {self.where_to_look()}"
                )
            time.sleep(period)

    def where_to_look(self) -> str:
        """Where an operator finds why the robots did not do what a stage waited for."""
        return "robot logs: " + ", ".join(str(spec.log_path) for spec in self.specs)

    def stop(self) -> list[RobotExit]:
        """Stop the fleet if it runs (SIGINT, then escalation); how each robot ended."""
        state = FleetState.load(self.layout.root)
        if state is None:
            return []
        exits = stop_fleet(state)
        for e in exits:
            if not e.clean:
                _log.warning(
                    "%s ended unclean (status %s, %s); log %s",
                    e.robot_id, e.status, e.stopped_by or "exited before", e.log_path,
                )  # fmt: skip
        return exits
