"""Loading robot profiles from YAML files, by path or by the name of a shipped profile."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from fw_common.errors import ProfileError
from fw_common.profile.robot import BODY_SECTIONS, RobotProfile
from fw_common.profile.schema import build_section

__all__ = ["find_profile", "load_profile", "parse_profile", "shipped_profiles"]

#: The package whose ``config/profiles/`` holds the shipped profiles (``sim``...).
PROFILES_PACKAGE = "fw_bringup"


def _profile_folders() -> list[Path]:
    """Where shipped profiles live: the installed share folder when ament knows it, then the
    source tree (running from a checkout)."""
    folders = []
    try:
        from ament_index_python.packages import get_package_share_directory

        folders.append(Path(get_package_share_directory(PROFILES_PACKAGE)) / "config/profiles")
    except (ImportError, LookupError, OSError, ValueError):
        pass  # not installed, or no AMENT_PREFIX_PATH (OSError): the checkout below
    src = Path(__file__).resolve().parents[3]  # ros2_ws/src, from fw_common/fw_common/profile
    folders.append(src / PROFILES_PACKAGE / "config" / "profiles")
    return folders


def shipped_profiles() -> list[str]:
    """Names of the profiles shipped in fw_bringup (``sim``...)."""
    return sorted({p.stem for d in _profile_folders() if d.is_dir() for p in d.glob("*.yaml")})


def find_profile(name_or_path: str) -> Path:
    """A profile argument as bringup takes it: a YAML path (``*.yaml``, or any file that
    exists), or the name of a shipped profile (``sim``). Raises :class:`ProfileError` for a
    name that is not shipped, with the names that are."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists() or "/" in name_or_path:
        return path
    for folder in _profile_folders():
        candidate = folder / f"{name_or_path}.yaml"
        if candidate.is_file():
            return candidate
    names = ", ".join(shipped_profiles()) or "none found"
    raise ProfileError(
        f"{name_or_path}: no such file, and no profile of that name in {PROFILES_PACKAGE} "
        f"(shipped profiles: {names})"
    )


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
