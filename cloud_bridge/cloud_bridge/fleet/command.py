"""``flywheel fleet``: a simulated fleet on this host (``up``, ``down``) and the status of any
fleet from the objects its robots write to the store (``status``).

Examples::

    # three simulated robots, robot_1..robot_3, seeds 10..12, headless, no store
    flywheel fleet up --robots 3 --seed-base 10
    # ... with their cloud agents: uploads to the store, releases from its channel
    flywheel keys init --out keys --store /tmp/store
    flywheel fleet up --robots 3 --store /tmp/store --trusted-root keys/root.json --channel canary
    flywheel fleet status --store /tmp/store
    flywheel fleet down
    # MinIO (or any S3 endpoint); credentials from boto3's chain (AWS_ACCESS_KEY_ID, ...)
    flywheel fleet up --robots 2 --store s3://fleet --endpoint-url http://127.0.0.1:9000 \\
        --trusted-root keys/root.json --run-dir /tmp/fleet
    flywheel fleet status --store s3://fleet --endpoint-url http://127.0.0.1:9000 --stale-after 60

``up`` needs the robot stack on the Python path (``source ros2_ws/install/setup.bash``, as
``make demo`` does) and starts each robot as ``python -m fw_bringup.main --profile sim
--namespace robot_<i> --robot-id robot_<i> --seed <seed-base + i - 1>`` in its own process
group, logging to ``<run-dir>/robots/robot_<i>/robot.log``. ``down`` stops them with SIGINT,
then SIGTERM and SIGKILL after timeouts, and prints each robot's exit status.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cloud_bridge.fleet.errors import FleetError
from cloud_bridge.fleet.processes import RobotExit, exited_early, start_fleet, stop_fleet
from cloud_bridge.fleet.spec import AgentOptions, plan_fleet, robot_command
from cloud_bridge.fleet.state import FleetState
from cloud_bridge.fleet.status import RobotStatus, read_fleet_status
from cloud_bridge.store import StoreError
from cloud_bridge.store.options import add_store_options, store_from_options

__all__ = ["DEFAULT_RUN_DIR", "register", "run_down", "run_status", "run_up"]

#: Where ``up`` keeps the fleet's state, logs and spools unless told (``down`` looks there too).
DEFAULT_RUN_DIR = Path("runs") / "fleet"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "fleet", help="a simulated fleet: up, down, status", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    up = actions.add_parser("up", help="start N simulated robots", description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    up.add_argument("--robots", type=int, required=True, help="how many robots")
    add_store_options(up, required=False)
    up.add_argument(
        "--trusted-root", type=Path,
        help="the release repository's root.json the agents trust (needed with --store)",
    )  # fmt: skip
    up.add_argument("--fleet", default="default", help="fleet whose channel the robots follow")
    up.add_argument("--channel", default="stable", choices=("canary", "stable"))
    up.add_argument("--poll-period", type=float, help="agent poll period (s); default: profile")
    up.add_argument("--namespace-prefix", default="robot_", help="robot i is <prefix><i>")
    up.add_argument("--seed-base", type=int, default=0, help="robot i drives seed base + i - 1")
    up.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR, help="state, logs, spools")
    up.add_argument("--profile", default="sim", help="robot profile: a name or a YAML path")
    up.add_argument(
        "--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
        help="profile override for every robot (repeatable)",
    )  # fmt: skip
    up.add_argument(
        "--check-seconds", type=float, default=3.0,
        help="watch the robots this long after starting; any that exit fail the command",
    )  # fmt: skip
    up.set_defaults(func=run_up)

    down = actions.add_parser("down", help="stop the robots `up` started")
    down.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR)
    down.add_argument("--sigint-timeout", type=float, default=20.0, help="then SIGTERM (s)")
    down.add_argument("--sigterm-timeout", type=float, default=5.0, help="then SIGKILL (s)")
    down.set_defaults(func=run_down)

    status = actions.add_parser("status", help="each robot's last status in the store")
    add_store_options(status, required=True)
    status.add_argument(
        "--stale-after", type=float, default=120.0,
        help="a status older than this (s) marks its robot stale",
    )  # fmt: skip
    status.add_argument("--json", action="store_true", help="one JSON object per robot")
    status.set_defaults(func=run_status)


def _require_module(name: str, what: str) -> None:
    if importlib.util.find_spec(name) is None:
        raise FleetError(
            f"{what} ({name}) is not on this Python path: build the workspace and source it "
            "(make build; source ros2_ws/install/setup.bash)"
        )


def _agent_options(args: argparse.Namespace) -> AgentOptions | None:
    if not args.store:
        return None
    _require_module("fw_cloud_agent", "the cloud agent")
    if args.trusted_root is None:
        raise FleetError(
            "--store needs --trusted-root: the agents verify releases against the repository's "
            "root metadata (flywheel keys init --out keys --store ... writes keys/root.json)"
        )
    if not args.trusted_root.is_file():
        raise FleetError(f"--trusted-root {args.trusted_root}: no such file")
    return AgentOptions(
        store_url=args.store,
        trusted_root=args.trusted_root.resolve(),
        endpoint_url=args.endpoint_url,
        region=args.region,
        fleet=args.fleet,
        channel=args.channel,
        poll_period=args.poll_period,
    )


def _tail(path: str, lines: int = 15) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def run_up(args: argparse.Namespace) -> int:
    try:
        robots = plan_fleet(
            args.robots, args.run_dir,
            namespace_prefix=args.namespace_prefix, seed_base=args.seed_base,
        )  # fmt: skip
        _require_module("fw_bringup", "the robot stack")
        agent = _agent_options(args)
        commands = [
            (r, robot_command(r, profile=args.profile, agent=agent, sets=args.set)) for r in robots
        ]
        state = start_fleet(commands, args.run_dir, store_url=args.store)
    except FleetError as exc:
        print(f"flywheel fleet up: {exc}", file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.check_seconds
    dead: list[RobotExit] = []
    while time.monotonic() < deadline and not dead:
        time.sleep(0.2)
        dead = exited_early(state)
    if dead:
        for robot in dead:
            print(
                f"flywheel fleet up: {robot.robot_id} exited (status {robot.status}); "
                f"its log {robot.log_path} ends:\n{_tail(robot.log_path)}",
                file=sys.stderr,
            )
        stop_fleet(state)
        return 1
    for r in state.robots:
        print(f"{r.robot_id}: pid {r.pid}, seed {r.seed}, log {r.log_path}")
    agents = f", agents on {args.store}" if args.store else ""
    print(f"{len(state.robots)} robots up{agents}; stop them with "
          f"`flywheel fleet down --run-dir {state.run_dir}`")  # fmt: skip
    return 0


def run_down(args: argparse.Namespace) -> int:
    try:
        state = FleetState.load(args.run_dir)
        if state is None:
            print(f"no fleet was started in {args.run_dir.resolve()}")
            return 0
        exits = stop_fleet(
            state, sigint_timeout=args.sigint_timeout, sigterm_timeout=args.sigterm_timeout
        )
    except FleetError as exc:
        print(f"flywheel fleet down: {exc}", file=sys.stderr)
        return 1
    for e in exits:
        how = f"stopped by {e.stopped_by}" if e.stopped_by else "had already exited"
        status = "killed, no status" if e.status is None else f"exit status {e.status}"
        print(f"{e.robot_id}: {how}, {status} (log {e.log_path})")
    return 0 if all(e.clean for e in exits) else 1


def _ago(when: float | None, now: float) -> str:
    if when is None:
        return "-"
    seconds = max(0.0, now - when)
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return datetime.fromtimestamp(when, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _queue(row: RobotStatus) -> str:
    if row.queue_episodes is None:
        return "-"
    return f"{row.queue_episodes} ({(row.queue_bytes or 0) / 1e6:.1f} MB)"


def _channel(row: RobotStatus) -> str:
    if row.channel is None:
        return "-"
    name = f"{row.fleet}/{row.channel}" if row.fleet else row.channel
    return f"{name} → {row.channel_release}" if row.channel_release else name


def run_status(args: argparse.Namespace) -> int:
    now = time.time()
    try:
        store = store_from_options(args)
        rows = read_fleet_status(store, stale_after=args.stale_after, now=now)
    except StoreError as exc:
        print(f"flywheel fleet status: {exc}", file=sys.stderr)
        return 1
    if args.json:
        for row in rows:
            print(json.dumps({**asdict(row), "age_s": row.age(now)}, sort_keys=True))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} robots in {store.url}")
    for column in ("robot", "release", "channel", "upload queue", "last upload",
                   "last contact", "safety/min", "status"):  # fmt: skip
        table.add_column(column, justify="right" if column == "safety/min" else "left")
    for row in rows:
        if row.stale:
            state = f"[red]STALE ({_ago(row.written, now)})[/red]"
        else:
            state = "[green]ok[/green]"
        if row.problem:
            state += f" {row.problem}"
        rate = "-" if row.safety_events_per_min is None else f"{row.safety_events_per_min:.1f}"
        table.add_row(
            row.robot_id, row.release or "(profile)", _channel(row), _queue(row),
            _ago(row.last_upload, now), _ago(row.last_contact, now), rate, state,
        )  # fmt: skip
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    return 0
