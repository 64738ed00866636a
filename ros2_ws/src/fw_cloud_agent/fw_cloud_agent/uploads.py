"""The episode uploader the agent runs beside its release channel.

The uploader itself (:class:`cloud_bridge.upload.uploader.EpisodeUploader`: journal,
multipart, retries, bandwidth cap, disk budget, retention) is cloud_bridge's; this module only
runs it in its own thread from the agent's profile section, and hands its status dict (queue
size, bytes pending, last upload, last contact, drops) to the agent's status.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

__all__ = ["UploadRunner"]

log = logging.getLogger(__name__)

_MIB = 1 << 20


class UploadRunner:
    """``EpisodeUploader.run()`` in a thread (which also opens its sqlite journal)."""

    def __init__(
        self,
        store: Any,
        spool_dir: Path,
        robot_id: str,
        *,
        max_bytes_per_s: float | None = None,
        queue_budget_mb: float = 4096.0,
    ) -> None:
        from cloud_bridge.upload.config import UploaderConfig

        self.spool_dir = Path(spool_dir)
        self.config = UploaderConfig(
            robot_id=robot_id,
            max_bytes_per_s=max_bytes_per_s,
            queue_budget_bytes=int(queue_budget_mb * _MIB),
        )
        self.store = store
        self._stop = threading.Event()
        self._uploader: Any = None
        self._error: str | None = None
        self._thread = threading.Thread(target=self._run, name="fw_uploader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from cloud_bridge.upload.uploader import EpisodeUploader

        try:
            uploader = EpisodeUploader(self.spool_dir, self.store, self.config, stop=self._stop)
        except Exception as exc:  # an unusable spool: say so in the status, never crash
            self._error = f"uploader not started: {exc}"
            log.error(self._error)
            return
        self._uploader = uploader
        try:
            uploader.run()
        except Exception as exc:
            self._error = f"uploader stopped: {type(exc).__name__}: {exc}"
            log.error(self._error)
        finally:
            uploader.close()

    def status(self) -> dict[str, Any]:
        uploader = self._uploader
        status: dict[str, Any] = {} if uploader is None else dict(uploader.status())
        if self._error is not None:
            status["error"] = self._error
        return status

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
