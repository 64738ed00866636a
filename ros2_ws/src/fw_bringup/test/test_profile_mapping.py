"""The profile → node parameters mapping and the bringup's --set overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from fw_bringup.main import load_with_overrides
from fw_bringup.node_parameters import (
    clock_remappings,
    default_profile_path,
    node_parameters,
    uses_sim_time,
)
from fw_common.errors import ProfileError
from fw_common.profile import (
    BODY_SECTIONS,
    NODE_SECTIONS,
    build_section,
    flatten_section,
    load_profile,
)
from fw_common.profile.robot import RobotProfile

SIM = default_profile_path("sim")


def test_shipped_sim_profile_is_found_and_valid() -> None:
    assert SIM.is_file()
    assert load_profile(SIM).robot.simulated


def test_every_node_section_maps_to_parameters() -> None:
    profile = load_profile(SIM)
    for node in NODE_SECTIONS:
        params = node_parameters(profile, node)
        assert params, node
        assert not any(k.startswith(".") or k.endswith(".") for k in params), node
    with pytest.raises(KeyError, match="no profile section"):
        node_parameters(profile, "no_such_node")


def test_robot_id_setting_defaults_to_the_profile_robot_id() -> None:
    profile = build_section(RobotProfile, {"robot": {"id": "husky_7"}})
    for node in NODE_SECTIONS:
        params = node_parameters(profile, node)
        if "robot_id" in params:
            assert params["robot_id"] == "husky_7"


def test_sim_time_and_clock_remapping() -> None:
    sim = build_section(RobotProfile, {"robot": {"simulated": True, "namespace": "husky_2"}})
    assert uses_sim_time(sim, "actuator_bridge") and not uses_sim_time(sim, "sim")
    assert clock_remappings(sim) == [("/clock", "/husky_2/clock")]
    root = build_section(RobotProfile, {"robot": {"simulated": True}})
    assert clock_remappings(root) == []
    real = build_section(RobotProfile, {"robot": {"namespace": "r1"}})
    assert not uses_sim_time(real, "actuator_bridge") and clock_remappings(real) == []


def test_set_overrides_are_parsed_as_yaml_and_validated(tmp_path: Path) -> None:
    profile = load_with_overrides(
        SIM, ["actuator_bridge.command_timeout=0.3", "robot.namespace=r2", "sim.seed=4"]
    )
    assert profile.actuator_bridge.command_timeout == 0.3
    assert profile.robot.ros_namespace == "/r2"
    assert profile.sim.seed == 4
    with pytest.raises(ProfileError, match=r"unknown key \(did you mean 'command_timeout'\?\)"):
        load_with_overrides(SIM, ["actuator_bridge.command_timout=0.3"])
    with pytest.raises(ProfileError, match=r"expected section\.key=value"):
        load_with_overrides(SIM, ["actuator_bridge.command_timeout"])
    with pytest.raises(ProfileError, match="below the minimum"):
        load_with_overrides(SIM, ["actuator_bridge.command_timeout=-1"])


def test_the_body_reaches_its_nodes_as_robot_parameters() -> None:
    """One mapping: the robot section's body becomes the same ``robot.*`` parameters in every
    node that uses it, and in no other."""
    profile = load_with_overrides(SIM, ["robot.laser.x=0.25", "robot.wheels.radius=0.2"])
    body = {f"robot.{k}": v for k, v in flatten_section(profile.robot.body).items()}
    assert body["robot.laser.x"] == 0.25 and body["robot.wheels.radius"] == 0.2
    for node in NODE_SECTIONS:
        params = node_parameters(profile, node)
        robot_params = {k: v for k, v in params.items() if k.startswith("robot.")}
        assert robot_params == (body if node in BODY_SECTIONS else {}), node


def test_a_nodes_copy_of_the_body_cannot_be_set_on_its_own() -> None:
    with pytest.raises(ProfileError, match=r"set once, as --set robot\.laser\.x"):
        load_with_overrides(SIM, ["perception.robot.laser.x=0.3"])


def test_the_cloud_agent_uploads_from_the_recorders_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty spool everywhere means the recorder's default folder, never the agent's
    working directory."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    profile = load_profile(default_profile_path("sim"))
    assert profile.recorder.spool_dir == "" and profile.cloud_agent.spool_dir == ""
    agent = node_parameters(profile, "cloud_agent")
    assert agent["spool_dir"] == str(tmp_path / "flywheel" / profile.robot.id / "spool")
    assert node_parameters(profile, "recorder")["spool_dir"] == ""  # resolved by the recorder
    chosen = load_with_overrides(
        default_profile_path("sim"), [f"recorder.spool_dir={tmp_path / 'mine'}"]
    )
    assert node_parameters(chosen, "cloud_agent")["spool_dir"] == str(tmp_path / "mine")
