"""Start a fleet's robots, each in its own process group, and stop them as ``ros2 launch`` does.

Every robot runs under :mod:`.keeper` in a new session (``start_new_session``), so a Ctrl-C in
the terminal that ran ``fleet up`` does not reach it, and ``fleet down`` can signal the robot and
anything it started as one group. Stopping is SIGINT to every group at once (each node shuts
down cleanly and releases its DDS resources), then SIGTERM to the groups still there after
``sigint_timeout``, then SIGKILL after ``sigterm_timeout``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cloud_bridge
from cloud_bridge.fleet.errors import FleetError
from cloud_bridge.fleet.spec import RobotSpec
from cloud_bridge.fleet.state import FleetState, RobotProcess

__all__ = [
    "RobotExit",
    "exited_early",
    "group_alive",
    "group_members",
    "process_start_ticks",
    "robot_environment",
    "start_fleet",
    "stop_fleet",
]

_POLL_S = 0.1
_PROC = Path("/proc")


@dataclass(frozen=True)
class RobotExit:
    """How one robot ended."""

    robot_id: str
    #: The robot's exit status (negative: the signal that ended it); None when it was killed
    #: together with its keeper, so no status was written.
    status: int | None
    #: The last signal ``fleet down`` had to send ("" when the robot had already exited).
    stopped_by: str
    log_path: str

    @property
    def clean(self) -> bool:
        """Exited 0, on SIGINT or before it."""
        return self.status == 0 and self.stopped_by in ("", "SIGINT")


def process_start_ticks(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot, None when /proc cannot say."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[19])


def group_members(pgid: int) -> list[int] | None:
    """Live (not zombie) pids of group ``pgid``, None without /proc."""
    if not _PROC.is_dir():
        return None
    members = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # fields[0]: state, fields[2]: process group.
        if fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def _reap(pid: int) -> None:
    """Collect ``pid`` if it is this process's child (``fleet up`` and ``down`` in one
    program): an unreaped child stays a zombie that still answers signals."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def group_alive(robot: RobotProcess) -> bool:
    """Whether any process of the robot's group still runs (and the group is still ours: the
    leader's pid has not been reused by an unrelated process)."""
    _reap(robot.pid)
    if robot.start_ticks is not None:
        ticks = process_start_ticks(robot.pid)
        if ticks is not None and ticks != robot.start_ticks:
            return False  # the pid belongs to someone else now
    members = group_members(robot.pgid)
    if members is not None:
        return bool(members)
    try:
        os.killpg(robot.pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # not ours
    return True


def robot_environment() -> dict[str, str]:
    """This environment, with ``cloud_bridge`` importable by the robots (their agent and
    uploader use it) when it runs from a source checkout rather than an install."""
    env = dict(os.environ)
    source = str(Path(cloud_bridge.__file__).resolve().parents[1])
    if Path(source).name not in ("site-packages", "dist-packages"):
        paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        if source not in paths:
            env["PYTHONPATH"] = os.pathsep.join([source, *paths])
    return env


def _signal_group(robot: RobotProcess, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(robot.pgid, signum)


def start_fleet(
    robots: Sequence[tuple[RobotSpec, list[str]]],
    run_dir: Path,
    *,
    env: Mapping[str, str] | None = None,
    store_url: str | None = None,
) -> FleetState:
    """Start each ``(robot, command)`` under the keeper in its own session; the state is saved
    after each start, so a failure half-way still leaves ``fleet down`` what to stop. ``env``
    defaults to :func:`robot_environment`.

    Raises :class:`FleetError` when a fleet started in ``run_dir`` still runs.
    """
    run_dir = Path(run_dir).resolve()
    previous = FleetState.load(run_dir)
    if previous is not None:
        running = [r.robot_id for r in previous.robots if group_alive(r)]
        if running:
            raise FleetError(
                f"a fleet started in {run_dir} still runs ({', '.join(running)}): "
                f"`flywheel fleet down --run-dir {run_dir}` first"
            )
    state = FleetState(run_dir, [], store_url)
    state.save()
    child_env = robot_environment() if env is None else dict(env)
    child_env.setdefault("PYTHONUNBUFFERED", "1")  # a robot's last words reach its log
    for spec, command in robots:
        spec.folder.mkdir(parents=True, exist_ok=True)
        spec.exit_file.unlink(missing_ok=True)
        keeper = [sys.executable, "-m", "cloud_bridge.fleet.keeper", str(spec.exit_file), "--"]
        with spec.log_path.open("ab") as log:
            process = subprocess.Popen(
                keeper + command,
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        state.robots.append(
            RobotProcess(
                robot_id=spec.robot_id,
                namespace=spec.namespace,
                seed=spec.seed,
                pid=process.pid,
                pgid=process.pid,  # leader of its own session and group
                start_ticks=process_start_ticks(process.pid),
                command=command,
                log_path=str(spec.log_path),
                exit_file=str(spec.exit_file),
                started_unix=time.time(),
            )
        )
        state.save()
    return state


def _exit_status(robot: RobotProcess) -> int | None:
    try:
        return int(Path(robot.exit_file).read_text().strip())
    except (OSError, ValueError):
        return None


def exited_early(state: FleetState) -> list[RobotExit]:
    """The robots of ``state`` that are no longer running (a refused profile, a crash)."""
    return [
        RobotExit(r.robot_id, _exit_status(r), "", r.log_path)
        for r in state.robots
        if not group_alive(r)
    ]


def _wait_gone(robots: list[RobotProcess], timeout: float) -> list[RobotProcess]:
    """Wait up to ``timeout`` for the groups to end; the ones still running."""
    deadline = time.monotonic() + timeout
    left = [r for r in robots if group_alive(r)]
    while left and time.monotonic() < deadline:
        time.sleep(_POLL_S)
        left = [r for r in left if group_alive(r)]
    return left


def stop_fleet(
    state: FleetState, *, sigint_timeout: float = 20.0, sigterm_timeout: float = 5.0
) -> list[RobotExit]:
    """Stop every robot of ``state`` (see the module docstring), remove the state file once
    all are gone, and say how each ended. Raises :class:`FleetError` when a group survives
    SIGKILL (a process stuck in the kernel): the state file then stays for another try."""
    stopped_by = {r.robot_id: "" for r in state.robots}
    running = [r for r in state.robots if group_alive(r)]
    for signum, timeout in (
        (signal.SIGINT, sigint_timeout),
        (signal.SIGTERM, sigterm_timeout),
        (signal.SIGKILL, 5.0),
    ):
        if not running:
            break
        for robot in running:
            _signal_group(robot, signum)
            stopped_by[robot.robot_id] = signum.name
        running = _wait_gone(running, timeout)
    if running:
        raise FleetError(
            "still running after SIGKILL: "
            + ", ".join(f"{r.robot_id} (pgid {r.pgid})" for r in running)
        )
    state.remove()
    return [
        RobotExit(r.robot_id, _exit_status(r), stopped_by[r.robot_id], r.log_path)
        for r in state.robots
    ]
