"""System-test fixtures: an isolated ROS graph per test run, real processes, a probe node.

Every run gets its own ROS_DOMAIN_ID (several runs can share a host) and keeps DDS on loopback.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

# Must happen before anything in this process initialises rclpy.
os.environ.setdefault("FW_TEST_DOMAIN_ID", str(100 + os.getpid() % 100))
os.environ["ROS_DOMAIN_ID"] = os.environ["FW_TEST_DOMAIN_ID"]
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
os.environ.setdefault("RCUTILS_COLORIZED_OUTPUT", "0")
# Children log unbuffered, so a test failure shows what a node said just before.
os.environ["PYTHONUNBUFFERED"] = "1"
# A recorder without spool_dir writes to $XDG_STATE_HOME/flywheel/<robot_id>/spool: in tests, a
# folder of this run's, never the user's own state.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="fw_test_state_")

from support.probe import RosProbe  # noqa: E402
from support.processes import RosProcess, executable  # noqa: E402
from support.shm import remove_unused_fastdds_files  # noqa: E402

SIM_PROFILE = REPO / "ros2_ws" / "src" / "fw_bringup" / "config" / "profiles" / "sim.yaml"


@pytest.fixture(scope="session", autouse=True)
def _no_stale_fastdds_files() -> Iterator[None]:
    """Remove Fast DDS shared-memory files no process uses, before and after the run (see
    support/shm.py: left behind, they slow every later discovery on the host)."""
    remove_unused_fastdds_files()
    yield
    remove_unused_fastdds_files(min_age_s=2.0)


@pytest.fixture(scope="session", autouse=True)
def _private_state_home() -> Iterator[None]:
    """Remove this run's XDG_STATE_HOME (default spools) at the end."""
    yield
    shutil.rmtree(os.environ["XDG_STATE_HOME"], ignore_errors=True)


@pytest.fixture
def ros_env() -> dict[str, str]:
    """Environment for child ROS processes (this run's domain, loopback only)."""
    return dict(os.environ)


@pytest.fixture
def launch(tmp_path: Path, ros_env: dict[str, str]) -> Iterator[Callable[..., RosProcess]]:
    """Start processes; every one still running is stopped with SIGINT at teardown."""
    started: list[RosProcess] = []

    def start(
        args: list[str], name: str | None = None, env: dict[str, str] | None = None
    ) -> RosProcess:
        proc_name = name or f"{Path(args[0]).name}_{len(started)}"
        process = RosProcess(args, env or ros_env, tmp_path / f"{proc_name}.log", proc_name)
        started.append(process)
        return process

    yield start
    for process in reversed(started):
        process.stop()


@pytest.fixture
def start_robot(launch: Callable[..., RosProcess], tmp_path: Path) -> Callable[..., RosProcess]:
    """Start a simulated robot's nodes with the Python bringup (one process).

    ``start_robot(namespace="r1", seed=3, nodes="sim,actuator_bridge", sets=["sim.x=1"])``
    """

    def start(
        namespace: str = "",
        seed: int | None = None,
        nodes: str | None = None,
        sets: list[str] | None = None,
        profile: Path = SIM_PROFILE,
        name: str | None = None,
        env: dict[str, str] | None = None,
    ) -> RosProcess:
        args = [executable("fw_bringup", "bringup"), "--profile", str(profile)]
        if namespace:
            args += ["--namespace", namespace, "--robot-id", namespace]
        if seed is not None:
            args += ["--seed", str(seed)]
        if nodes:
            args += ["--nodes", nodes]
        if nodes is None or "recorder" in nodes.split(","):
            # Episodes go to the test's own folder, never to the robot's default spool.
            args += ["--set", f"recorder.spool_dir={tmp_path / 'spool'}"]
        for item in sets or []:
            args += ["--set", item]
        return launch(args, name=name or f"robot_{namespace or 'root'}", env=env)

    return start


@pytest.fixture
def probe() -> Iterator[RosProbe]:
    node = RosProbe()
    yield node
    node.close()
