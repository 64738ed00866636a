"""Fast DDS shared-memory files that no process uses any more.

Fast DDS keeps each participant's shared-memory port in ``/dev/shm/fastdds_<id>`` (mapped by
every process that uses the port) with a lock file ``fastdds_<id>_el`` (held open), and named
semaphores ``sem.fastdds_*`` (mapped while open). A process
that ends without destroying its participants leaves both behind, and every later discovery on
the host then slows down (about 2.7 s per participant measured here): a suite that leaves a
few per run turns a developer's machine slow and its timing-sensitive tests flaky after a day.
The system tests remove such leftovers before and after a run; files any live process still
maps or holds open are never touched.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["remove_unused_fastdds_files", "used_shm_paths"]

SHM = Path("/dev/shm")


def used_shm_paths(shm: Path = SHM, proc: Path = Path("/proc")) -> set[str]:
    """Every path in ``shm`` that some readable process maps or holds open."""
    prefix = f"{shm}/"
    used: set[str] = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            with open(entry / "maps", encoding="utf-8", errors="replace") as maps:
                for line in maps:
                    if prefix in line:
                        # address perms offset device inode path (the path may hold spaces)
                        path = line.split(None, 5)[5].rstrip("\n")
                        used.add(path.removesuffix(" (deleted)"))
            for fd in (entry / "fd").iterdir():
                try:
                    target = os.readlink(fd)
                except OSError:
                    continue
                if target.startswith(prefix):
                    used.add(target)
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return used


def remove_unused_fastdds_files(shm: Path = SHM, min_age_s: float = 10.0) -> list[str]:
    """Remove this user's Fast DDS segments and lock files that no process uses and that are
    older than ``min_age_s`` (a participant being created right now may not have mapped its
    segment yet); returns the names removed."""
    if not shm.is_dir():
        return []
    used = used_shm_paths(shm)
    uid, now = os.getuid(), time.time()
    removed = []
    for path in sorted([*shm.glob("fastdds_*"), *shm.glob("sem.fastdds_*")]):
        segment = str(path).removesuffix("_el")
        if segment in used or f"{segment}_el" in used:
            continue
        try:
            info = path.stat()
            if info.st_uid != uid or now - info.st_mtime < min_age_s:
                continue
            path.unlink()
            removed.append(path.name)
        except OSError:
            continue
    return removed
