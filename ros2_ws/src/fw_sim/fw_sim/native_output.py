"""Silence what PyBullet's C++ core prints on stdout while it loads a URDF.

The Husky URDF has links without inertial data, and Bullet prints a ``b3Warning`` for each one
straight to file descriptor 1, bypassing Python: a dozen lines of noise in every node's log and
every test's output. The links are massless frames (base_footprint, imu_link, ...), so the
warnings carry no information for us.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

__all__ = ["stdout_silenced"]


@contextlib.contextmanager
def stdout_silenced() -> Iterator[None]:
    """Point file descriptor 1 at /dev/null for the duration (native code included)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
