"""The robot profile: schema, validation and loading.

Import sections from here rather than from their modules.
"""

from fw_common.profile.actuator_bridge import ActuatorBridgeConfig
from fw_common.profile.body import FootprintBox, LaserMount, RobotBody, WheelGeometry
from fw_common.profile.cloud_agent import CloudAgentConfig
from fw_common.profile.description import RobotDescription
from fw_common.profile.identity import RobotIdentity
from fw_common.profile.loader import load_profile, parse_profile
from fw_common.profile.mission import MissionConfig
from fw_common.profile.perception import PerceptionConfig
from fw_common.profile.policy import ClassicPolicyConfig, PolicyConfig
from fw_common.profile.recorder import RecorderConfig
from fw_common.profile.robot import (
    BODY_SECTIONS,
    NODE_SECTIONS,
    RobotProfile,
    is_body_copy,
    profile_settings,
)
from fw_common.profile.safety import SafetyConfig
from fw_common.profile.schema import (
    ParameterValue,
    SettingInfo,
    build_section,
    flatten_section,
    iter_settings,
    section_from_flat,
    setting,
)
from fw_common.profile.sim import SimConfig

__all__ = [
    "BODY_SECTIONS",
    "NODE_SECTIONS",
    "ActuatorBridgeConfig",
    "ClassicPolicyConfig",
    "CloudAgentConfig",
    "FootprintBox",
    "LaserMount",
    "MissionConfig",
    "ParameterValue",
    "PerceptionConfig",
    "PolicyConfig",
    "RecorderConfig",
    "RobotBody",
    "RobotDescription",
    "RobotIdentity",
    "RobotProfile",
    "SafetyConfig",
    "SettingInfo",
    "SimConfig",
    "WheelGeometry",
    "build_section",
    "flatten_section",
    "is_body_copy",
    "iter_settings",
    "load_profile",
    "parse_profile",
    "profile_settings",
    "section_from_flat",
    "setting",
]
