"""``check_profile``: validate a robot profile and print its settings with their documentation.

The robot's body (``robot.footprint``, ``robot.laser``, ``robot.wheels``) is printed once, with
the nodes that get it as read-only ``robot.*`` parameters; their copies are not repeated.

Examples::

    ros2 run fw_common check_profile sim
    python -m fw_common.profile.cli ros2_ws/src/fw_bringup/config/profiles/sim.yaml
    check_profile my_robot.yaml --section actuator_bridge
"""

from __future__ import annotations

import argparse
import sys

from fw_common.errors import ProfileError
from fw_common.profile.body import RobotBody
from fw_common.profile.loader import find_profile, load_profile
from fw_common.profile.robot import BODY_SECTIONS, RobotProfile, is_body_copy, profile_settings
from fw_common.profile.schema import SettingInfo, iter_settings

_BODY_KEYS = frozenset(f"robot.{name}" for name, _tp, _info in iter_settings(RobotBody))

__all__ = ["bounds_text", "main"]

EXAMPLES = """\
examples:
  check_profile sim                                  # a profile shipped in fw_bringup, by name
  check_profile /etc/flywheel/robot.yaml             # a robot's own profile
  check_profile sim --section recorder               # one section
  python -m fw_common.profile.cli sim                # the same without ROS 2's ros2 run
"""


def _number(value: float) -> str:
    return f"{value:g}"


def bounds_text(info: SettingInfo) -> str:
    """What values a setting accepts, in words (empty when any value of its type does)."""
    parts = []
    if info.minimum is not None and info.maximum is not None:
        parts.append(f"from {_number(info.minimum)} to {_number(info.maximum)}")
    elif info.minimum is not None:
        parts.append(f"at least {_number(info.minimum)}")
    elif info.maximum is not None:
        parts.append(f"at most {_number(info.maximum)}")
    if info.choices is not None:
        parts.append("one of " + ", ".join(info.choices))
    if info.min_length is not None or info.max_length is not None:
        low = info.min_length if info.min_length is not None else 0
        high = info.max_length if info.max_length is not None else "any"
        parts.append(f"{low} to {high} items")
    if info.read_only:
        parts.append("fixed at start (no runtime change)")
    return "; ".join(parts)


def _parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="check_profile",
        description="Validate a robot profile and print its settings, with each one's "
        "documentation and the values it accepts.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    parser.add_argument(
        "profile", help="robot profile: a YAML path, or the name of one shipped in fw_bringup"
    )
    parser.add_argument("--section", help="only this top-level section (e.g. recorder)")
    args = parser.parse_args(argv)
    try:
        profile = load_profile(find_profile(args.profile))
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
        bounds = bounds_text(info)
        print(
            f"{name} = {values[name]!r}\n    {info.doc}{read_by}"
            + (f"\n    [{bounds}]" if bounds else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
