"""The episode uploader the agent runs beside its release channel (cloud_bridge.upload).

The uploader itself (journal, multipart, retries, retention) is cloud_bridge's; this module
only starts it from the agent's profile section and exposes its status dict (queue size, bytes
pending, last upload, last contact, drops) for the agent's status. A cloud_bridge without the
uploader leaves the episodes in the spool and says so.
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["UploadRunner", "start_uploads"]


class UploadRunner(Protocol):
    """A running uploader."""

    def status(self) -> dict[str, Any]: ...

    def stop(self) -> None: ...


def start_uploads(config: Any, store: Any, robot_id: str, logger: Any) -> UploadRunner | None:
    """Start uploading ``config.spool_dir``'s ready episodes, or None (disabled/unavailable)."""
    if not config.upload:
        return None
    try:
        from cloud_bridge.upload import start_uploader  # type: ignore[attr-defined]
    except ImportError:
        logger.warning("this cloud_bridge has no episode uploader: episodes stay in the spool")
        return None
    runner: UploadRunner = start_uploader(store, config.spool_dir, robot_id)
    return runner
