"""Run one robot and keep its exit status.

    python -m cloud_bridge.fleet.keeper EXIT_FILE -- CMD [ARG...]

``fleet up`` starts each robot through this keeper, as the leader of the robot's own process
group, and returns; ``fleet down`` runs later in another process, which cannot wait for a
process it did not start and so would never learn its exit status. The keeper waits for the
robot, writes the status to ``EXIT_FILE`` (negative: the signal that ended it, as
:attr:`subprocess.Popen.returncode` says) and exits with it.

``fleet down`` signals the whole group, keeper included. The keeper catches SIGINT and SIGTERM
and keeps waiting, so the robot decides how to stop; caught (not ignored) signals are reset for
the robot by exec, which gets them as it would from a terminal. SIGKILL ends both, and then
there is no status to write: ``fleet down`` says so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["main", "write_exit_status"]


def write_exit_status(path: Path, status: int) -> None:
    """Write ``status`` atomically (a reader sees no file or the whole number)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(f"{status}\n")
    os.replace(tmp, path)


def _keep_waiting(signum: int, frame: object) -> None:
    """The robot got the same signal (it is in this group) and stops on its own."""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3 or args[1] != "--":
        print(
            "usage: python -m cloud_bridge.fleet.keeper EXIT_FILE -- CMD [ARG...]", file=sys.stderr
        )
        return 2
    exit_file, command = Path(args[0]), args[2:]
    signal.signal(signal.SIGINT, _keep_waiting)
    signal.signal(signal.SIGTERM, _keep_waiting)
    try:
        robot = subprocess.Popen(command)
    except OSError as exc:
        print(f"keeper: cannot start {command[0]}: {exc}", file=sys.stderr)
        write_exit_status(exit_file, 127)
        return 127
    status = robot.wait()
    write_exit_status(exit_file, status)
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main())
