"""The robot's body is described once (the ``robot`` section) and reaches every node using it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from fw_common.errors import ProfileError
from fw_common.kinematics import SkidSteerKinematics
from fw_common.profile import (
    BODY_SECTIONS,
    FootprintBox,
    LaserMount,
    RobotBody,
    RobotProfile,
    WheelGeometry,
    build_section,
    iter_settings,
    load_profile,
    parse_profile,
)

REPO = Path(__file__).resolve().parents[4]
SIM_PROFILE = REPO / "ros2_ws/src/fw_bringup/config/profiles/sim.yaml"

BODY = {
    "footprint": {"front": 0.6, "rear": 0.4, "left": 0.3, "right": 0.25},
    "laser": {"x": 0.1, "y": -0.05, "z": 0.5, "yaw": 0.2},
    "wheels": {
        "left_joints": ["l"],
        "right_joints": ["r"],
        "radius": 0.2,
        "separation": 0.6,
        "separation_multiplier": 1.5,
    },
}


def test_the_consumers_are_the_nodes_that_use_the_body() -> None:
    assert set(BODY_SECTIONS) == {"sim", "actuator_bridge", "safety", "perception"}


def test_every_consumer_holds_the_robot_sections_body() -> None:
    profile = parse_profile({"robot": {"id": "r", **BODY}})
    body = profile.robot.body
    assert body.footprint == FootprintBox(front=0.6, rear=0.4, left=0.3, right=0.25)
    assert body.laser.pose2d == (0.1, -0.05, 0.2)
    assert body.wheels.joints == ("l", "r")
    for name in BODY_SECTIONS:
        assert getattr(profile, name).robot == body, name
    # Sections without a body are untouched.
    assert not hasattr(profile.policy, "robot")


def test_replacing_the_robot_section_moves_every_consumer() -> None:
    profile = RobotProfile()
    wheels = dataclasses.replace(profile.robot.wheels, radius=0.3)
    changed = dataclasses.replace(profile, robot=dataclasses.replace(profile.robot, wheels=wheels))
    assert changed.actuator_bridge.robot.wheels.radius == 0.3
    assert changed.sim.robot.wheels.radius == 0.3
    assert profile.actuator_bridge.robot.wheels.radius == WheelGeometry().radius


@pytest.mark.parametrize("section", ["perception", "safety", "actuator_bridge", "sim"])
def test_a_body_written_in_a_node_section_is_refused(section: str) -> None:
    data = {"robot": {"id": "r"}, section: {"robot": {"footprint": {"front": 0.7}}}}
    with pytest.raises(ProfileError) as info:
        parse_profile(data, "p.yaml")
    assert f"p.yaml: {section}.robot: the robot's body is described once" in str(info.value)


def test_the_shipped_profile_writes_no_body_number_twice() -> None:
    """The body keys appear under ``robot`` only, and their old per-node homes are gone."""
    data = yaml.safe_load(SIM_PROFILE.read_text(encoding="utf-8"))
    assert {"footprint", "laser", "wheels"} <= set(data["robot"])
    retired = {"footprint", "laser_pose", "wheel_radius", "wheel_separation", "mount_xyz"}
    for name in BODY_SECTIONS:
        section = data.get(name) or {}
        nested = {k for v in section.values() if isinstance(v, dict) for k in v}
        assert not (retired | {"robot"}) & (set(section) | nested), name


def test_the_shipped_profile_keeps_the_calibrated_husky() -> None:
    """The sim profile's body: the numbers perception, safety and the bridge used before they
    were moved to the robot section (each consumer's margin kept in its own section)."""
    profile = load_profile(SIM_PROFILE)
    body = profile.robot.body
    assert body.footprint.box() == (-0.495, 0.495, -0.335, 0.335)
    assert profile.safety.footprint_padding == 0.05
    assert body.laser.pose2d == (0.2, 0.0, 0.0)
    kinematics = SkidSteerKinematics.from_geometry(body.wheels)
    assert kinematics.wheel_radius == 0.1785
    assert kinematics.track == pytest.approx(0.5708 * 2.98)


def test_every_body_setting_is_read_only() -> None:
    """Nodes share one body: a runtime change in one node would make them disagree."""
    for name, _tp, info in iter_settings(RobotBody):
        assert info.read_only, name


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"footprint": {"front": 0.0, "rear": 0.0}}, "positive length and width"),
        ({"footprint": {"left": -0.1}}, "below the minimum"),
        ({"laser": {"yaw": 4.0}}, "above the maximum"),
        ({"laser": {"x": float("nan")}}, "must be finite"),
        ({"wheels": {"left_joints": []}}, "needs at least 1 items"),
        ({"wheels": {"left_joints": ["a", "a"], "right_joints": ["b"]}}, "must be unique"),
        ({"wheels": {"radius": 0.0}}, "below the minimum"),
    ],
)
def test_bad_bodies_are_refused_with_their_path(body: dict[str, object], message: str) -> None:
    with pytest.raises(ProfileError, match=message) as info:
        build_section(RobotProfile, {"robot": body})
    assert "robot." in str(info.value)


def test_footprint_box_and_track() -> None:
    box = FootprintBox(front=0.5, rear=0.3, left=0.2, right=0.1)
    assert box.box() == (-0.3, 0.5, -0.1, 0.2)
    assert box.box(0.05) == pytest.approx((-0.35, 0.55, -0.15, 0.25))
    wheels = WheelGeometry(radius=0.1, separation=0.5, separation_multiplier=2.0)
    assert wheels.track == 1.0
    assert LaserMount(x=1.0, y=2.0, z=3.0, yaw=0.5).pose2d == (1.0, 2.0, 0.5)
