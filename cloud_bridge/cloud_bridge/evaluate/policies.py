"""The policy under evaluation, from its reference: ``"classic"`` or the path of an ONNX model.

Unlike a robot, evaluation never falls back: a model that ``fw_policy`` refuses (missing,
corrupt, wrong observation spec, non-finite actions) is an error with the reason, since scoring
the fallback instead would pass the gate on the wrong policy's behalf.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from fw_common.observation import spec_by_name
from fw_common.profile import RobotProfile
from fw_policy.base import Policy
from fw_policy.registry import make_policy

__all__ = ["CLASSIC", "describe_policy", "load_policy"]

#: The reference of the profile's reactive controller.
CLASSIC = "classic"


def load_policy(policy_ref: str, profile: RobotProfile) -> Policy:
    """Build the policy ``policy_ref`` names with ``profile``'s policy settings; raises
    ``fw_policy.errors.ModelRejectedError`` (a ``ValueError``) for an unusable model."""
    spec = spec_by_name(profile.policy.observation_spec)
    if policy_ref == CLASSIC:
        return make_policy(CLASSIC, profile.policy, spec)
    config = dataclasses.replace(profile.policy, kind="onnx", model_path=str(Path(policy_ref)))
    return make_policy("onnx", config, spec)


def describe_policy(policy_ref: str, profile: RobotProfile) -> dict[str, Any]:
    """What the report says about the policy: its reference and what it describes of itself
    (a model's sha256, version and spec id), less when it was loaded (a report is a function
    of the policy and the seeds)."""
    described = load_policy(policy_ref, profile).describe()
    described.pop("loaded_at", None)
    return {"ref": policy_ref, **described}
