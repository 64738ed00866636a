"""The steps table: one row per control step, its columns, and the control rate.

Columns (the contract the training and evaluation code read):

======================================  ========================================================
``episode_id``, ``robot_id``            where the step comes from (the store's keys)
``release_id``                          the ONNX release driving (``fw/policy/info``'s
                                        ``model_version``), ``""`` for a classic policy
``step``                                index of the row in its episode (int32)
``stamp_ns``                            the cleaned scan's stamp (robot clock, ns)
``timestamp``                           s since the episode's first step, on the 1/fps grid
``observation``, ``spec_id``            the policy's input vector (float32 ×
                                        ``spec.size``) and its spec's id
``policy_linear``, ``policy_angular``   ``fw/cmd_vel_raw`` as the loop recomputes it
``policy_reason``                       why the policy's command is a gated zero, else ``""``
``executed_linear``,                    the safety supervisor's output for that step: what
``executed_angular``                    drove the robot
``takeover``, ``takeover_source``       a person (or the simulated supervisor) drove:
                                        safety's source was ``teleop``
``expert_linear``, ``expert_angular``,  the privileged expert's label (``fw/expert/cmd_vel``)
``has_expert``                          nearest in time within one control period; NaN when
                                        none
``done``                                the last step of its episode
======================================  ========================================================
"""

from __future__ import annotations

import pyarrow as pa

from fw_common.profile import RobotProfile

__all__ = ["COLUMNS", "STATS_COLUMNS", "control_rate", "steps_schema"]


def steps_schema(observation_size: int) -> pa.Schema:
    """The Arrow schema of the steps table for an observation of ``observation_size``."""
    f32 = pa.float32()
    return pa.schema(
        [
            ("episode_id", pa.string()),
            ("robot_id", pa.string()),
            ("release_id", pa.string()),
            ("step", pa.int32()),
            ("stamp_ns", pa.int64()),
            ("timestamp", pa.float64()),
            ("observation", pa.list_(f32, observation_size)),
            ("spec_id", pa.string()),
            ("policy_linear", f32),
            ("policy_angular", f32),
            ("policy_reason", pa.string()),
            ("executed_linear", f32),
            ("executed_angular", f32),
            ("takeover", pa.bool_()),
            ("takeover_source", pa.string()),
            ("expert_linear", f32),
            ("expert_angular", f32),
            ("has_expert", pa.bool_()),
            ("done", pa.bool_()),
        ]
    )


#: Every column, in table order.
COLUMNS: tuple[str, ...] = tuple(steps_schema(1).names)

#: The numeric columns ``stats.json`` describes (``observation`` is described per feature).
STATS_COLUMNS: tuple[str, ...] = (
    "policy_linear",
    "policy_angular",
    "executed_linear",
    "executed_angular",
    "expert_linear",
    "expert_angular",
    "takeover",
    "has_expert",
    "timestamp",
)


def control_rate(profile: RobotProfile) -> float:
    """The policy's command rate (Hz), the dataset's fps: one command per scan (``trigger:
    scan``, at the lidar's rate, which the profile's ``sim.lidar.rate`` states) or the
    timer's rate."""
    if profile.policy.trigger == "timer":
        return float(profile.policy.timer_rate)
    return float(profile.sim.lidar.rate)
