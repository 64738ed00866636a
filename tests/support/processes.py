"""Start and stop real ROS 2 processes the way launch does (SIGINT, then wait)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["RosProcess", "executable"]


def executable(package: str, name: str) -> str:
    """Path of a console script installed by colcon in ``lib/<package>`` (what ``ros2 run``
    finds), looked up on AMENT_PREFIX_PATH."""
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        candidate = Path(prefix) / "lib" / package / name
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(
        f"{package}/{name} not found on AMENT_PREFIX_PATH; run `make build` (colcon build) first"
    )


class RosProcess:
    """One child process with its output captured to a log file."""

    def __init__(
        self,
        args: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        name: str | None = None,
    ) -> None:
        self.name = name or Path(args[0]).name
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        # Own session: a Ctrl-C in the terminal running pytest does not reach the children,
        # and killpg can clean up anything they spawned.
        self.popen = subprocess.Popen(
            list(args),
            env=dict(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.returncode: int | None = None
        #: True when the process ignored SIGINT until it was killed (see :meth:`stop`).
        self.hung = False

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def send_sigint(self) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGINT)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGINT and wait, as ``ros2 launch`` does. A process that hangs is asked for its
        threads' stacks (SIGUSR1: fw_common.spin registers faulthandler on it; they land in
        its log) and then SIGKILLed with its group; ``hung`` says so."""
        if self.returncode is not None:
            return self.returncode
        self.send_sigint()
        try:
            self.returncode = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.hung = True
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGUSR1)
            time.sleep(1.0)
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.returncode = self.popen.wait()
        self._log.close()
        return self.returncode

    def kill(self) -> int:
        """SIGKILL (a crash). Run such processes with FASTDDS_BUILTIN_TRANSPORTS=UDPv4, or
        they leave shared-memory files that slow later discovery."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.returncode = self.popen.wait()
        self._log.close()
        return self.returncode

    def wait_for_output(self, text: str, timeout: float) -> bool:
        """Wait until ``text`` appears in the process output."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return True
            if not self.alive():
                return text in self.output()
            time.sleep(0.05)
        return False

    def assert_clean_exit(self) -> None:
        """Exit code 0, no Python traceback and no [FATAL] line (an executor reporting a
        callback that failed): what launch expects of a node on SIGINT."""
        code = self.stop()
        out = self.output()
        assert code == 0, f"{self.name} exited with {code}:\n{out[-3000:]}"
        assert "Traceback" not in out, f"{self.name} printed a traceback:\n{out[-3000:]}"
        assert "[FATAL]" not in out, f"{self.name} logged a FATAL error:\n{out[-3000:]}"
