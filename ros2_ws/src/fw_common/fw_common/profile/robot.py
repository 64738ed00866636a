"""The robot profile: one YAML document, one top-level key per node.

The same profile feeds the launch files, the Python bringup, the simulated fleet and the tests,
so a setting has exactly one place to live.
"""

from __future__ import annotations

from dataclasses import dataclass

from fw_common.profile.actuator_bridge import ActuatorBridgeConfig
from fw_common.profile.cloud_agent import CloudAgentConfig
from fw_common.profile.identity import RobotIdentity
from fw_common.profile.perception import PerceptionConfig
from fw_common.profile.policy import PolicyConfig
from fw_common.profile.recorder import RecorderConfig
from fw_common.profile.safety import SafetyConfig
from fw_common.profile.schema import setting
from fw_common.profile.sim import SimConfig

__all__ = ["NODE_SECTIONS", "RobotProfile"]


@dataclass(frozen=True)
class RobotProfile:
    """Everything one robot's nodes are configured with."""

    # Who the robot is and where its nodes live in the graph.
    robot: RobotIdentity = setting(RobotIdentity(), "Robot identity and namespace.")
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


#: Profile sections that configure a node, by section name (= the node's name).
NODE_SECTIONS: dict[str, type] = {
    "sim": SimConfig,
    "actuator_bridge": ActuatorBridgeConfig,
    "safety": SafetyConfig,
    "perception": PerceptionConfig,
    "policy": PolicyConfig,
    "recorder": RecorderConfig,
    "cloud_agent": CloudAgentConfig,
}
