"""The code version a policy was trained with: ``git describe`` of the checkout, else the
package version (an installed wheel has no git history)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cloud_bridge import __version__

__all__ = ["code_version"]


def code_version() -> str:
    """``git describe --always --dirty --tags`` where the code is a git checkout, else
    ``cloud_bridge-<version>``."""
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        described = ""
    return described or f"cloud_bridge-{__version__}"
