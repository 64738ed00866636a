"""What the launch files start, worked out from the robot profile and the launch arguments.

``launch/robot.launch.py`` and ``launch/sim.launch.py`` stay thin: at launch time they hand their
argument strings to :func:`plan_robot` / :func:`plan_sim` and turn each :class:`NodeProcess` into a
``launch_ros.actions.Node``. Everything that decides *what* runs (which nodes, their parameters,
namespace, sim time, remappings, the single-process command line) lives here, in plain Python
with no ``launch`` import, so it is unit-tested on hosts without the launch tools and a real
ROS 2 install runs the launch files unchanged.

Launch arguments arrive as strings; an empty string means "take it from the profile".
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fw_bringup.main import load_with_overrides
from fw_bringup.node_parameters import (
    clock_remappings,
    default_profile_path,
    node_parameters,
    uses_sim_time,
)
from fw_bringup.nodes import NODES
from fw_common.errors import ProfileError
from fw_common.profile import NODE_SECTIONS, ParameterValue, RobotProfile, flatten_section

__all__ = [
    "BRINGUP_EXECUTABLE",
    "LaunchArgumentError",
    "NodeProcess",
    "RobotLaunch",
    "default_robot_nodes",
    "drop_empty_lists",
    "launch_parameters",
    "parse_bool",
    "parse_node_list",
    "parse_overrides",
    "plan_robot",
    "plan_sim",
    "resolve_profile_path",
]

#: The Python bringup entry point that runs several nodes in one process (``single_process``).
BRINGUP_EXECUTABLE = ("fw_bringup", "bringup")

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class LaunchArgumentError(ValueError):
    """A launch argument has a value the launch files cannot use; the message says which."""


@dataclass(frozen=True)
class NodeProcess:
    """One process a launch file starts: exactly what ``launch_ros.actions.Node`` takes."""

    #: ROS package and console-script executable (``ros2 run <package> <executable>``).
    package: str
    executable: str
    #: Node name, or None when the process names its own nodes (the single-process bringup).
    name: str | None
    #: Absolute ROS namespace (``/`` or ``/robot_1``); None leaves it to the process.
    namespace: str | None
    #: ROS parameters (dotted names → values), ``use_sim_time`` included.
    parameters: dict[str, ParameterValue] = field(default_factory=dict)
    #: Topic remappings ``(from, to)``.
    remappings: list[tuple[str, str]] = field(default_factory=list)
    #: Command-line arguments before ``--ros-args``.
    arguments: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RobotLaunch:
    """The result of planning: the profile as launched and the processes to start."""

    #: Profile file that was read.
    profile_path: Path
    #: The profile with the launch arguments applied (namespace, sim time, overrides).
    profile: RobotProfile
    #: Nodes selected, in start order.
    nodes: list[str]
    processes: list[NodeProcess]


def parse_bool(text: str, argument: str) -> bool | None:
    """A launch boolean (``true``/``false``, ``1``/``0``, ...); ``""`` gives None (unset)."""
    value = text.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise LaunchArgumentError(f"launch argument {argument}: expected true or false, got {text!r}")


def default_robot_nodes(profile: RobotProfile | None = None) -> list[str]:
    """Every node of the robot stack but the simulator, in start order; optional nodes
    (``NodeSpec.enabled_by``) only when ``profile`` configures them."""
    return [
        name
        for name, spec in NODES.items()
        if not spec.is_simulator and (spec.enabled(profile) if profile else not spec.enabled_by)
    ]


def parse_node_list(text: str, default: Sequence[str]) -> list[str]:
    """Node names separated by commas or spaces, in :data:`NODES` order; ``""`` → ``default``.

    Unknown names are refused with the list of known ones.
    """
    wanted = [n for n in text.replace(",", " ").split() if n]
    if not wanted:
        wanted = list(default)
    unknown = [n for n in wanted if n not in NODES]
    if unknown:
        raise LaunchArgumentError(
            f"launch argument nodes: unknown node(s) {', '.join(unknown)}; "
            f"known: {', '.join(NODES)}"
        )
    return [n for n in NODES if n in wanted]


def parse_overrides(text: str) -> list[str]:
    """``section.key=value`` profile overrides separated by spaces (values are YAML; quote a
    value that has spaces, shell-style: ``sim.imu.gyro_bias='[0, 0, 0.01]'``)."""
    try:
        items = shlex.split(text)
    except ValueError as exc:
        raise LaunchArgumentError(f"launch argument overrides: {exc}") from None
    bad = [item for item in items if "=" not in item]
    if bad:
        raise LaunchArgumentError(
            f"launch argument overrides: expected section.key=value, got {', '.join(bad)}"
        )
    return items


def resolve_profile_path(text: str) -> Path:
    """A profile argument: a YAML path, or the name of a profile shipped in fw_bringup."""
    value = text.strip()
    if not value:
        raise LaunchArgumentError("launch argument profile: empty; give a YAML path or a name")
    path = Path(value).expanduser()
    if path.suffix in (".yaml", ".yml") or path.exists() or "/" in value:
        return path
    return default_profile_path(value)


def _yaml_string(text: str) -> str:
    # A JSON string is a YAML string: namespaces such as "on" or "no" stay strings.
    return json.dumps(text)


def _launch_overrides(
    namespace: str, use_sim_time: bool | None, overrides: list[str]
) -> list[str]:
    result = list(overrides)
    if namespace.strip():
        result.append(f"robot.namespace={_yaml_string(namespace.strip())}")
    if use_sim_time is not None:
        # Nodes of a simulated robot run on /clock (fw_bringup.node_parameters.uses_sim_time).
        result.append(f"robot.simulated={'true' if use_sim_time else 'false'}")
    return result


def launch_parameters(profile: RobotProfile, node: str) -> dict[str, ParameterValue]:
    """The parameters a launch file passes to ``node``: the profile mapping without empty lists
    (see :func:`drop_empty_lists`)."""
    return drop_empty_lists(
        node_parameters(profile, node), flatten_section(NODE_SECTIONS[node]()), node
    )


def drop_empty_lists(
    parameters: dict[str, ParameterValue], defaults: dict[str, ParameterValue], node: str
) -> dict[str, ParameterValue]:
    """``parameters`` without the empty lists, which launch cannot pass.

    An empty list has no type in a ROS parameters file (rcl reads ``[]`` as "not set", and
    launch_ros refuses it), so the node keeps its declared default, which is the section's
    default (``defaults``). That is only right when that default is empty too, so emptying a
    list whose default is not empty raises :class:`ProfileError` with the reason.
    """
    result: dict[str, ParameterValue] = {}
    problems = []
    for key, value in parameters.items():
        if isinstance(value, list) and not value:
            if defaults.get(key):
                problems.append(
                    f"{node}.{key}: an empty list cannot be passed as a ROS parameter by "
                    f"launch (its default is {defaults[key]!r}); use single_process:=true"
                )
            continue
        result[key] = value
    if problems:
        raise ProfileError(problems)
    return result


def _node_process(profile: RobotProfile, name: str) -> NodeProcess:
    spec = NODES[name]
    parameters = launch_parameters(profile, name)
    parameters["use_sim_time"] = uses_sim_time(profile, name)
    return NodeProcess(
        package=spec.package,
        executable=spec.executable,
        name=name,
        namespace=profile.robot.ros_namespace,
        parameters=parameters,
        remappings=clock_remappings(profile),
    )


def plan_robot(
    profile: str,
    *,
    namespace: str = "",
    use_sim_time: str = "",
    nodes: str = "",
    single_process: str = "false",
    overrides: str = "",
    default_nodes: Sequence[str] | None = None,
) -> RobotLaunch:
    """Plan ``robot.launch.py`` from its argument strings.

    ``namespace``: ``""`` keeps the profile's ``robot.namespace``, ``/`` is the root namespace.
    ``use_sim_time``: ``""`` keeps the profile's ``robot.simulated``. ``nodes``: ``""`` runs
    ``default_nodes`` (every robot node but the simulator). ``single_process``: one process
    through the Python bringup instead of one process per node. ``overrides``: profile settings
    as ``section.key=value`` separated by spaces, exactly as ``bringup --set`` takes them.

    Raises :class:`fw_common.errors.ProfileError` for an invalid or unreadable profile and
    :class:`LaunchArgumentError` for a bad argument, both with a message fit for an operator.
    """
    path = resolve_profile_path(profile)
    sets = _launch_overrides(
        namespace, parse_bool(use_sim_time, "use_sim_time"), parse_overrides(overrides)
    )
    robot_profile = load_with_overrides(path, sets)
    names = parse_node_list(
        nodes, default_robot_nodes(robot_profile) if default_nodes is None else default_nodes
    )
    if parse_bool(single_process, "single_process"):
        package, executable = BRINGUP_EXECUTABLE
        arguments = ["--profile", str(path), "--nodes", ",".join(names)]
        for item in sets:
            arguments += ["--set", item]
        processes = [
            NodeProcess(
                package=package,
                executable=executable,
                name=None,
                namespace=None,
                arguments=arguments,
            )
        ]
    else:
        processes = [_node_process(robot_profile, name) for name in names]
    return RobotLaunch(path, robot_profile, names, processes)


def plan_sim(
    profile: str,
    *,
    namespace: str = "",
    seed: str = "",
    gui: str = "false",
    overrides: str = "",
) -> RobotLaunch:
    """Plan the simulator process of ``sim.launch.py``.

    ``seed``: ``""`` keeps the profile's ``sim.seed``; ``gui``: show the PyBullet window. The
    robot's own nodes come from ``robot.launch.py``, included with ``use_sim_time:=true``.
    """
    sets = parse_overrides(overrides)
    if seed.strip():
        try:
            value = int(seed)
        except ValueError:
            raise LaunchArgumentError(
                f"launch argument seed: expected an integer, got {seed!r}"
            ) from None
        sets.append(f"sim.seed={value}")
    gui_on = parse_bool(gui, "gui")
    if gui_on is not None:
        sets.append(f"sim.gui={'true' if gui_on else 'false'}")
    sim_nodes = [name for name, spec in NODES.items() if spec.is_simulator]
    return plan_robot(
        profile,
        namespace=namespace,
        # The simulator is the clock: it never runs on sim time, whatever the profile says.
        use_sim_time="true",
        nodes=",".join(sim_nodes),
        overrides=shlex.join(sets),
    )
