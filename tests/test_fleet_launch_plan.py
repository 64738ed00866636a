"""``launch/fleet.launch.py`` and the plan behind it (``fw_bringup.fleet_plan``), on any host.

- The plan: N robots named and seeded as ``flywheel fleet up`` names them, every process in its
  robot's namespace, each robot with its own id, spool and (with a store) agent cache, the agent
  uploading from its own recorder's spool; the single-process form; refusals of bad arguments.
- The launch file is installed where ``ros2 launch fw_bringup fleet.launch.py`` finds it.
- Where ``launch``/``launch_ros`` are installed: its arguments are documented and it makes one
  action per planned process.
"""

from __future__ import annotations

import filecmp
import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

from fw_bringup.fleet_plan import MAX_ROBOTS, plan_fleet_launch
from fw_bringup.launch_plan import LaunchArgumentError
from fw_bringup.node_parameters import node_parameters
from fw_common.errors import ProfileError

REPO = Path(__file__).resolve().parent.parent
SIM_PROFILE = REPO / "ros2_ws" / "src" / "fw_bringup" / "config" / "profiles" / "sim.yaml"


def test_each_robot_has_its_namespace_id_seed_and_spool() -> None:
    fleet = plan_fleet_launch(str(SIM_PROFILE), robots="3", seed_base="10")
    assert [(r.robot_id, r.seed) for r in fleet] == [
        ("robot_1", 10), ("robot_2", 11), ("robot_3", 12),
    ]  # fmt: skip
    for robot in fleet:
        assert {p.namespace for p in robot.processes} == {f"/{robot.robot_id}"}
        assert [p.name for p in robot.sim.processes] == ["sim"]
        assert robot.sim.profile.sim.seed == robot.seed and not robot.sim.profile.sim.gui
        for plan in (robot.sim, robot.robot):
            assert plan.profile.robot.id == robot.robot_id
            assert plan.profile.robot.simulated
        assert "cloud_agent" not in robot.robot.nodes, "an agent without a store"
        assert robot.robot.profile.recorder.spool_dir.endswith(f"/{robot.robot_id}/spool")
    spools = {r.robot.profile.recorder.spool_dir for r in fleet}
    assert len(spools) == 3, "robots would share a spool"


def test_with_a_store_every_robot_runs_its_agent_on_its_own_spool_and_cache() -> None:
    fleet = plan_fleet_launch(
        "sim", robots="2", store="s3://fleet/a#b", store_endpoint_url="http://minio:9000",
        trusted_root="/etc/flywheel/root.json", fleet="yard", channel="canary",
        overrides="cloud_agent.cache_dir=/var/cache/fw recorder.spool_dir=/data/spool",
    )  # fmt: skip
    for robot in fleet:
        assert "cloud_agent" in robot.robot.nodes
        agent = robot.robot.profile.cloud_agent
        assert (agent.store_url, agent.store_endpoint_url) == (
            "s3://fleet/a#b",
            "http://minio:9000",
        )
        assert (agent.trusted_root, agent.fleet, agent.channel) == (
            "/etc/flywheel/root.json", "yard", "canary",
        )  # fmt: skip
        assert agent.cache_dir == f"/var/cache/fw/{robot.robot_id}"
        params = node_parameters(robot.robot.profile, "cloud_agent")
        assert params["spool_dir"] == robot.robot.profile.recorder.spool_dir == "/data/spool"
        (process,) = [p for p in robot.robot.processes if p.name == "cloud_agent"]
        assert process.namespace == f"/{robot.robot_id}"
        assert process.parameters["store_url"] == "s3://fleet/a#b"


def test_a_profile_spool_is_kept_and_the_default_one_is_spelled_out(tmp_path: Path) -> None:
    state = tmp_path / "state"
    os.environ["XDG_STATE_HOME"], saved = str(state), os.environ.get("XDG_STATE_HOME", "")
    try:
        fleet = plan_fleet_launch("sim", robots="2", store=str(tmp_path / "store"))
    finally:
        os.environ["XDG_STATE_HOME"] = saved
    for robot in fleet:
        spool = state / "flywheel" / robot.robot_id / "spool"
        # The agent uploads what its recorder writes: both name the same folder.
        assert node_parameters(robot.robot.profile, "recorder")["spool_dir"] == str(spool)
        assert node_parameters(robot.robot.profile, "cloud_agent")["spool_dir"] == str(spool)


def test_single_process_runs_one_bringup_per_robot_with_its_identity() -> None:
    fleet = plan_fleet_launch("sim", robots="2", single_process="true", store="/tmp/store")
    for robot in fleet:
        (bringup,) = robot.robot.processes
        assert (bringup.package, bringup.executable) == ("fw_bringup", "bringup")
        sets = [bringup.arguments[i + 1] for i, a in enumerate(bringup.arguments) if a == "--set"]
        assert f'robot.id="{robot.robot_id}"' in sets
        assert f'robot.namespace="{robot.robot_id}"' in sets
        assert "cloud_agent" in bringup.arguments[bringup.arguments.index("--nodes") + 1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"robots": "0"}, "robots: must be between 1"),
        ({"robots": str(MAX_ROBOTS + 1)}, "robots: must be between 1"),
        ({"robots": "two"}, "robots: expected an integer"),
        ({"seed_base": "-1"}, "seed_base: must be between 0"),
        ({"namespace_prefix": "1robot"}, "namespace_prefix"),
        ({"namespace_prefix": "robot/"}, "namespace_prefix"),
        ({"namespace_prefix": ""}, "namespace_prefix"),
        ({"single_process": "maybe"}, "single_process"),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(LaunchArgumentError, match=message):
        plan_fleet_launch("sim", **kwargs)


def test_mission_seeds_are_dealt_round_robin_with_a_log_per_robot(tmp_path: Path) -> None:
    fleet = plan_fleet_launch(
        "sim", robots="2", mission_seeds="[4, 5, 6]", mission_log_dir=str(tmp_path)
    )
    assert [r.robot.profile.mission.seeds for r in fleet] == [[4, 6], [5]]
    for robot in fleet:
        assert "mission" in robot.robot.nodes
        assert robot.robot.profile.mission.log_path == str(
            tmp_path / robot.robot_id / "mission.jsonl"
        )
        assert robot.robot.profile.recorder.mode == "requested"
    (alone,) = plan_fleet_launch("sim", robots="1")
    assert "mission" not in alone.robot.nodes
    for bad in ("4, 5", "[4, -5]", "[4, x]", "{a: 1}"):
        with pytest.raises(LaunchArgumentError, match="mission_seeds"):
            plan_fleet_launch("sim", robots="2", mission_seeds=bad)


def test_bad_overrides_and_channels_are_profile_errors() -> None:
    with pytest.raises(ProfileError, match="no_such"):
        plan_fleet_launch("sim", overrides="sim.no_such=1")
    with pytest.raises(ProfileError, match="channel"):
        plan_fleet_launch("sim", store="/tmp/store", channel="beta")


def test_fleet_launch_is_installed_in_the_package_share() -> None:
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        installed = Path(prefix) / "share" / "fw_bringup" / "launch" / "fleet.launch.py"
        if prefix and installed.parent.parent.joinpath("package.xml").is_file():
            assert installed.is_file(), "`ros2 launch fw_bringup fleet.launch.py` fails"
            assert filecmp.cmp(installed, REPO / "launch" / "fleet.launch.py", shallow=False)
            return
    pytest.skip("fw_bringup is not on AMENT_PREFIX_PATH (run `make build` and source it)")


# --- the launch file itself (where launch is installed) --------------------------------------


def _fleet_launch() -> Any:
    launch = pytest.importorskip(
        "launch", reason="launch is not installed (it ships with ROS 2 installs, not on PyPI)"
    )
    if not hasattr(launch, "LaunchDescription"):  # the repository's own launch/ folder
        pytest.skip("launch is not installed (it ships with ROS 2 installs, not on PyPI)")
    pytest.importorskip("launch_ros", reason="launch_ros is not installed (ships with ROS 2)")
    path = REPO / "launch" / "fleet.launch.py"
    spec = importlib.util.spec_from_file_location("fw_launch_fleet", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fleet_launch_declares_documented_arguments() -> None:
    arguments = _fleet_launch().generate_launch_description().get_launch_arguments()
    assert {"robots", "profile", "store", "seed_base"} <= {a.name for a in arguments}
    for argument in arguments:
        assert argument.description and argument.description != "no description given"


def test_fleet_launch_makes_one_action_per_planned_process() -> None:
    module = _fleet_launch()
    from launch import LaunchContext

    context = LaunchContext()
    values = {name: "" for name in module.ARGUMENTS}
    values.update(profile=str(SIM_PROFILE), robots="3", seed_base="5", namespace_prefix="h_",
                  single_process="false", store="/tmp/store")  # fmt: skip
    context.launch_configurations.update(values)
    actions = module.launch_setup(context)
    planned = [p for r in plan_fleet_launch(**values) for p in r.processes]
    assert len(actions) == len(planned)
    assert [a.node_executable for a in actions] == [p.executable for p in planned]
