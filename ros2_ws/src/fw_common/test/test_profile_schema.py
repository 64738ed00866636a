"""Robot profile validation: unknown keys, wrong types, ranges, flattening round trips."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from fw_common.errors import ProfileError
from fw_common.profile import (
    RobotProfile,
    build_section,
    flatten_section,
    iter_settings,
    load_profile,
    section_from_flat,
    setting,
)

REPO = Path(__file__).resolve().parents[4]
PROFILES = sorted((REPO / "ros2_ws/src/fw_bringup/config/profiles").glob("*.yaml"))


@dataclass(frozen=True)
class Inner:
    # a bounded float
    gain: float = setting(1.0, "gain", minimum=0.0, maximum=10.0)


@dataclass(frozen=True)
class Outer:
    # a nested section
    inner: Inner = setting(Inner(), "inner")
    # a choice
    mode: str = setting("a", "mode", choices=("a", "b"))
    # a list with a minimum length
    names: list[str] = setting(["x"], "names", min_length=1)
    # an int
    count: int = setting(3, "count", minimum=0)


def test_defaults_when_empty() -> None:
    assert build_section(Outer, {}) == Outer()
    assert build_section(Outer, None) == Outer()


def test_every_problem_is_reported_with_its_path() -> None:
    with pytest.raises(ProfileError) as info:
        build_section(
            Outer,
            {"inner": {"gain": 11, "gian": 1}, "mode": "c", "names": [], "count": True},
            "node",
        )
    problems = "\n".join(info.value.problems)
    assert "node.inner.gain: 11.0 is above the maximum 10.0" in problems
    assert "node.inner.gian: unknown key (did you mean 'gain'?)" in problems
    assert "node.mode: 'c' is not one of a, b" in problems
    assert "node.names: needs at least 1 items" in problems
    assert "node.count: expected int, got bool" in problems


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"count": "3"}, "expected int, got str"),
        ({"count": 2.5}, "expected int, got float"),
        ({"inner": {"gain": float("nan")}}, "must be finite"),
        ({"inner": 3}, "expected a mapping"),
        ({"names": "x"}, "expected list of str"),
        ({"names": [1]}, "names[0]: expected str"),
    ],
)
def test_wrong_types_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(ProfileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        build_section(Outer, data)


def test_int_is_accepted_for_float_and_converted() -> None:
    section = build_section(Outer, {"inner": {"gain": 2}})
    assert isinstance(section.inner.gain, float)


def test_flatten_round_trip() -> None:
    section = build_section(Outer, {"inner": {"gain": 2.5}, "names": ["a", "b"]})
    flat = flatten_section(section)
    assert flat == {"inner.gain": 2.5, "mode": "a", "names": ["a", "b"], "count": 3}
    assert section_from_flat(Outer, flat) == section


def test_cross_field_rule_reported() -> None:
    with pytest.raises(ProfileError, match=r"robot\.wheels: joints on both sides"):
        build_section(
            RobotProfile, {"robot": {"wheels": {"left_joints": ["a"], "right_joints": ["a"]}}}
        )


def test_every_setting_is_documented() -> None:
    for name, _tp, info in iter_settings(RobotProfile):
        assert info.doc.strip(), f"{name} has no documentation"


def test_every_field_has_a_comment() -> None:
    """Sections are read by people configuring robots: each field gets a comment line."""
    import inspect

    import fw_common.profile as profile_package

    modules = [getattr(profile_package, name) for name in dir(profile_package)]
    modules = [m for m in modules if inspect.ismodule(m) and m.__name__.startswith("fw_common")]
    sections = {RobotProfile} | {
        tp for module in modules for _, tp in inspect.getmembers(module) if isinstance(tp, type)
    }
    for section in sections:
        if not hasattr(section, "__dataclass_fields__"):
            continue
        source = inspect.getsource(section).splitlines()
        for i, line in enumerate(source):
            stripped = line.strip()
            if ": " in stripped and "= setting(" in stripped and not stripped.startswith("#"):
                assert source[i - 1].strip().startswith("#"), (
                    f"{section.__name__}: no comment above `{stripped}`"
                )


@pytest.mark.parametrize("path", PROFILES, ids=[p.name for p in PROFILES])
def test_shipped_profiles_are_valid(path: Path) -> None:
    profile = load_profile(path)
    assert profile.robot.id


def test_unknown_top_level_section(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("robot: {id: r}\nactuator_brige: {}\n")
    with pytest.raises(ProfileError, match="did you mean 'actuator_bridge'"):
        load_profile(path)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("robot: [unclosed\n")
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(bad)


def test_namespace_validation() -> None:
    with pytest.raises(ProfileError, match="not a valid ROS namespace"):
        build_section(RobotProfile, {"robot": {"namespace": "bad-ns"}})
    profile = build_section(RobotProfile, {"robot": {"namespace": "fleet/r1"}})
    assert profile.robot.ros_namespace == "/fleet/r1"
