"""What each robot of a simulated fleet runs: its identity, seed, folders and command line.

Robot ``i`` (1-based) of a fleet is ``<namespace_prefix><i>``: that name is both its ROS
namespace and its robot id (so its episodes go to ``episodes/<robot_id>/`` and its status to
``robots/<robot_id>/status.json``), and it drives scenario seed ``seed_base + i - 1``. It runs
the Python bringup (``python -m fw_bringup.main``) of a profile, headless, with its recorder's
spool and its agent's cache in its own folder of the run folder, so robots on one host share
nothing but the DDS domain (namespaces keep their topics apart).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from cloud_bridge.fleet.errors import FleetError

__all__ = [
    "BRINGUP_MODULE",
    "MAX_ROBOTS",
    "AgentOptions",
    "RobotSpec",
    "plan_fleet",
    "robot_command",
]

#: The Python bringup: one process runs the simulator and every node of one robot.
BRINGUP_MODULE = "fw_bringup.main"
#: More robots than this on one host is a typo, not a fleet.
MAX_ROBOTS = 64
# A ROS name token: a namespace segment, and a robot id the store accepts as a key segment.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class AgentOptions:
    """How each robot's cloud agent reaches the store and which releases it follows."""

    #: Object store: a folder or ``s3://bucket[/prefix]``.
    store_url: str
    #: The release repository's root metadata the robots trust (``flywheel keys init``).
    trusted_root: Path
    #: S3 endpoint (MinIO, a local server); None: AWS.
    endpoint_url: str | None = None
    #: S3 region; None: boto3's default chain.
    region: str | None = None
    #: Fleet whose channel the robots follow, and the channel.
    fleet: str = "default"
    channel: str = "stable"
    #: Channel check and status object period (s); None: the profile's.
    poll_period: float | None = None


@dataclass(frozen=True)
class RobotSpec:
    """One robot of the fleet."""

    #: 1-based position in the fleet.
    index: int
    #: Robot id, also its ROS namespace (without the leading slash).
    robot_id: str
    #: Scenario and noise seed.
    seed: int
    #: This robot's folder in the run folder: log, spool, agent cache, exit code.
    folder: Path

    @property
    def namespace(self) -> str:
        return self.robot_id

    @property
    def log_path(self) -> Path:
        return self.folder / "robot.log"

    @property
    def spool_dir(self) -> Path:
        return self.folder / "spool"

    @property
    def agent_dir(self) -> Path:
        return self.folder / "agent"

    @property
    def exit_file(self) -> Path:
        """Where the keeper writes the robot's exit status (see :mod:`.keeper`)."""
        return self.folder / "exit_status"


def plan_fleet(
    robots: int, run_dir: Path, *, namespace_prefix: str = "robot_", seed_base: int = 0
) -> list[RobotSpec]:
    """The robots of a fleet of ``robots``; :class:`FleetError` for a count or prefix that
    cannot make one."""
    if not 1 <= robots <= MAX_ROBOTS:
        raise FleetError(f"--robots must be between 1 and {MAX_ROBOTS}, got {robots}")
    if not _NAME.match(namespace_prefix):
        raise FleetError(
            f"--namespace-prefix {namespace_prefix!r}: a ROS name needs a letter first, then "
            "letters, digits or underscores"
        )
    if seed_base < 0:
        raise FleetError(f"--seed-base must not be negative, got {seed_base}")
    run_dir = Path(run_dir).resolve()
    return [
        RobotSpec(
            index=i,
            robot_id=f"{namespace_prefix}{i}",
            seed=seed_base + i - 1,
            folder=run_dir / "robots" / f"{namespace_prefix}{i}",
        )
        for i in range(1, robots + 1)
    ]


def _value(text: str) -> str:
    # `--set` parses values as YAML; a JSON string is a YAML string, so a path or URL with
    # odd characters (':', '#', a leading '*') stays the string it is.
    return json.dumps(text)


def robot_command(
    robot: RobotSpec,
    *,
    profile: str = "sim",
    agent: AgentOptions | None = None,
    sets: list[str] | None = None,
    python: str = sys.executable,
) -> list[str]:
    """The command line that runs ``robot``: the bringup of ``profile`` in its namespace,
    headless, recording into its own spool; with ``agent``, its cloud agent too (the bringup
    starts the agent's node when ``cloud_agent.store_url`` is set). ``sets`` are extra
    ``section.key=value`` overrides, applied last."""
    args = [
        python, "-m", BRINGUP_MODULE, "--profile", profile,
        "--namespace", robot.namespace, "--robot-id", robot.robot_id, "--seed", str(robot.seed),
    ]  # fmt: skip
    overrides = ["sim.gui=false", f"recorder.spool_dir={_value(str(robot.spool_dir))}"]
    if agent is not None:
        overrides += [
            f"cloud_agent.store_url={_value(agent.store_url)}",
            f"cloud_agent.trusted_root={_value(str(agent.trusted_root))}",
            f"cloud_agent.cache_dir={_value(str(robot.agent_dir))}",
            f"cloud_agent.fleet={_value(agent.fleet)}",
            f"cloud_agent.channel={_value(agent.channel)}",
        ]
        if agent.endpoint_url:
            overrides.append(f"cloud_agent.store_endpoint_url={_value(agent.endpoint_url)}")
        if agent.region:
            overrides.append(f"cloud_agent.store_region={_value(agent.region)}")
        if agent.poll_period is not None:
            overrides.append(f"cloud_agent.poll_period={agent.poll_period}")
    overrides += sets or []
    for item in overrides:
        args += ["--set", item]
    return args
