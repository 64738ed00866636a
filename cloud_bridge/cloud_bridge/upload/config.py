"""The uploader's settings."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MIB", "UploaderConfig"]

MIB = 1 << 20
_DAY_S = 86400.0


@dataclass(frozen=True)
class UploaderConfig:
    """How the uploader sends, retries, caps and keeps episodes."""

    #: This robot's id: episodes go to ``episodes/<robot_id>/``. Its credentials may write
    #: nowhere else (see ``cloud_bridge/policies/robot.json``).
    robot_id: str
    #: Bytes per part of a multipart upload; S3 needs at least 5 MiB (except the last part).
    #: A connection cut costs at most one part, re-sent.
    part_size: int = 8 * MIB
    #: Parts on the wire at once (each on its own connection); a cut costs the part on the
    #: cut connection, a restart at most these.
    parts_in_flight: int = 4
    #: Files of at least this many bytes go in parts; smaller ones in one put.
    multipart_threshold: int = 8 * MIB
    #: Bandwidth cap (bytes/s) averaged over parts; ``None`` for none.
    max_bytes_per_s: float | None = None
    #: Most bytes of episodes waiting for upload kept in ``ready/`` while the store is out of
    #: reach; beyond it the oldest continuous episodes are dropped first (each drop counted).
    queue_budget_bytes: int = 4096 * MIB
    #: Uploaded episodes stay in ``uploaded/`` at most this long (s)...
    retain_uploaded_s: float = 7 * _DAY_S
    #: ...and at most this many bytes of them (oldest deleted first).
    retain_uploaded_bytes: int = 1024 * MIB
    #: First retry delay after the store failed (s); doubles per failure, with full jitter...
    backoff_initial_s: float = 1.0
    #: ...up to this (s).
    backoff_max_s: float = 300.0
    #: Pause between scans of ``ready/`` when there is nothing to send (s).
    poll_interval_s: float = 5.0

    def __post_init__(self) -> None:
        if self.part_size < 5 * MIB:
            raise ValueError("part_size must be at least 5 MiB (S3's smallest part)")
        if self.parts_in_flight < 1:
            raise ValueError("parts_in_flight must be at least 1")
        if self.multipart_threshold < 1:
            raise ValueError("multipart_threshold must be positive")
        if self.max_bytes_per_s is not None and self.max_bytes_per_s <= 0:
            raise ValueError("max_bytes_per_s must be positive (or None for no cap)")
        if self.queue_budget_bytes <= 0 or self.retain_uploaded_bytes < 0:
            raise ValueError("disk budgets must be positive")
