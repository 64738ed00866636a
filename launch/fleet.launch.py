"""A simulated fleet: N robots, each in its own namespace with its own seed, and its cloud agent
when a store is given. One simulator per robot; headless.

ros2 launch fw_bringup fleet.launch.py robots:=3
ros2 launch fw_bringup fleet.launch.py robots:=3 seed_base:=10 namespace_prefix:=husky_
ros2 launch fw_bringup fleet.launch.py robots:=2 store:=s3://fleet \\
    store_endpoint_url:=http://minio:9000 trusted_root:=/etc/flywheel/root.json channel:=canary
ros2 launch fw_bringup fleet.launch.py robots:=2 mission_seeds:="[0, 1, 2, 3]" \\
    mission_log_dir:=/tmp/missions overrides:="sim.supervisor.mode=drive"

Robot i is <namespace_prefix><i> (namespace and robot id) on seed seed_base + i - 1, exactly as
`flywheel fleet up` names them. What each robot runs is fw_bringup.fleet_plan's (the same
plan as sim.launch.py's for one robot), so it is tested on hosts without launch.
"""

from __future__ import annotations

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = {
    "robots": ("2", "How many simulated robots (1 to 64)."),
    "profile": (
        PathJoinSubstitution([FindPackageShare("fw_bringup"), "config", "profiles", "sim.yaml"]),
        "Robot profile of every robot: a YAML path, or the name of a profile shipped in "
        "fw_bringup (share/fw_bringup/config/profiles/<name>.yaml).",
    ),
    "seed_base": ("0", "Scenario seed of the first robot; robot i drives seed_base + i - 1."),
    "namespace_prefix": (
        "robot_",
        "Robot i's namespace and robot id are <namespace_prefix><i>.",
    ),
    "store": (
        "",
        "Object store of the robots' cloud agents (a folder or s3://bucket/prefix); empty: "
        "no agents (cloud_agent.store_url).",
    ),
    "store_endpoint_url": ("", "S3 endpoint of the store (MinIO...); empty: the profile's."),
    "trusted_root": (
        "",
        "Root metadata of the release repository the agents trust; empty: the profile's "
        "cloud_agent.trusted_root.",
    ),
    "fleet": ("", "Fleet whose release channel the agents follow; empty: the profile's."),
    "channel": ("", "Release channel (canary or stable); empty: the profile's."),
    "single_process": (
        "false",
        "true: each robot's nodes run in one process through the Python bringup (its "
        "simulator keeps its own process).",
    ),
    "overrides": (
        "",
        "Profile settings to override on every robot, space-separated section.key=value "
        "(values are YAML), as `bringup --set` takes them.",
    ),
    "mission_seeds": (
        "",
        "Scenario seeds the fleet drives on its own, as a YAML list ([0, 1, 2, 3]), dealt "
        "round-robin to the robots (mission.seeds); empty: no missions.",
    ),
    "mission_log_dir": (
        "",
        "Folder of the robots' mission logs (<dir>/<robot id>/mission.jsonl); empty: none.",
    ),
}


def _arg(context: LaunchContext, name: str) -> str:
    return LaunchConfiguration(name).perform(context)


def launch_setup(context: LaunchContext) -> list[Node]:
    """Every robot's processes; the whole fleet is planned (and refused) before any starts."""
    from fw_bringup.fleet_plan import plan_fleet_launch

    fleet = plan_fleet_launch(
        _arg(context, "profile"),
        **{name: _arg(context, name) for name in ARGUMENTS if name != "profile"},
    )
    return [
        Node(
            package=process.package,
            executable=process.executable,
            name=process.name,
            namespace=process.namespace,
            parameters=[process.parameters] if process.parameters else None,
            remappings=process.remappings or None,
            arguments=process.arguments or None,
            output="screen",
        )
        for robot in fleet
        for process in robot.processes
    ]


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription(
        [
            DeclareLaunchArgument(name, default_value=default, description=description)
            for name, (default, description) in ARGUMENTS.items()
        ]
        + [OpaqueFunction(function=launch_setup)]
    )
