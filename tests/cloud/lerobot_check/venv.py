"""The LeRobot check's own venv: the real ``lerobot`` beside CPU torch, kept apart from the
project's venv (whose pins lerobot cannot share), created once and reused.

No lerobot release supports Python 3.11 with torch 2.13 (0.5+ needs Python 3.12, 0.4.4 pins
torch < 2.11), so the venv is made by the recipe below: torch first (the CPU build the
project pins), lerobot 0.4.4 without its dependencies (it reads the v3.0 layout), then what
its dataset module imports. torchvision is replaced by an import-only stand-in
(``stubs/``, first on the check's path). The venv lives under
``$FLYWHEEL_LEROBOT_VENV`` or ``~/.cache/flywheel/lerobot-venv``; a ``READY`` file naming the
recipe marks it complete, so a half-made one (an interrupted install) is made again, and a
changed recipe makes a new one.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["CHECK_SCRIPT", "RECIPE", "STUBS", "VenvUnavailable", "check_env", "lerobot_python"]

HERE = Path(__file__).resolve().parent
#: The script run in the venv.
CHECK_SCRIPT = HERE / "check_dataset.py"
#: The import-only torchvision, put first on the venv's path.
STUBS = HERE / "stubs"
#: pip invocations, in order.
RECIPE: tuple[tuple[str, ...], ...] = (
    ("torch==2.13.0",),
    ("--no-deps", "lerobot==0.4.4"),
    (
        "accelerate",
        "av",
        "datasets<4.9",
        "pandas",
        "pyarrow",
        "huggingface-hub",
        "jsonlines",
        "draccus",
        "pillow",
    ),
)
#: Seconds one pip step may take (torch is a large download on a cold cache).
PIP_TIMEOUT_S = 1800
#: After a failed attempt, how long (s) the failure is reported again without retrying, so a
#: host without an index does not pay for pip's timeouts on every run.
RETRY_AFTER_S = 3600


class VenvUnavailable(Exception):  # noqa: N818 - a condition the test reports as a skip
    """The venv could not be made here (no package index, no network...); the message says
    what failed."""


def _venv_dir() -> Path:
    configured = os.environ.get("FLYWHEEL_LEROBOT_VENV")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "flywheel" / "lerobot-venv"


def _recipe_id() -> str:
    return hashlib.sha256(repr((sys.version_info[:2], RECIPE)).encode()).hexdigest()[:16]


def _run(args: list[str], log: Path) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(args)}\n")
        out.flush()
        try:
            done = subprocess.run(
                args, stdout=out, stderr=subprocess.STDOUT, timeout=PIP_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise VenvUnavailable(f"{args[2:]} took over {PIP_TIMEOUT_S} s (see {log})") from None
    if done.returncode != 0:
        tail = log.read_text()[-1500:]
        raise VenvUnavailable(f"{' '.join(args[3:])} failed ({done.returncode}):\n{tail}")


def lerobot_python() -> Path:
    """The venv's python, making the venv first if needed; :class:`VenvUnavailable` when it
    cannot be made."""
    venv = _venv_dir()
    python = venv / "bin" / "python"
    ready = venv / "READY"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / (venv.name + ".lock")).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one maker at a time; the others wait and reuse
        if ready.exists() and ready.read_text().strip() == _recipe_id() and python.exists():
            return python
        failed = venv.parent / (venv.name + ".failed")
        if failed.exists() and time.time() - failed.stat().st_mtime < RETRY_AFTER_S:
            raise VenvUnavailable(f"failed recently (retried after {failed} ages 1 h): "
                                  + failed.read_text())  # fmt: skip
        shutil.rmtree(venv, ignore_errors=True)
        log = venv.parent / (venv.name + ".log")
        log.write_text("")
        base = getattr(sys, "_base_executable", sys.executable)
        try:
            _run([base, "-m", "venv", str(venv)], log)
            for step in RECIPE:
                _run([str(python), "-m", "pip", "install", "--quiet", *step], log)
        except VenvUnavailable as exc:
            failed.write_text(str(exc))
            raise
        failed.unlink(missing_ok=True)
        ready.write_text(_recipe_id() + "\n")
        return python


def check_env(hf_home: Path) -> dict[str, str]:
    """The environment of the check: offline, the stand-ins first, caches in ``hf_home``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "AMENT", "ROS", "COLCON", "VIRTUAL_ENV"))
    }
    env.update(
        {
            "PYTHONPATH": str(STUBS),
            "PYTHONNOUSERSITE": "1",
            "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "HF_HOME": str(hf_home),
            "HF_LEROBOT_HOME": str(hf_home / "lerobot"),
        }
    )
    return env
