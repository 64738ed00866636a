"""The robot profile: one YAML document, one top-level key per node.

The same profile feeds the launch files, the Python bringup, the simulated fleet and the tests,
so a setting has exactly one place to live. The robot's body is one such setting: it is written
once, in the ``robot`` section, and the profile hands it to every node section that has a
``robot`` field (:data:`BODY_SECTIONS`).
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

from fw_common.profile.actuator_bridge import ActuatorBridgeConfig
from fw_common.profile.body import RobotBody
from fw_common.profile.cloud_agent import CloudAgentConfig
from fw_common.profile.description import RobotDescription
from fw_common.profile.mission import MissionConfig
from fw_common.profile.perception import PerceptionConfig
from fw_common.profile.policy import PolicyConfig
from fw_common.profile.recorder import RecorderConfig
from fw_common.profile.safety import SafetyConfig
from fw_common.profile.schema import ParameterValue, flatten_section, setting
from fw_common.profile.sim import SimConfig

__all__ = ["BODY_SECTIONS", "NODE_SECTIONS", "RobotProfile", "is_body_copy", "profile_settings"]


@dataclass(frozen=True)
class RobotProfile:
    """Everything one robot's nodes are configured with.

    The node sections of :data:`BODY_SECTIONS` always hold ``robot.body``: a body given to one
    of them directly is replaced by the robot section's.
    """

    # Who the robot is, where its nodes live in the graph, and its body.
    robot: RobotDescription = setting(
        RobotDescription(), "Robot identity, namespace and body (footprint, laser, wheels)."
    )
    # The simulated robot and world (ignored on real robots).
    sim: SimConfig = setting(SimConfig(), "PyBullet world, sensors and randomisation.")
    # cmd_vel -> wheel commands, and wheel odometry.
    actuator_bridge: ActuatorBridgeConfig = setting(
        ActuatorBridgeConfig(), "Skid-steer kinematics, limits, watchdog and odometry."
    )
    # The safety supervisor between command sources and cmd_vel.
    safety: SafetyConfig = setting(
        SafetyConfig(), "Safety supervisor: limits, zones, watchdogs, e-stop, tilt, geofence."
    )
    # Scan cleaning, state fusion, goal in base_link.
    perception: PerceptionConfig = setting(
        PerceptionConfig(), "Scan cleaning, wheel+IMU state fusion, goal in the robot frame."
    )
    # The driving policy (ONNX model or classic controller).
    policy: PolicyConfig = setting(PolicyConfig(), "Policy kind, model and classic controller.")
    # Serialized recording into rosbag2 episodes (ring buffer + triggers, or continuous).
    recorder: RecorderConfig = setting(
        RecorderConfig(), "Topics, modes, triggers, spool and disk policy of the recorder."
    )
    # Uploads and releases (runs only with a store configured).
    cloud_agent: CloudAgentConfig = setting(
        CloudAgentConfig(), "Episode upload, release channel, swap deferral and rollback."
    )
    # Scenarios a simulated robot drives on its own, one recorded episode each (runs only
    # with mission.seeds set).
    mission: MissionConfig = setting(
        MissionConfig(), "Scenario seeds to drive on its own, episode time limit, log."
    )

    def __post_init__(self) -> None:
        # The body lives in the robot section only; each consumer holds a copy of it so that
        # its node declares it as (read-only) parameters and its core needs no second argument.
        # Setting it here, rather than checking it, keeps dataclasses.replace(profile,
        # robot=...) consistent: the consumers follow the robot section.
        body = self.robot.body
        for name in BODY_SECTIONS:
            section = getattr(self, name)
            if section.robot != body:
                object.__setattr__(self, name, dataclasses.replace(section, robot=body))
        if self.mission.seeds:
            self._check_mission()

    def _check_mission(self) -> None:
        """A mission needs the simulator, and its episodes are the recording: the recorder
        writes exactly the episodes the mission asks for (``requested`` mode), each long
        enough for a whole mission episode."""
        if not self.robot.simulated:
            raise ValueError("mission.seeds: a mission drives simulated scenarios only")
        recorder = self.recorder
        if recorder.mode == "continuous":
            raise ValueError(
                "mission.seeds: the mission records one episode per scenario; "
                "recorder.mode continuous cannot (leave it snapshot or set requested)"
            )
        longest = self.mission.settle_time + self.mission.time_limit
        if longest > recorder.max_episode_seconds:
            raise ValueError(
                f"mission.time_limit + settle_time ({longest:g} s) exceeds "
                f"recorder.max_episode_seconds ({recorder.max_episode_seconds:g} s)"
            )
        if recorder.mode == "snapshot":
            object.__setattr__(self, "recorder", dataclasses.replace(recorder, mode="requested"))


#: Profile sections that configure a node, by section name (= the node's name).
NODE_SECTIONS: dict[str, type] = {
    "sim": SimConfig,
    "actuator_bridge": ActuatorBridgeConfig,
    "safety": SafetyConfig,
    "perception": PerceptionConfig,
    "policy": PolicyConfig,
    "recorder": RecorderConfig,
    "cloud_agent": CloudAgentConfig,
    "mission": MissionConfig,
}


def _has_body(section: type) -> bool:
    return typing.get_type_hints(section).get("robot") is RobotBody


#: Node sections that hold the robot's body (a ``robot`` field filled from the profile's
#: ``robot`` section): their nodes get it as read-only ``robot.*`` parameters.
BODY_SECTIONS: tuple[str, ...] = tuple(
    name for name, section in NODE_SECTIONS.items() if _has_body(section)
)


def is_body_copy(name: str) -> bool:
    """True for a dotted setting name that is a node section's copy of the body
    (``perception.robot.footprint.front``): set it as ``robot.footprint.front`` instead."""
    section, _, rest = name.partition(".")
    return section in BODY_SECTIONS and rest.startswith("robot.")


def profile_settings(profile: RobotProfile) -> dict[str, ParameterValue]:
    """Every setting of ``profile`` by dotted name, as a profile file writes it: the body once,
    under ``robot``, without the node sections' copies."""
    return {k: v for k, v in flatten_section(profile).items() if not is_body_copy(k)}
