"""The robot's nodes: which profile section configures which executable and class."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

__all__ = ["NODES", "ROBOT_NODES", "NodeSpec"]


@dataclass(frozen=True)
class NodeSpec:
    """One node of the robot stack."""

    #: Node name; also the robot profile section that configures it.
    name: str
    #: ROS package and console-script executable (what ``ros2 run`` and launch start).
    package: str
    executable: str
    #: ``module:Class`` of the node, for composing several nodes in one process.
    node_class: str
    #: True for the simulator, which is the clock source and never runs on sim time itself.
    is_simulator: bool = False
    #: A ``section.setting`` that must be set (non-empty) for the node to start by default:
    #: an optional node stays out of a robot whose profile does not configure it.
    enabled_by: str = ""

    def enabled(self, profile: Any) -> bool:
        """Whether the node starts by default with ``profile`` (a RobotProfile)."""
        if not self.enabled_by:
            return True
        section, _, key = self.enabled_by.partition(".")
        return bool(getattr(getattr(profile, section), key))

    def load_class(self) -> Any:
        """Import the node class (imports happen only for nodes actually started)."""
        module, _, cls = self.node_class.partition(":")
        return getattr(importlib.import_module(module), cls)


#: Every node, in start order: drivers (or the simulator) first, then consumers.
NODES: dict[str, NodeSpec] = {
    spec.name: spec
    for spec in (
        NodeSpec("sim", "fw_sim", "sim_node", "fw_sim.sim_node:SimNode", is_simulator=True),
        NodeSpec(
            "perception",
            "fw_perception",
            "perception",
            "fw_perception.perception_node:PerceptionNode",
        ),
        NodeSpec("policy", "fw_policy", "policy", "fw_policy.policy_node:PolicyNode"),
        NodeSpec("safety", "fw_safety", "safety", "fw_safety.safety_node:SafetyNode"),
        NodeSpec(
            "actuator_bridge",
            "fw_actuator_bridge",
            "actuator_bridge",
            "fw_actuator_bridge.bridge_node:ActuatorBridgeNode",
        ),
        NodeSpec("recorder", "fw_recorder", "recorder", "fw_recorder.recorder_node:RecorderNode"),
        NodeSpec(
            "cloud_agent",
            "fw_cloud_agent",
            "cloud_agent",
            "fw_cloud_agent.agent_node:CloudAgentNode",
            enabled_by="cloud_agent.store_url",
        ),
        NodeSpec(
            "mission",
            "fw_bringup",
            "mission",
            "fw_bringup.mission_node:MissionNode",
            enabled_by="mission.seeds",
        ),
    )
}

#: The nodes that run on a robot (real or simulated), i.e. everything but the simulator.
ROBOT_NODES: tuple[str, ...] = tuple(n for n, s in NODES.items() if not s.is_simulator)
