"""What ``launch/fleet.launch.py`` starts: N simulated robots, each in its own namespace.

Robot ``i`` (1-based) is ``<namespace_prefix><i>``: its ROS namespace and its robot id (the
recorder's default spool and the store's ``episodes/<robot_id>/`` and ``robots/<robot_id>/``
follow it), driving scenario seed ``seed_base + i - 1``. Each robot is exactly what
``sim.launch.py`` starts for one robot (the simulator from :func:`plan_sim`, the robot's nodes
from :func:`plan_robot`), so a fleet member and a lone robot never differ. With a store, each
robot's cloud agent runs too (``cloud_agent.store_url`` enables it), with its own cache folder
under the profile's ``cloud_agent.cache_dir``, uploading from its recorder's spool.

With ``mission_seeds`` (a YAML list of scenario seeds) the fleet drives them on its own: they
are dealt round-robin (robot ``i`` gets seeds ``i-1``, ``i-1+N``, ... of the list), each robot
runs its mission node (``mission.seeds``) and, with ``mission_log_dir``, logs to
``<mission_log_dir>/<robot_id>/mission.jsonl``.

The same naming as ``flywheel fleet up`` (``cloud_bridge.fleet``), which starts the robots by
command line instead of through launch.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml

from fw_bringup.launch_plan import (
    LaunchArgumentError,
    NodeProcess,
    RobotLaunch,
    parse_overrides,
    plan_robot,
    plan_sim,
    resolve_profile_path,
)
from fw_bringup.main import load_with_overrides
from fw_recorder.spool import default_spool_dir

__all__ = ["MAX_ROBOTS", "FleetRobot", "plan_fleet_launch"]

#: More robots than this on one host is a typo, not a fleet.
MAX_ROBOTS = 64
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class FleetRobot:
    """One robot of the fleet and what starts it."""

    robot_id: str
    seed: int
    #: The simulator (``plan_sim``) and the robot's nodes (``plan_robot``, on sim time).
    sim: RobotLaunch
    robot: RobotLaunch

    @property
    def processes(self) -> list[NodeProcess]:
        return self.sim.processes + self.robot.processes


def _int(text: str, argument: str, minimum: int, maximum: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise LaunchArgumentError(
            f"launch argument {argument}: expected an integer, got {text!r}"
        ) from None
    if not minimum <= value <= maximum:
        raise LaunchArgumentError(
            f"launch argument {argument}: must be between {minimum} and {maximum}, got {value}"
        )
    return value


def _seed_list(text: str) -> list[int]:
    """The ``mission_seeds`` argument: empty, or a YAML list of seeds (ints >= 0)."""
    if not text.strip():
        return []
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = None
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    ):
        raise LaunchArgumentError(
            f"launch argument mission_seeds: expected a list of seeds (ints >= 0) such as "
            f"[0, 1, 2], got {text!r}"
        )
    return value


def _string(text: str) -> str:
    return json.dumps(text)  # a YAML string whatever it holds (see launch_plan._yaml_string)


def plan_fleet_launch(
    profile: str,
    *,
    robots: str = "2",
    seed_base: str = "0",
    namespace_prefix: str = "robot_",
    store: str = "",
    store_endpoint_url: str = "",
    trusted_root: str = "",
    fleet: str = "",
    channel: str = "",
    single_process: str = "false",
    overrides: str = "",
    mission_seeds: str = "",
    mission_log_dir: str = "",
) -> list[FleetRobot]:
    """Plan ``fleet.launch.py`` from its argument strings (empty: the profile's value).

    Raises :class:`LaunchArgumentError` for a bad argument and
    :class:`fw_common.errors.ProfileError` for a bad profile or override, before anything
    starts.
    """
    count = _int(robots, "robots", 1, MAX_ROBOTS)
    base = _int(seed_base, "seed_base", 0, 2**31 - 1 - MAX_ROBOTS)
    prefix = namespace_prefix.strip()
    if not _NAME.match(prefix):
        raise LaunchArgumentError(
            f"launch argument namespace_prefix: {namespace_prefix!r} is not a ROS name "
            "(a letter, then letters, digits or underscores)"
        )
    shared = parse_overrides(overrides)
    seeds = _seed_list(mission_seeds)
    agent: list[str] = []
    if store.strip():
        agent.append(f"cloud_agent.store_url={_string(store.strip())}")
        for key, value in (
            ("store_endpoint_url", store_endpoint_url),
            ("trusted_root", trusted_root),
            ("fleet", fleet),
            ("channel", channel),
        ):
            if value.strip():
                agent.append(f"cloud_agent.{key}={_string(value.strip())}")
    # The agents' cache folders: one per robot, under the profile's (with the overrides).
    profile_path = resolve_profile_path(profile)
    loaded = load_with_overrides(profile_path, shared + agent)
    cache_root = Path(loaded.cloud_agent.cache_dir)

    planned = []
    for i in range(1, count + 1):
        robot_id, seed = f"{prefix}{i}", base + i - 1
        own = [f"robot.id={_string(robot_id)}"]
        if not loaded.recorder.spool_dir:
            # The recorder's own default, spelled out: the agent uploads from the recorder's
            # spool_dir and has no default of its own for an empty one.
            own.append(f"recorder.spool_dir={_string(str(default_spool_dir(robot_id)))}")
        if agent:
            own.append(f"cloud_agent.cache_dir={_string(str(cache_root / robot_id))}")
        own_seeds = seeds[i - 1 :: count]
        if own_seeds:
            own.append(f"mission.seeds={json.dumps(own_seeds)}")
            if mission_log_dir.strip():
                log = Path(mission_log_dir.strip()) / robot_id / "mission.jsonl"
                own.append(f"mission.log_path={_string(str(log))}")
        sets = shlex.join(shared + agent + own)
        planned.append(
            FleetRobot(
                robot_id=robot_id,
                seed=seed,
                sim=plan_sim(
                    profile, namespace=robot_id, seed=str(seed), gui="false", overrides=sets
                ),
                robot=plan_robot(
                    profile,
                    namespace=robot_id,
                    use_sim_time="true",
                    single_process=single_process,
                    overrides=sets,
                ),
            )
        )
    return planned
