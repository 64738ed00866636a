"""The ``recorder`` section: which topics fw_recorder records, how, and where (fw_recorder).

Two modes, as rosbag2 offers them: ``continuous`` writes everything into bags split by size and
duration; ``snapshot`` keeps a ring buffer bounded by bytes and seconds and writes an *episode*
(the pre-window before a trigger and the post-window after it) when a trigger fires. A third,
``requested``, writes exactly the episodes a client opens and closes on ``fw/recorder/episode``
(a mission runner: one episode per driven scenario); triggers are then only noted in the open
episode. ``snapshot`` serves such requests too, between its triggered episodes. Bags are
written under ``<spool_dir>/incomplete/`` and moved to ``<spool_dir>/ready/`` when closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fw_common.profile.schema import setting

__all__ = ["RecorderConfig"]


@dataclass(frozen=True)
class RecorderConfig:
    """Serialized (raw CDR) recording of the robot's topics into rosbag2 episodes."""

    # Recording mode: 'snapshot' (ring buffer, episodes on triggers), 'continuous', or
    # 'requested' (only the episodes opened and closed on fw/recorder/episode). A robot on a
    # mission (mission.seeds) records in 'requested' mode when this says 'snapshot'.
    mode: str = setting(
        "snapshot",
        "Recording mode: 'snapshot' writes triggered episodes from a ring buffer, "
        "'continuous' writes everything, split by size and duration, 'requested' writes only "
        "the episodes requested on fw/recorder/episode.",
        choices=("snapshot", "continuous", "requested"),
        read_only=True,
    )
    # Spool folder; episodes go to incomplete/, then ready/ (what the uploader reads). Empty:
    # the robot's own persistent state folder, $XDG_STATE_HOME/flywheel/<robot_id>/spool
    # (~/.local/state/flywheel/<robot_id>/spool), so robots on one host never share a spool
    # and episodes survive a reboot.
    spool_dir: str = setting(
        "",
        "Spool folder (incomplete/, ready/, uploaded/, quarantine/); empty: "
        "$XDG_STATE_HOME/flywheel/<robot_id>/spool (default ~/.local/state/...).",
        read_only=True,
    )
    # rosbag2 storage plugin of the written bags.
    storage: str = setting(
        "mcap",
        "rosbag2 storage plugin: 'mcap' or 'sqlite3'.",
        choices=("mcap", "sqlite3"),
        read_only=True,
    )
    # Topics recorded by exact (relative or absolute) name; relative names take the namespace.
    topics: list[str] = setting(
        [
            "scan",
            "imu",
            "joint_states",
            "odom",
            "cmd_vel",
            "fw/cmd_vel_raw",
            "fw/safety/events",
            "fw/safety/status",
            "fw/policy/info",
            "fw/sim/scenario",
            "goal_pose",
            "fw/sim/ground_truth",
            "fw/sim/collisions",
            "fw/estop",
            "fw/teleop/cmd_vel",
            "fw/joint_commands",
            "fw/expert/cmd_vel",
        ],
        "Topics to record (exact names; relative names resolve in the node's namespace).",
    )
    # Regular expressions below are anchored (the whole name must match). A pattern starting with
    # '/' matches the absolute topic name; any other pattern matches the name relative to the
    # robot's namespace and never a topic of another namespace (another robot on the host).
    # Topics matching any of these are recorded too.
    # (Not empty by default: the bringup passes an empty list as a BYTE_ARRAY parameter.)
    topic_regex: list[str] = setting(
        ["fw/perception/.*"],
        "Also record topics matching one of these regular expressions (anchored; relative to "
        "the namespace unless they start with '/').",
    )
    # Topics matching any of these are never recorded (wins over the above).
    exclude_regex: list[str] = setting(
        ["rosout", "parameter_events", "fw/recorder/.*"],
        "Never record topics matching one of these regular expressions (anchored; relative to "
        "the namespace unless they start with '/').",
    )
    # Topics matching these are dropped first when free disk space runs low.
    low_priority_regex: list[str] = setting(
        ["fw/sim/ground_truth", ".*image.*", ".*points.*"],
        "Low-priority topics (anchored regular expressions, relative unless they start with "
        "'/'): the first dropped when the disk runs low.",
    )
    # How often the graph is re-scanned for new publishers and their QoS (s).
    discovery_period: float = setting(
        1.0,
        "Re-scan the graph for new topics and publishers every this long (s).",
        minimum=0.1,
        maximum=60.0,
    )
    # Subscription depth for every recorded topic (messages).
    queue_depth: int = setting(
        100,
        "Subscription history depth of every recorded topic (messages).",
        minimum=1,
        maximum=100000,
    )
    # Ring buffer bound by size (MB, 10^6 bytes).
    ring_max_mb: float = setting(
        256.0, "Snapshot ring buffer bound by size (MB).", minimum=0.01, maximum=65536.0
    )
    # Ring buffer bound by age (s): older messages are dropped.
    ring_max_seconds: float = setting(
        60.0, "Snapshot ring buffer bound by age (s).", minimum=0.1, maximum=3600.0
    )
    # Pre-trigger window written into an episode (s).
    pre_trigger_seconds: float = setting(
        10.0,
        "Seconds of data before a trigger written into its episode (s).",
        minimum=0.0,
        maximum=3600.0,
    )
    # Post-trigger window written into an episode (s); a trigger inside it extends it.
    post_trigger_seconds: float = setting(
        5.0,
        "Seconds of data after a trigger written into its episode (s).",
        minimum=0.0,
        maximum=3600.0,
    )
    # Longest episode: triggers that keep extending the post-window stop here (s).
    max_episode_seconds: float = setting(
        120.0,
        "Longest episode, however many triggers extend it (s).",
        minimum=0.1,
        maximum=86400.0,
    )
    # A trigger that repeats (same kind and name) within this long of its previous firing is
    # the same incident: it extends the open episode or, once that has closed, opens no new one
    # (s, host clock). What a flapping sensor costs is then one episode, not hundreds. Service
    # calls and sentry samples are deliberate and never merged this way.
    trigger_holdoff_seconds: float = setting(
        30.0,
        "A trigger repeating within this long of its previous firing joins the same incident "
        "instead of opening a new episode (s).",
        minimum=0.0,
        maximum=86400.0,
    )
    # Episodes not yet uploaded (incomplete/ and ready/) never take more than this (MB): no
    # episode opens beyond it, and the open one is closed (truncated) before it would cross it.
    spool_budget_mb: float = setting(
        4096.0,
        "Most disk space the episodes not yet uploaded may take (MB).",
        minimum=0.1,
        maximum=1.0e7,
    )
    # Safety events at or above this DiagnosticStatus level trigger an episode (0 OK .. 3 STALE).
    event_min_level: int = setting(
        1,
        "Safety events at or above this level trigger an episode (0=OK,1=WARN,2=ERROR).",
        minimum=0,
        maximum=3,
    )
    # A new message on fw/policy/info (a policy change) triggers an episode.
    trigger_on_policy_change: bool = setting(
        True, "Trigger an episode when the policy changes (new fw/policy/info)."
    )
    # Period of "sentry" sample episodes (s); 0 = off.
    sentry_period: float = setting(
        0.0,
        "Write a sentry sample episode every this long (s); 0 disables.",
        minimum=0.0,
        maximum=86400.0,
    )
    # Continuous mode: close the bag and start the next one at this size (MB).
    split_max_mb: float = setting(
        512.0, "Continuous mode: split bags at this size (MB).", minimum=0.01, maximum=1.0e6
    )
    # Continuous mode: close the bag and start the next one after this long (s).
    split_max_seconds: float = setting(
        300.0,
        "Continuous mode: split bags after this duration (s).",
        minimum=0.1,
        maximum=86400.0,
    )
    # Below this much free space on the spool's filesystem, low-priority topics are dropped (MB).
    min_free_mb: float = setting(
        1024.0,
        "Drop low-priority topics when free disk space is below this (MB).",
        minimum=0.0,
        maximum=1.0e7,
    )
    # Below this much free space nothing more is written (MB).
    critical_free_mb: float = setting(
        256.0,
        "Stop writing entirely when free disk space is below this (MB).",
        minimum=0.0,
        maximum=1.0e7,
    )
    # Messages waiting for the writer thread beyond this many MB are dropped and counted lost.
    max_pending_mb: float = setting(
        256.0,
        "Bound on received-but-unwritten data (MB); beyond it messages are lost.",
        minimum=0.1,
        maximum=65536.0,
    )
    # Robot id written into episode metadata; empty = the node namespace's last part, or 'robot'.
    robot_id: str = setting("", "Robot id for episode metadata (empty: from the namespace).")
    # Rate of the fw/recorder/status diagnostics (Hz).
    status_rate: float = setting(
        1.0, "Rate of fw/recorder/status diagnostics (Hz).", minimum=0.1, maximum=50.0
    )

    def __post_init__(self) -> None:
        for name in ("topic_regex", "exclude_regex", "low_priority_regex"):
            for pattern in getattr(self, name):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(
                        f"{name}: bad regular expression {pattern!r}: {exc}"
                    ) from None
        if self.critical_free_mb > self.min_free_mb:
            raise ValueError("critical_free_mb must not be above min_free_mb")
        if self.pre_trigger_seconds > self.ring_max_seconds:
            raise ValueError("pre_trigger_seconds does not fit in ring_max_seconds")
        if self.pre_trigger_seconds + self.post_trigger_seconds > self.max_episode_seconds:
            raise ValueError("pre + post trigger windows exceed max_episode_seconds")
