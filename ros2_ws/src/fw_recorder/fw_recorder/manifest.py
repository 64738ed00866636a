"""``manifest.json``: what an episode is, beside its bag, for the uploader and the dataset.

Written when the episode opens (``status: recording``) and rewritten when it closes, always
atomically (write a temporary file, then ``os.replace``), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST_NAME", "read_manifest", "write_manifest"]

MANIFEST_NAME = "manifest.json"
#: Status values: the episode is being written / was closed normally / was salvaged after a
#: crash (incomplete by definition) / was closed early (disk full or write error).
STATUSES = ("recording", "complete", "recovered", "truncated")


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Atomically write ``folder/manifest.json``."""
    path = folder / MANIFEST_NAME
    tmp = folder / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of an episode folder, or None when missing or unreadable."""
    try:
        data = json.loads((folder / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
