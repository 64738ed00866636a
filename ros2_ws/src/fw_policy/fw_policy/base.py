"""What every policy kind consumes and produces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["Action", "Policy", "PolicyInput"]


@dataclass(frozen=True)
class PolicyInput:
    """One decision's inputs, as plain values (no ROS messages).

    ``ranges`` (m) is the cleaned scan (REP-117 values) at angles ``angle_min + i *
    angle_increment`` (rad) about the robot's z axis; ``range_min`` its lower limit (m);
    ``goal_xy`` the goal in ``base_link`` (m); ``linear`` (m/s) and ``angular`` (rad/s) the
    robot's current velocity; ``observation`` the same inputs as the observation spec's vector
    (what a learned policy is fed; :class:`fw_policy.policy_step.PolicyStep` computes it).
    """

    ranges: npt.NDArray[np.float32]
    angle_min: float
    angle_increment: float
    range_min: float
    goal_xy: tuple[float, float]
    linear: float
    angular: float
    observation: npt.NDArray[np.float32]


@dataclass(frozen=True)
class Action:
    """A body twist command: forward speed (m/s) and yaw rate (rad/s)."""

    linear: float
    angular: float


class Policy(Protocol):
    """A policy kind. ``act`` raises ``ValueError`` when it cannot decide from these inputs."""

    kind: str

    def act(self, inputs: PolicyInput) -> Action: ...

    def describe(self) -> dict[str, Any]:
        """What runs, as JSON-able values (shown on fw/policy/info)."""
        ...
