"""An external fleet: robots that run elsewhere (containers, real robots), which the run only
watches through the store.

With ``--external-robots robot_1,robot_2`` the run starts no robot. Each listed robot runs its
own bringup with its cloud agent on the run's store, following the fleet's ``canary`` channel
and trusting the root metadata of the run's release repository (``--keys``: the keys of the
``flywheel keys init`` whose root the robots were given). The run sees the robots only as a
dashboard would: their agents' status objects (``robots/<id>/status.json``) and their uploads
(``episodes/<id>/<episode>/...``).

What a local fleet's run sets on its robots is the robots' own configuration here: their
missions (``mission.seeds``, ``mission.time_limit``), the supervisor's mode
(``sim.supervisor.mode``: ``drive`` for the expert's demonstrations, ``supervise`` for
HG-DAgger take-overs), the simulation speed and the agents' rollback settings. So the drive
stages do not choose who drives: they take the episodes the robots upload
(:func:`cloud_bridge.run.drive.run_external_drive`), and the faulty release's episodes are
whatever the robots drive after it (its stage waits for the rollbacks only).

:class:`ExternalFleet` has :class:`~cloud_bridge.run.fleet_session.FleetSession`'s interface
for the stages: starting and stopping are no-ops, and a robot counts as alive (the run cannot
see its process); a stage waiting for it ends by ``--fleet-timeout``.
"""

from __future__ import annotations

from pathlib import Path

from cloud_bridge.fleet import RobotExit
from cloud_bridge.run.fleet_session import FleetPlan, FleetSession
from cloud_bridge.run.layout import RunLayout
from cloud_bridge.run.options import RunOptions

__all__ = ["ExternalFleet"]


class ExternalFleet(FleetSession):
    """The robots ``options.external_robots`` names (see the module docstring)."""

    def __init__(self, options: RunOptions, layout: RunLayout) -> None:
        if not options.external:
            raise ValueError("an external fleet needs --external-robots")
        super().__init__(options, layout)
        self.specs = []  # no robot of this run's own
        self._robot_ids = list(options.external_robots)

    @property
    def robot_ids(self) -> list[str]:
        return list(self._robot_ids)

    def ensure(self, plan: FleetPlan) -> bool:
        """Nothing to start: the robots' plan is their own configuration."""
        return False

    def check_alive(self, stage: str) -> None:
        """The run cannot see the robots' processes: only the stage's timeout ends a wait."""

    def mission_log(self, plan: FleetPlan, robot_id: str) -> Path:
        """The robots keep their mission logs; this path is never written."""
        return self.layout.robot(robot_id).resolve() / "missions" / "external.jsonl"

    def where_to_look(self) -> str:
        return (
            "the robots run elsewhere: look at their own logs, and at their status in the "
            f"store (flywheel fleet status --store {self.options.store_url})"
        )

    def stop(self) -> list[RobotExit]:
        """Nothing to stop: the robots are not the run's."""
        return []
