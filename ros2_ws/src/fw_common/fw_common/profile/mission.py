"""The ``mission`` section: a simulated robot that drives a list of scenarios on its own
(fw_bringup's mission runner).

For each seed, in order, once: the simulator builds the scenario, the robot's odometry restarts
at its start, the recorder opens an episode, the robot gets the scenario's goal on
``goal_pose``, and the runner watches ground truth until the robot rests at the goal or the
time limit passes; then the episode is closed and one JSON line is appended to ``log_path``.
After the last seed the runner appends ``{"done": true, "episodes": N, "recorded": M}`` (M:
episodes with a recording) and idles. The node runs only when ``seeds`` is not empty
(simulated robots only: it needs the simulator's ground truth and services).
"""

from __future__ import annotations

from dataclasses import dataclass

from fw_common.profile.schema import setting

__all__ = ["MissionConfig"]


@dataclass(frozen=True)
class MissionConfig:
    """Scenario seeds to drive, once each, and how each episode is judged and logged."""

    # Robot id written into the mission log; empty: the profile's robot.id.
    robot_id: str = setting("", "Robot id in the mission log; empty: robot.id.", read_only=True)
    # Scenario seeds this robot drives, once each, in order; empty: no mission (the robot
    # waits for goals on goal_pose).
    seeds: list[int] = setting(
        [], "Scenario seeds to drive once each, in order; empty: no mission.", minimum=0,
        max_length=100000, read_only=True,
    )  # fmt: skip
    # Sim seconds an episode may take before it counts as failed (s, sim time).
    time_limit: float = setting(
        40.0, "Sim seconds per episode before it fails (s).", minimum=1.0, maximum=3600.0,
        read_only=True,
    )  # fmt: skip
    # JSON lines, one per finished episode, then {"done": true, "episodes": N, ...}. Empty: no log
    # (the outcome is still logged by the node).
    log_path: str = setting(
        "", "Mission log (JSON lines, one per episode); empty: none.", read_only=True
    )
    # Wait until the cloud agent reports this release active (fw/cloud_agent/status) before
    # the first episode; empty: start at once.
    start_after_release: str = setting(
        "", "Start once the cloud agent runs this release; empty: at once.", read_only=True
    )
    # After the scenario starts and odometry restarts, the robot stands this long before the
    # episode opens, so it rests on its wheels when its goal is computed (s, sim time). With 0
    # the goal still waits for a perception state stamped after the restart.
    settle_time: float = setting(
        1.0, "Standing time before each episode (s, sim time).", minimum=0.0, maximum=60.0,
        read_only=True,
    )  # fmt: skip
    # Longest wait for the robot's nodes (simulator, perception, recorder, their services) to
    # come up before the mission gives up (s, wall time). The wait for start_after_release
    # has no limit: the release may still be in training.
    startup_timeout: float = setting(
        120.0, "Longest wait for the robot's nodes to come up (s, wall).", minimum=1.0,
        maximum=86400.0, read_only=True,
    )  # fmt: skip
    # Longest wait for one service answer (the simulator builds a scenario, the recorder
    # opens a bag) (s, wall time).
    service_timeout: float = setting(
        20.0, "Longest wait for a service answer (s, wall).", minimum=0.5, maximum=600.0,
        read_only=True,
    )  # fmt: skip
    # Spacing of the ground-truth path written into each log line (s, sim time).
    path_period: float = setting(
        0.5, "Spacing of the logged path samples (s, sim time).", minimum=0.05, maximum=10.0,
        read_only=True,
    )  # fmt: skip

    def __post_init__(self) -> None:
        seen: set[int] = set()
        for seed in self.seeds:
            if seed in seen:
                raise ValueError(f"seeds: {seed} appears twice (each seed is driven once)")
            seen.add(seed)
