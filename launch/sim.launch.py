"""The simulated robot: the PyBullet simulator (fw_sim) plus robot.launch.py on sim time.

ros2 launch fw_bringup sim.launch.py
ros2 launch fw_bringup sim.launch.py seed:=7 gui:=true
ros2 launch fw_bringup sim.launch.py namespace:=husky_2 seed:=3
ros2 launch launch/sim.launch.py single_process:=true     # from a source checkout
"""

from __future__ import annotations

import os

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
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
        "ROS namespace of the simulator and every robot node; empty takes robot.namespace from "
        "the profile, '/' is the root namespace.",
    ),
    "seed": ("", "Scenario and noise seed (an integer); empty takes sim.seed from the profile."),
    "gui": ("false", "true: show the PyBullet window; false: headless."),
    "nodes": (
        "",
        "Robot nodes to start beside the simulator, comma-separated (names from "
        "fw_bringup.nodes.NODES); empty starts every robot node.",
    ),
    "single_process": (
        "false",
        "true: run the robot's nodes in one process through the Python bringup (the simulator "
        "keeps its own process).",
    ),
    "overrides": (
        "",
        "Profile settings to override, space-separated section.key=value (values are YAML), "
        "as `bringup --set` takes them; they apply to the simulator and the robot nodes.",
    ),
}


def _arg(context: LaunchContext, name: str) -> str:
    return LaunchConfiguration(name).perform(context)


def launch_setup(context: LaunchContext) -> list[Node]:
    """The simulator node, configured from the profile's ``sim`` section."""
    from fw_bringup.launch_plan import plan_robot, plan_sim

    # Check the robot's part too before anything starts: launch does not stop processes it has
    # already started when a later action fails, so a bad argument would orphan the simulator.
    plan_robot(
        _arg(context, "profile"),
        namespace=_arg(context, "namespace"),
        use_sim_time="true",
        nodes=_arg(context, "nodes"),
        single_process=_arg(context, "single_process"),
        overrides=_arg(context, "overrides"),
    )
    plan = plan_sim(
        _arg(context, "profile"),
        namespace=_arg(context, "namespace"),
        seed=_arg(context, "seed"),
        gui=_arg(context, "gui"),
        overrides=_arg(context, "overrides"),
    )
    return [
        Node(
            package=process.package,
            executable=process.executable,
            name=process.name,
            namespace=process.namespace,
            parameters=[process.parameters],
            remappings=process.remappings or None,
            output="screen",
        )
        for process in plan.processes
    ]


#: robot.launch.py beside this file, as a plain path rather than a ThisLaunchFileDir()
#: substitution: launch can only open an include without a context (what ``--show-args`` and
#: ``get_launch_arguments`` do) when its path needs no substitution, and only then lists the
#: included file's arguments.
ROBOT_LAUNCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "robot.launch.py")


def generate_launch_description() -> LaunchDescription:
    robot = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(ROBOT_LAUNCH),
        launch_arguments={
            "profile": LaunchConfiguration("profile"),
            "namespace": LaunchConfiguration("namespace"),
            "use_sim_time": "true",
            "nodes": LaunchConfiguration("nodes"),
            "single_process": LaunchConfiguration("single_process"),
            "overrides": LaunchConfiguration("overrides"),
        }.items(),
    )
    return LaunchDescription(
        [
            DeclareLaunchArgument(name, default_value=default, description=description)
            for name, (default, description) in ARGUMENTS.items()
        ]
        + [OpaqueFunction(function=launch_setup), robot]
    )
