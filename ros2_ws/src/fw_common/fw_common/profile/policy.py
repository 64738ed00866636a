"""The ``policy`` section: which policy drives, its model and the classic controller."""

from __future__ import annotations

from dataclasses import dataclass

from fw_common.profile.schema import setting

__all__ = ["ClassicPolicyConfig", "PolicyConfig"]


@dataclass(frozen=True)
class ClassicPolicyConfig:
    """Reactive follow-the-gap toward the goal (no learned model). Defaults fit the Husky."""

    # Top forward speed (m/s).
    max_linear: float = setting(0.8, "Top forward speed (m/s).", minimum=0.0, maximum=5.0)
    # Top yaw rate (rad/s).
    max_angular: float = setting(1.0, "Top yaw rate (rad/s).", minimum=0.0, maximum=10.0)
    # Half the robot's width (m): a heading is free when a corridor this wide plus the margin is.
    half_width: float = setting(0.34, "Half the robot width (m).", minimum=0.01, maximum=5.0)
    # Distance from base_link to the front bumper (m).
    front_extent: float = setting(0.5, "base_link to front bumper (m).", minimum=0.0, maximum=5.0)
    # Extra clearance kept on both sides of the corridor (m).
    margin: float = setting(0.25, "Side clearance margin (m).", minimum=0.0, maximum=5.0)
    # Free corridor length wanted ahead before a heading counts as open (m).
    lookahead: float = setting(
        2.0, "Corridor length a heading needs (m).", minimum=0.1, maximum=50.0
    )
    # Candidate headings, evenly spread over a full turn.
    headings: int = setting(72, "Candidate headings over a full turn.", minimum=8, maximum=720)
    # Heading error beyond which the robot turns in place (rad).
    turn_in_place: float = setting(
        0.7, "Heading error above which to turn in place (rad).", minimum=0.0, maximum=3.2
    )
    # Yaw rate per rad of heading error (1/s).
    heading_gain: float = setting(
        1.5, "Yaw rate per heading error (1/s).", minimum=0.0, maximum=20.0
    )
    # Forward speed scales down linearly when the front corridor is shorter than this (m).
    slow_distance: float = setting(
        1.5, "Slow down when the way ahead is shorter than this (m).", minimum=0.0, maximum=50.0
    )
    # Stops driving forward when the front corridor is shorter than this (m).
    stop_distance: float = setting(
        0.25, "No forward motion when the way ahead is shorter (m).", minimum=0.0, maximum=10.0
    )


@dataclass(frozen=True)
class PolicyConfig:
    """Turns perception outputs into velocity commands with a policy chosen by name."""

    # Policy kind: 'onnx' runs model_path, 'classic' the reactive controller.
    kind: str = setting("classic", "Policy kind.", choices=("onnx", "classic"))
    # What runs when the configured kind cannot (no usable model): 'classic' or 'stop'.
    fallback_kind: str = setting(
        "classic", "Kind used when the configured one cannot run.", choices=("classic", "stop")
    )
    # ONNX model file; setting it at run time validates the model, then swaps it in.
    model_path: str = setting("", "ONNX model file (validated, then hot-swapped).")
    # Observation spec by name (fw_common.observation.SPECS); a model must carry its id.
    observation_spec: str = setting(
        "nav_scan_goal", "Observation spec name (the model must carry its id).", read_only=True
    )
    # onnxruntime intra-op threads; 1 is fastest for small MLPs and leaves cores to the rest.
    intra_op_threads: int = setting(1, "onnxruntime intra-op threads.", minimum=1, maximum=64)
    # What triggers a command: each new cleaned scan, or a timer at timer_rate.
    trigger: str = setting("scan", "Command trigger.", choices=("scan", "timer"), read_only=True)
    # Command rate in timer mode (Hz).
    timer_rate: float = setting(
        10.0, "Timer-mode command rate (Hz).", minimum=0.1, maximum=1000.0, read_only=True
    )
    # State or goal older than this (relative to the scan) stops the robot (s).
    input_timeout: float = setting(
        0.5, "State/goal/scan older than this → zero command (s).", minimum=0.01, maximum=10.0
    )
    # Within this distance of the goal the command is zero (m).
    goal_tolerance: float = setting(0.3, "Goal reached radius (m).", minimum=0.01, maximum=10.0)
    # Output topic; fw_safety reads fw/cmd_vel_raw. Only a stack without fw_safety (tests)
    # points it at cmd_vel.
    output_topic: str = setting("fw/cmd_vel_raw", "Command output topic.", read_only=True)
    # Configure and activate at start, so no lifecycle manager is needed.
    autostart: bool = setting(True, "Configure + activate on start.", read_only=True)
    # The classic controller.
    classic: ClassicPolicyConfig = setting(ClassicPolicyConfig(), "Classic controller.")
