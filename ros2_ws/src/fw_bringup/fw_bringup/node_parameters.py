"""The robot profile → node parameters mapping used by launch files and the Python bringup.

Keeping it here (not in the launch files) means a real ROS 2 install and a host without the
launch tools configure nodes identically, and a test can check that the mapping yields exactly
the parameters each node declares.
"""

from __future__ import annotations

from pathlib import Path

from fw_common.profile import NODE_SECTIONS, ParameterValue, RobotProfile, flatten_section

__all__ = [
    "clock_remappings",
    "default_profile_path",
    "node_parameters",
    "uses_sim_time",
]


def node_parameters(profile: RobotProfile, node: str) -> dict[str, ParameterValue]:
    """The ROS parameters of ``node`` (dotted names → values) from its profile section.

    A node setting named ``robot_id`` left empty takes the profile's ``robot.id``, so episode
    metadata and logs name the robot without repeating its id in every section; likewise an
    empty ``observation_spec`` takes the policy's and an empty ``spool_dir`` the recorder's.
    """
    if node not in NODE_SECTIONS:
        raise KeyError(f"no profile section for node {node!r}; known: {sorted(NODE_SECTIONS)}")
    params = flatten_section(getattr(profile, node))
    if params.get("robot_id") == "":
        params["robot_id"] = profile.robot.id
    if params.get("observation_spec") == "":
        params["observation_spec"] = profile.policy.observation_spec
    if params.get("spool_dir") == "":
        params["spool_dir"] = profile.recorder.spool_dir
    return params


def uses_sim_time(profile: RobotProfile, node: str) -> bool:
    """Nodes of a simulated robot run on ``/clock``; the simulator itself is the clock."""
    return profile.robot.simulated and node != "sim"


def clock_remappings(profile: RobotProfile) -> list[tuple[str, str]]:
    """Remap ``/clock`` into the robot's namespace, where its simulator publishes it.

    Several simulated robots can then share one ROS graph, each on its own clock.
    """
    ns = profile.robot.namespace.strip("/")
    if not profile.robot.simulated or not ns:
        return []
    return [("/clock", f"/{ns}/clock")]


def default_profile_path(name: str = "sim") -> Path:
    """A profile shipped with fw_bringup: the installed share folder when ament knows it,
    else the source tree (running from a checkout)."""
    filename = f"{name}.yaml"
    try:
        from ament_index_python.packages import (
            PackageNotFoundError,
            get_package_share_directory,
        )

        try:
            share = Path(get_package_share_directory("fw_bringup"))
            candidate = share / "config" / "profiles" / filename
            if candidate.is_file():
                return candidate
        except (PackageNotFoundError, KeyError, LookupError):
            pass
    except ImportError:
        pass
    return Path(__file__).resolve().parent.parent / "config" / "profiles" / filename
