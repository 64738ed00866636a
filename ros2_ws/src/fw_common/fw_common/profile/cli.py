"""``check_profile``: validate a robot profile and print its settings with their documentation.

The robot's body (``robot.footprint``, ``robot.laser``, ``robot.wheels``) is printed once, with
the nodes that get it as read-only ``robot.*`` parameters; their copies are not repeated.

Examples::

    ros2 run fw_common check_profile ros2_ws/src/fw_bringup/config/profiles/sim.yaml
    check_profile my_robot.yaml --section actuator_bridge
"""

from __future__ import annotations

import argparse
import sys

from fw_common.errors import ProfileError
from fw_common.profile.body import RobotBody
from fw_common.profile.loader import load_profile
from fw_common.profile.robot import BODY_SECTIONS, RobotProfile, is_body_copy, profile_settings
from fw_common.profile.schema import iter_settings

_BODY_KEYS = frozenset(f"robot.{name}" for name, _tp, _info in iter_settings(RobotBody))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", help="robot profile YAML file")
    parser.add_argument("--section", help="only this top-level section")
    args = parser.parse_args(argv)
    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        print(exc, file=sys.stderr)
        return 1
    values = profile_settings(profile)
    readers = ", ".join(BODY_SECTIONS)
    for name, _tp, info in iter_settings(RobotProfile):
        if args.section and not name.startswith(args.section + "."):
            continue
        if is_body_copy(name):
            continue
        read_by = f" Read-only parameter of: {readers}." if name in _BODY_KEYS else ""
        print(f"{name} = {values[name]!r}\n    {info.doc}{read_by}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
