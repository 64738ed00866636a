"""``check_profile``: validate a robot profile and print its settings with their documentation.

Examples::

    ros2 run fw_common check_profile ros2_ws/src/fw_bringup/config/profiles/sim.yaml
    check_profile my_robot.yaml --section actuator_bridge
"""

from __future__ import annotations

import argparse
import sys

from fw_common.errors import ProfileError
from fw_common.profile.loader import load_profile
from fw_common.profile.robot import RobotProfile
from fw_common.profile.schema import flatten_section, iter_settings


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
    values = flatten_section(profile)
    for name, _tp, info in iter_settings(RobotProfile):
        if args.section and not name.startswith(args.section + "."):
            continue
        print(f"{name} = {values[name]!r}\n    {info.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
