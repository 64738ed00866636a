"""Run the ``flywheel`` command the way the Makefile does: ``python -m cloud_bridge`` with
``cloud_bridge/`` on ``PYTHONPATH`` (it is not installed into the venv)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["FLYWHEEL", "flywheel_env"]

REPO = Path(__file__).resolve().parents[2]
#: The command line prefix of ``flywheel``.
FLYWHEEL = [sys.executable, "-m", "cloud_bridge"]


def flywheel_env(**extra: str) -> dict[str, str]:
    """This process's environment with ``cloud_bridge`` importable, plus ``extra``."""
    path = f"{REPO / 'cloud_bridge'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    return {**os.environ, "PYTHONPATH": path, **extra}
