"""The ``cloud_agent`` section: the robot's side of the cloud bridge (fw_cloud_agent).

The agent uploads finished episodes and follows its fleet's release channel: it verifies each
release against the root metadata provisioned here (TUF), swaps the policy's model when the
robot is idle, and rolls back on its own when safety intervenes more than with the release
before. It runs only when ``store_url`` is set.
"""

from __future__ import annotations

from dataclasses import dataclass

from fw_common.profile.schema import setting

__all__ = ["CloudAgentConfig"]


@dataclass(frozen=True)
class CloudAgentConfig:
    """Uploads, release channel, swap deferral and automatic rollback."""

    # Robot id in the store (robots/<id>/, episodes/<id>/); empty: robot.id.
    robot_id: str = setting("", "Robot id in the store; empty: the profile's robot.id.")
    # Observation spec models must be built for; empty: policy.observation_spec.
    observation_spec: str = setting(
        "", "Observation spec of this robot; empty: policy.observation_spec.", read_only=True
    )
    # Object store: a folder or s3://bucket/prefix. Empty: the agent does not run.
    store_url: str = setting(
        "", "Object store URL (folder or s3://bucket/prefix); empty: no agent.", read_only=True
    )
    # S3 endpoint (MinIO, a local S3 server); empty: AWS (or AWS_ENDPOINT_URL_S3).
    store_endpoint_url: str = setting("", "S3 endpoint URL; empty: AWS.", read_only=True)
    # S3 region; empty: boto3's default chain.
    store_region: str = setting("", "S3 region; empty: boto3's default.", read_only=True)
    # Prefix of the TUF repository in the store.
    tuf_prefix: str = setting("tuf", "TUF repository prefix in the store.", read_only=True)
    # The root metadata provisioned on this robot: the only thing it trusts.
    trusted_root: str = setting(
        "/etc/flywheel/root.json",
        "Provisioned TUF root metadata (the only trust anchor).",
        read_only=True,
    )
    # Trusted metadata, staging and verified releases live here; the agent's state file too.
    cache_dir: str = setting(
        "/tmp/fw_cloud_agent", "Trusted metadata, staging, releases, state.", read_only=True
    )
    # Fleet whose channel the robot follows.
    fleet: str = setting("default", "Fleet name.", read_only=True)
    # Channel of the fleet: 'canary' gets releases first, 'stable' after promotion.
    channel: str = setting(
        "stable", "Release channel.", choices=("canary", "stable"), read_only=True
    )
    # How often the channel is checked and the status object written (s).
    poll_period: float = setting(30.0, "Channel poll period (s).", minimum=0.5, maximum=86400.0)
    # Longest a swap waits while an episode is recorded or a goal is active (s).
    defer_timeout: float = setting(
        600.0, "Longest swap deferral while busy (s).", minimum=0.0, maximum=86400.0
    )
    # A goal farther than this (m) in base_link counts as active (the policy's goal tolerance).
    goal_tolerance: float = setting(
        0.3, "Goal farther than this is active (m).", minimum=0.01, maximum=10.0
    )
    # A goal not refreshed for this long (s) is no longer active.
    goal_timeout: float = setting(
        1.0, "Goal older than this is not active (s).", minimum=0.05, maximum=60.0
    )
    # Rollback: interventions are counted in a sliding window of this length (s).
    rollback_window: float = setting(
        60.0, "Intervention-rate window after a swap (s).", minimum=1.0, maximum=86400.0
    )
    # Rollback: interventions the window must hold before its rate is trusted.
    rollback_min_events: int = setting(
        5, "Interventions needed before a rollback decision.", minimum=1, maximum=100000
    )
    # Rollback: rate above the previous release's by more than this rolls back (per minute).
    rollback_margin: float = setting(
        2.0,
        "Rate excess over the previous release that rolls back (1/min).",
        minimum=0.0,
        maximum=10000.0,
    )
    # Rollback: how long after a swap the release is watched before it is accepted (s).
    rollback_watch: float = setting(
        600.0, "Watch a new release this long (s).", minimum=1.0, maximum=604800.0
    )
    # The policy node whose model_path the agent sets (relative: in the robot's namespace).
    policy_node: str = setting("policy", "Policy node to swap models on.", read_only=True)
    # Longest wait for the policy node to answer a swap (it loads and warms up the model) (s).
    swap_timeout: float = setting(
        30.0, "Longest wait for a swap answer (s).", minimum=1.0, maximum=600.0
    )
    # Upload episodes from the recorder's spool.
    upload: bool = setting(True, "Upload recorded episodes.", read_only=True)
    # The recorder's spool folder (its ready/ holds finished episodes); empty: the recorder's.
    spool_dir: str = setting(
        "", "Spool folder to upload from; empty: recorder.spool_dir.", read_only=True
    )
    # Upload bandwidth cap (bytes/s); 0: none.
    upload_bandwidth: float = setting(
        0.0, "Upload bandwidth cap (bytes/s); 0: none.", minimum=0.0, maximum=1e10, read_only=True
    )
    # Most MiB of episodes kept waiting for upload; beyond it the oldest continuous ones drop.
    upload_queue_budget_mb: float = setting(
        4096.0, "Disk budget of the upload queue (MiB).", minimum=1.0, maximum=1e7, read_only=True
    )
