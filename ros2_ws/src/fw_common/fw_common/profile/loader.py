"""Loading robot profiles from YAML files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from fw_common.errors import ProfileError
from fw_common.profile.robot import BODY_SECTIONS, RobotProfile
from fw_common.profile.schema import build_section

__all__ = ["load_profile", "parse_profile"]


def _body_written_twice(data: Any) -> list[str]:
    """A node section that describes the body again (its ``robot`` key, which the profile fills
    from the ``robot`` section) is refused: two descriptions of one body would drift apart."""
    if not isinstance(data, Mapping):
        return []
    return [
        f"{name}.robot: the robot's body is described once, in the robot section "
        f"(robot.footprint, robot.laser, robot.wheels); {name} reads it from there"
        for name in BODY_SECTIONS
        if isinstance(data.get(name), Mapping) and "robot" in data[name]
    ]


def parse_profile(data: Any, source: str = "<profile>") -> RobotProfile:
    """Validate an already-parsed YAML document as a robot profile."""
    problems = _body_written_twice(data)
    try:
        profile = build_section(RobotProfile, data)
    except ProfileError as exc:
        problems += exc.problems
    else:
        if not problems:
            return profile
    raise ProfileError([f"{source}: {p}" for p in problems]) from None


def load_profile(path: str | Path) -> RobotProfile:
    """Read and validate a robot profile YAML file.

    Raises :class:`ProfileError` with every problem (unknown keys, wrong types, values out of
    range) and the file name, or when the file is missing or is not YAML.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read robot profile: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from None
    return parse_profile(data, str(path))
