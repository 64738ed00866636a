"""The robot's nodes, configured from its robot profile.

One process per node (``launch_ros`` ``Node``), or all of them in one process through the Python
bringup (``single_process:=true``). The profile is read when the launch runs, with the mapping in
``fw_bringup.launch_plan`` (the same one the Python bringup uses), so a node added to
``fw_bringup.nodes.NODES`` joins this file without an edit here.

    ros2 launch fw_bringup robot.launch.py profile:=/etc/flywheel/robot.yaml
    ros2 launch fw_bringup robot.launch.py namespace:=husky_2 nodes:=actuator_bridge
    ros2 launch fw_bringup robot.launch.py single_process:=true
    ros2 launch fw_bringup robot.launch.py overrides:="actuator_bridge.command_timeout=0.3"
"""

from __future__ import annotations

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = {
    "profile": (
        PathJoinSubstitution([FindPackageShare("fw_bringup"), "config", "profiles", "sim.yaml"]),
        "Robot profile: a YAML path, or the name of a profile shipped in fw_bringup "
        "(share/fw_bringup/config/profiles/<name>.yaml).",
    ),
    "namespace": (
        "",
        "ROS namespace of every node; empty takes robot.namespace from the profile, "
        "'/' is the root namespace.",
    ),
    "use_sim_time": (
        "",
        "true: nodes run on /clock (a simulated robot); empty takes robot.simulated from the "
        "profile.",
    ),
    "nodes": (
        "",
        "Nodes to start, comma-separated (names from fw_bringup.nodes.NODES); empty starts "
        "every node of the robot but the simulator.",
    ),
    "single_process": (
        "false",
        "true: run the selected nodes in one process through the Python bringup "
        "(fw_bringup bringup) instead of one process per node.",
    ),
    "overrides": (
        "",
        "Profile settings to override, space-separated section.key=value (values are YAML), "
        "as `bringup --set` takes them.",
    ),
}


def _arg(context: LaunchContext, name: str) -> str:
    return LaunchConfiguration(name).perform(context)


def launch_setup(context: LaunchContext) -> list[Node]:
    """Read the profile now that the arguments are known, and make one action per process."""
    from fw_bringup.launch_plan import plan_robot

    # ProfileError / LaunchArgumentError messages are written for the operator; launch prints
    # them as "Caught exception in launch: <message>" and exits non-zero.
    plan = plan_robot(
        _arg(context, "profile"),
        namespace=_arg(context, "namespace"),
        use_sim_time=_arg(context, "use_sim_time"),
        nodes=_arg(context, "nodes"),
        single_process=_arg(context, "single_process"),
        overrides=_arg(context, "overrides"),
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
        for process in plan.processes
    ]


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription(
        [
            DeclareLaunchArgument(name, default_value=default, description=description)
            for name, (default, description) in ARGUMENTS.items()
        ]
        + [OpaqueFunction(function=launch_setup)]
    )
