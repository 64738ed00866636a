"""launch_testing: a simulated fleet brought up by ``launch/fleet.launch.py``, as a host runs it.

Two robots, each with its cloud agent on a folder store holding a real release repository
(``flywheel keys init``). Active tests watch the graph from an rclpy probe: every robot's topics
appear in its own namespace and none at the root, each robot's ``cmd_vel`` is published by its
own nodes only, and each agent writes its status object (``robots/<robot_id>/status.json``) to
the store, read back with ``flywheel fleet status``'s reader. After shutdown every process
must have exited with code 0 and printed no traceback, and exactly the planned processes ran.

    launch_test tests/launch/test_fleet_launch.py    # needs launch_testing (a ROS 2 install)
    python -m pytest tests/launch                     # same, through its pytest plugin

Where launch_testing is not installed (PyPI-only hosts) the module is skipped with the reason;
``tests/test_fleet_launch_plan.py`` checks the plan behind the launch file on every host.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

import pytest

pytest.importorskip(
    "launch_testing",
    reason="launch_testing is not installed (it ships with ROS 2 installs, not on PyPI); "
    "run these where it is, with `launch_test` or pytest",
)
pytest.importorskip(
    "launch_ros", reason="launch_ros is not installed (it ships with ROS 2 installs, not on PyPI)"
)

import launch_testing
import launch_testing.actions
import launch_testing.asserts
from launch import LaunchDescription
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource

REPO = Path(__file__).resolve().parents[2]
for folder in (REPO / "tests", REPO / "cloud_bridge"):  # `launch_test` runs no conftest.py
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from cloud_bridge.fleet import read_fleet_status  # noqa: E402
from cloud_bridge.store import LocalStore  # noqa: E402
from fw_bringup.fleet_plan import plan_fleet_launch  # noqa: E402
from fw_common import topics  # noqa: E402
from support.flywheel_cli import FLYWHEEL, flywheel_env  # noqa: E402
from support.probe import RosProbe  # noqa: E402

FLEET_LAUNCH = REPO / "launch" / "fleet.launch.py"
ROBOTS = ("robot_1", "robot_2")
START_TIMEOUT = 90.0
WORK = Path(tempfile.mkdtemp(prefix="fw_fleet_launch_"))
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
# The robots' default spools ($XDG_STATE_HOME/flywheel/<robot_id>/spool, planned in this
# process): this test's folder, never the user's own state.
os.environ["XDG_STATE_HOME"] = str(WORK / "state")
STORE = WORK / "store"
ARGUMENTS = {
    "robots": str(len(ROBOTS)),
    "seed_base": "3",
    "store": str(STORE),
    "trusted_root": str(WORK / "keys" / "root.json"),
    "single_process": "true",
    "overrides": f"cloud_agent.poll_period=1.0 cloud_agent.cache_dir={WORK / 'agents'}",
}


def _provision() -> None:
    """A release repository in the store and the root metadata the agents trust."""
    subprocess.run(
        [*FLYWHEEL, "keys", "init", "--out", str(WORK / "keys"), "--store", str(STORE)],
        env=flywheel_env(),
        check=True,
        capture_output=True,
    )


@pytest.mark.launch_test
def generate_test_description():  # type: ignore[no-untyped-def]
    _provision()
    fleet = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(FLEET_LAUNCH)), launch_arguments=ARGUMENTS.items()
    )
    return LaunchDescription([fleet, launch_testing.actions.ReadyToTest()])


class TestFleet(unittest.TestCase):
    """Active tests, in name order, against the launched fleet."""

    probe: RosProbe

    @classmethod
    def setUpClass(cls) -> None:
        cls.probe = RosProbe("fleet_launch_probe")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.probe.close()

    def test_1_every_robot_publishes_in_its_own_namespace_only(self) -> None:
        names = (topics.SCAN, topics.CMD_VEL, topics.CLOUD_AGENT_STATUS)
        wanted = {f"/{ns}/{name}" for ns in ROBOTS for name in names}
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            missing = {t for t in wanted if not self.probe.node.count_publishers(t)}
            if not missing:
                break
            time.sleep(0.5)
        self.assertFalse(missing, f"never published: {sorted(missing)}")
        for name in names:
            self.assertEqual(self.probe.node.count_publishers(f"/{name}"), 0, f"/{name}")
        for ns in ROBOTS:
            namespaces = self.probe.publisher_namespaces(f"/{ns}/{topics.CMD_VEL}")
            self.assertEqual(namespaces, {f"/{ns}"})

    def test_2_every_agent_writes_its_status_object(self) -> None:
        store = LocalStore(STORE)
        deadline = time.monotonic() + START_TIMEOUT
        rows = []
        while time.monotonic() < deadline:
            rows = read_fleet_status(store, stale_after=30.0)
            if [r.robot_id for r in rows] == list(ROBOTS) and not any(r.stale for r in rows):
                break
            time.sleep(0.5)
        self.assertEqual([r.robot_id for r in rows], list(ROBOTS), rows)
        for row in rows:
            self.assertFalse(row.stale, row)
            self.assertEqual((row.fleet, row.channel), ("default", "stable"))
            self.assertIn("no signed channel", row.problem or "")  # nothing published yet


@launch_testing.post_shutdown_test()
class TestFleetShutdown(unittest.TestCase):
    def test_every_process_exited_cleanly(self, proc_info) -> None:  # type: ignore[no-untyped-def]
        launch_testing.asserts.assertExitCodes(proc_info)

    def test_no_process_printed_a_traceback(self, proc_output) -> None:  # type: ignore[no-untyped-def]
        for name in proc_output.process_names():
            text = "".join(io.text.decode(errors="replace") for io in proc_output[name])
            self.assertNotIn("Traceback", text, f"{name}:\n{text[-3000:]}")

    def test_the_planned_processes_ran(self, proc_info) -> None:  # type: ignore[no-untyped-def]
        planned = plan_fleet_launch("sim", **{k: v for k, v in ARGUMENTS.items()})
        names = list(proc_info.process_names())
        self.assertEqual(len(names), sum(len(r.processes) for r in planned), names)
