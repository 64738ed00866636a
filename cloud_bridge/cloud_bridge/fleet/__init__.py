"""A simulated fleet on one host: ``flywheel fleet up / down / status``.

:mod:`~cloud_bridge.fleet.spec` says what each robot runs (a command line: the Python bringup
of the sim profile in its own namespace, with its own seed and robot id, plus the cloud agent
when a store is given), :mod:`~cloud_bridge.fleet.processes` starts each robot in its own
process group and stops it the way ``ros2 launch`` does, :mod:`~cloud_bridge.fleet.state` keeps
what was started in a JSON file of the run folder, and :mod:`~cloud_bridge.fleet.status` reads
the ``robots/<id>/status.json`` objects the agents write. Nothing here imports a ROS node: the
robots are separate processes started by command line (the cloud's import contract).
"""

from cloud_bridge.fleet.errors import FleetError
from cloud_bridge.fleet.processes import RobotExit, start_fleet, stop_fleet
from cloud_bridge.fleet.spec import AgentOptions, RobotSpec, plan_fleet, robot_command
from cloud_bridge.fleet.state import FleetState, RobotProcess
from cloud_bridge.fleet.status import RobotStatus, read_fleet_status

__all__ = [
    "AgentOptions",
    "FleetError",
    "FleetState",
    "RobotExit",
    "RobotProcess",
    "RobotSpec",
    "RobotStatus",
    "plan_fleet",
    "read_fleet_status",
    "robot_command",
    "start_fleet",
    "stop_fleet",
]
