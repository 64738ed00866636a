"""``bringup``: run one robot's nodes in one process from a robot profile (no launch tools needed).

Examples::

    # the simulated Husky: simulator + every robot node, on sim time
    ros2 run fw_bringup bringup --profile sim
    # a second simulated robot beside it, in its own namespace
    ros2 run fw_bringup bringup --profile sim --robot-id husky_2 --namespace husky_2 --seed 7
    # a real robot: no simulator
    ros2 run fw_bringup bringup --profile /etc/flywheel/robot.yaml --nodes actuator_bridge
    # override any setting
    ros2 run fw_bringup bringup --profile sim --set actuator_bridge.command_timeout=0.3
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from fw_bringup.node_parameters import default_profile_path
from fw_bringup.nodes import NODES
from fw_common.errors import ProfileError
from fw_common.profile import (
    RobotProfile,
    is_body_copy,
    load_profile,
    parse_profile,
    profile_settings,
)
from fw_common.spin import EXECUTOR_KINDS, run_node

__all__ = ["load_with_overrides", "main"]


def _resolve_profile(arg: str) -> Path:
    path = Path(arg)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return path
    return default_profile_path(arg)


def load_with_overrides(path: Path, overrides: list[str]) -> RobotProfile:
    """Load a profile and apply ``section.key=value`` overrides (values parsed as YAML).

    Raises :class:`ProfileError` listing every problem at once, as for a YAML file: malformed
    items, and the overridden profile's unknown keys (with suggestions), types and ranges.
    """
    profile = load_profile(path)
    if not overrides:
        return profile
    nested: dict[str, Any] = {}
    problems: list[str] = []

    def put(dotted: str, value: Any) -> None:
        node = nested
        *parents, leaf = dotted.split(".")
        for i, part in enumerate(parents):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                setting = ".".join(parents[: i + 1])
                problems.append(f"--set {dotted}: {setting} is a setting, not a section")
                return
            node = child
        node[leaf] = value

    for dotted, value in profile_settings(profile).items():
        put(dotted, value)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            problems.append(f"--set {item!r}: expected section.key=value")
            continue
        if is_body_copy(key):
            body_key = key.partition(".")[2]
            problems.append(f"--set {key}: the robot's body is set once, as --set {body_key}")
            continue
        try:
            put(key, yaml.safe_load(text))
        except yaml.YAMLError as exc:
            problems.append(f"--set {key}: the value is not YAML: {exc}")
    # Unknown keys, types and bounds: the same checks, messages and suggestions as the file's.
    try:
        result = parse_profile(nested, f"{path} with --set")
    except ProfileError as exc:
        raise ProfileError(problems + exc.problems) from None
    if problems:
        raise ProfileError(problems)
    return result


def main(argv: list[str] | None = None) -> int:
    from rclpy.utilities import remove_ros_args

    argv = remove_ros_args(sys.argv if argv is None else argv)[1:]
    parser = argparse.ArgumentParser(
        description="Run one robot's nodes in one process from its robot profile.",
        epilog=__doc__.split("Examples::", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--profile",
        default="sim",
        help="robot profile: a YAML path, or the name of one shipped in fw_bringup (default sim)",
    )
    parser.add_argument(
        "--nodes",
        help=f"comma-separated nodes to run (default: all of {','.join(NODES)} "
        "for a simulated robot, all but sim otherwise; cloud_agent only with "
        "cloud_agent.store_url set)",
    )
    parser.add_argument("--namespace", help="override robot.namespace")
    parser.add_argument("--robot-id", help="override robot.id")
    parser.add_argument("--seed", type=int, help="override sim.seed")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override any profile setting (repeatable)",
    )
    parser.add_argument("--executor", default="auto", choices=EXECUTOR_KINDS)
    args = parser.parse_args(argv)

    overrides = list(args.set)
    if args.namespace is not None:
        overrides.append(f"robot.namespace={args.namespace}")
    if args.robot_id is not None:
        overrides.append(f"robot.id={args.robot_id}")
    if args.seed is not None:
        overrides.append(f"sim.seed={args.seed}")
    try:
        profile = load_with_overrides(_resolve_profile(args.profile), overrides)
    except ProfileError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.nodes:
        names = [n.strip() for n in args.nodes.split(",") if n.strip()]
    else:
        names = [
            n
            for n, s in NODES.items()
            if (profile.robot.simulated or not s.is_simulator) and s.enabled(profile)
        ]

    from fw_bringup.robot import create_robot_nodes

    return run_node(lambda: create_robot_nodes(profile, names), executor_kind=args.executor)


if __name__ == "__main__":
    sys.exit(main())
