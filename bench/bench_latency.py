"""Control latency: a scan's stamp → its command reaching the actuator bridge, at 20 Hz.

The whole stack runs with the sim profile's settings on the system clock (there is no simulator:
``robot.simulated`` is overridden to false): perception → policy (the ONNX MLP that
``python -m fw_policy.model_file mlp`` makes, or ``--policy classic``) → safety → actuator
bridge. Per robot, a driver process stands in for the simulator: it publishes ``scan`` (360
beams) at ``--rate`` Hz, ``odom`` with the safety heartbeat at ~50 Hz and ``imu`` at ~100 Hz on
their own timers, and a latched goal. The latency of a scan is the moment the real
``ActuatorBridgeNode._on_cmd_vel`` starts for the command carrying its stamp (the policy copies
it from the scan) minus that stamp; a scan of the measured window whose command never arrives is
a dropped command. Cases:

* ``processes``: one robot, one process per node;
* ``composed``: one robot, all its nodes in one process on one executor, as ``bringup`` composes
  them (``fw_bringup.robot.create_robot_nodes`` and ``fw_common.spin.run_node``);
* ``fleet``: ``--robots`` robots, each composed in its own process and namespace.

Every process is a child started in the environment of a colcon install (``--install``, default
this checkout's); ``--compare PREFIX`` runs every case against that install too, alternating
with the first in each repeat, and prints both side by side (before = ``--compare``, after =
``--install``). Run it from the repository root with the venv active::

    flock /tmp/fw-bench.lock python bench/bench_latency.py --seconds 30 --repeats 3 \\
        --compare /path/to/baseline/ros2_ws/install

Targets: p99 ≤ 10 ms between processes, ≤ 5 ms composed, ≤ 10 ms for the fleet (pooled and per
robot); no dropped command in any case.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "TARGET_P99_MS",
    "Summary",
    "install_env",
    "is_scan_stamp",
    "pool",
    "scan_stamp",
    "summarize",
    "verdict",
    "window_latencies",
]

ROOT = Path(__file__).resolve().parent.parent
CASES = ("processes", "composed", "fleet")
TARGET_P99_MS = {"processes": 10.0, "composed": 5.0, "fleet": 10.0}
STACK = ("perception", "policy", "safety", "actuator_bridge")
DOMAINS = itertools.cycle(range(170, 190))  # a case stops its processes before the next starts
ODOM_RATE_HZ = 50.0
IMU_RATE_HZ = 100.0
# Real sensors run on their own oscillators: 0.3 % slow, odometry and IMU drift across the scan's
# phase instead of always landing at the same instant of every period.
SIDE_RATE_FACTOR = 0.997
# Scan stamps end in this many nanoseconds (the rest is the publish time, to the microsecond),
# so that the bridge's process can tell a command answering a scan from the supervisor's own
# ticks and say when the chain works end to end.
SCAN_TAG_NS = 417
LIVE = "[bench] live"  # printed by a robot's bridge once LIVE_AFTER scans have been answered
LIVE_AFTER = 20
START_TIMEOUT_S = 120.0  # a fleet starts 8 processes on 2 cores
SETTLE_S = 2.0
TAIL_S = 0.5  # after the window, for the last commands to land


# --- pure parts (tests/test_bench_latency.py) ----------------------------------------------
def scan_stamp(now_ns: int) -> int:
    """The stamp of a scan published at ``now_ns``: tagged, within a microsecond of it."""
    return now_ns - now_ns % 1000 + SCAN_TAG_NS


def is_scan_stamp(stamp_ns: int) -> bool:
    return stamp_ns % 1000 == SCAN_TAG_NS


def window_latencies(
    sent: Iterable[int], arrivals: Mapping[int, int], start_ns: int, end_ns: int
) -> tuple[np.ndarray, int]:
    """Latencies (ms) of the scans sent in ``[start_ns, end_ns)`` whose command arrived, and how
    many of those scans got none (dropped commands)."""
    window = [s for s in sent if start_ns <= s < end_ns]
    lat = [arrivals[s] - s for s in window if s in arrivals]
    return np.asarray(lat, dtype=np.float64) / 1e6, len(window) - len(lat)


@dataclass(frozen=True)
class Summary:
    """One case's figures for one install (or one robot of it)."""

    sent: int
    drops: int
    p50: float
    p99: float
    max: float


def summarize(latencies_ms: Sequence[np.ndarray], drops: int) -> Summary:
    lat = np.concatenate([np.asarray(x, dtype=np.float64) for x in latencies_ms] or [[]])
    if lat.size == 0:
        return Summary(drops, drops, float("nan"), float("nan"), float("nan"))
    p50, p99 = np.percentile(lat, [50, 99])
    return Summary(lat.size + drops, drops, float(p50), float(p99), float(lat.max()))


def verdict(case: str, pooled: Summary, per_robot: Sequence[Summary] = ()) -> bool:
    """Met when every robot's p99 and the pooled p99 are within the case's target, with no
    dropped command and at least one measured command."""
    target = TARGET_P99_MS[case]
    return all(s.drops == 0 and s.sent > 0 and s.p99 <= target for s in (pooled, *per_robot))


def install_env(prefix: Path, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` with the colcon install at ``prefix`` sourced in place of any other."""
    clean = {
        k: v
        for k, v in base.items()
        if k not in ("PYTHONPATH", "AMENT_PREFIX_PATH", "COLCON_PREFIX_PATH")
    }
    out = subprocess.run(
        ["bash", "-c", 'source "$1/setup.bash" >/dev/null && env -0', "env", str(prefix)],
        env=clean,
        capture_output=True,
        check=True,
    ).stdout.decode()
    env = dict(item.split("=", 1) for item in out.split("\0") if "=" in item)
    env.update(AMENT_PREFIX_PATH=str(prefix), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
    env["PYTHONUNBUFFERED"] = "1"
    return env


# --- child processes (the --role options) --------------------------------------------------
def _robot_child(args: argparse.Namespace) -> int:
    """Some of one robot's nodes, composed as ``bringup`` composes them; with the bridge among
    them, every command's arrival is noted and written to ``args.out`` on shutdown."""
    from fw_bringup.main import load_with_overrides
    from fw_bringup.node_parameters import default_profile_path
    from fw_bringup.robot import create_robot_nodes
    from fw_common.spin import run_node

    names = args.nodes.split(",")
    robot_id = args.namespace or "bench"
    overrides = [
        "robot.simulated=false",
        f"robot.namespace={args.namespace!r}",
        f"robot.id={robot_id}",
        f"policy.kind={args.policy}",
        f"policy.model_path={args.model!r}",
        *args.set,
    ]
    profile = load_with_overrides(default_profile_path("sim"), overrides)
    arrivals: dict[int, int] = {}
    if "actuator_bridge" in names:
        from fw_actuator_bridge.bridge_node import ActuatorBridgeNode

        on_cmd_vel = ActuatorBridgeNode._on_cmd_vel
        answered = 0

        def measured(node: Any, msg: Any) -> None:
            nonlocal answered
            arrival = time.time_ns()
            stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
            if stamp not in arrivals:  # the supervisor's ticks repeat the latest command's stamp
                arrivals[stamp] = arrival
                answered += is_scan_stamp(stamp)
                if answered == LIVE_AFTER and is_scan_stamp(stamp):
                    print(LIVE, flush=True)
            on_cmd_vel(node, msg)

        # Before the nodes exist: the subscription binds the method when the bridge is made.
        ActuatorBridgeNode._on_cmd_vel = measured  # type: ignore[method-assign]
    code = run_node(lambda: create_robot_nodes(profile, names))
    if "actuator_bridge" in names:
        Path(args.out).write_text(json.dumps(list(arrivals.items())))
    return code


def _driver_child(args: argparse.Namespace) -> int:
    """The robot's sensors: scan, odometry with the safety heartbeat, IMU and a latched goal;
    every scan's stamp is written to ``args.out`` on shutdown."""
    from builtin_interfaces.msg import Time
    from geometry_msgs.msg import PoseStamped
    from nav_msgs.msg import Odometry
    from rclpy.node import Node
    from sensor_msgs.msg import Imu, LaserScan
    from std_msgs.msg import Bool

    from fw_common import qos, topics
    from fw_common.spin import run_node

    sent: list[int] = []

    def stamp(ns: int) -> Time:
        return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)

    def make() -> Node:
        node = Node("bench_driver", namespace="/" + args.namespace)
        scan_pub = node.create_publisher(LaserScan, topics.SCAN, qos.SENSOR)
        odom_pub = node.create_publisher(Odometry, topics.ODOM, qos.SENSOR)
        beat_pub = node.create_publisher(Bool, topics.SAFETY_HEARTBEAT, qos.SENSOR)
        imu_pub = node.create_publisher(Imu, topics.IMU, qos.SENSOR)
        goal = PoseStamped()
        goal.header.frame_id = "odom"
        goal.header.stamp = stamp(time.time_ns())
        goal.pose.position.x, goal.pose.orientation.w = 50.0, 1.0
        node.create_publisher(PoseStamped, topics.GOAL_POSE, qos.LATCHED).publish(goal)
        scan = LaserScan()
        scan.header.frame_id = "laser"
        scan.angle_min, scan.angle_increment = -np.pi, 2 * np.pi / 360
        scan.angle_max = np.pi - scan.angle_increment
        scan.range_min, scan.range_max = 0.1, 12.0
        scan.ranges = np.random.default_rng(0).uniform(1.0, 10.0, 360).astype(np.float32).tolist()
        odom = Odometry()
        odom.header.frame_id, odom.child_frame_id = "odom", "base_link"
        odom.pose.pose.orientation.w = 1.0
        imu = Imu()
        imu.header.frame_id = "imu_link"
        imu.orientation.w = 1.0
        beat = Bool(data=True)

        def tick_scan() -> None:
            ns = scan_stamp(time.time_ns())
            scan.header.stamp = stamp(ns)
            scan_pub.publish(scan)
            sent.append(ns)

        def tick_odom() -> None:
            odom.header.stamp = stamp(time.time_ns())
            odom_pub.publish(odom)
            beat_pub.publish(beat)

        def tick_imu() -> None:
            imu.header.stamp = stamp(time.time_ns())
            imu_pub.publish(imu)

        node.create_timer(1.0 / args.rate, tick_scan)
        node.create_timer(1.0 / (ODOM_RATE_HZ * SIDE_RATE_FACTOR), tick_odom)
        node.create_timer(1.0 / (IMU_RATE_HZ * SIDE_RATE_FACTOR), tick_imu)
        return node

    code = run_node(make)
    Path(args.out).write_text(json.dumps(sent))
    return code


# --- one case ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Install:
    label: str
    prefix: Path
    env: dict[str, str]
    model: str


class Case:
    """The processes of one case against one install, started together and stopped with
    SIGINT; each robot's driver and bridge report what they saw through files in ``workdir``."""

    def __init__(self, case: str, install: Install, args: argparse.Namespace, workdir: Path):
        self.workdir = workdir
        self.env = dict(install.env, ROS_DOMAIN_ID=str(next(DOMAINS)))
        self.robots = [f"robot_{i + 1}" for i in range(args.robots)] if case == "fleet" else [""]
        groups = [[n] for n in STACK] if case == "processes" else [list(STACK)]
        common = ["--rate", str(args.rate), "--policy", args.policy, "--model", install.model]
        common += [x for item in args.set for x in ("--set", item)]
        self.commands: list[tuple[list[str], Path]] = []
        for robot in self.robots:
            name = robot or "robot"
            child = [sys.executable, __file__, "--namespace", robot, *common]
            out = ["--out", str(workdir / f"{name}_driver.json")]
            driver_log = workdir / f"{name}_driver.log"
            self.commands.append(([*child, "--role", "driver", *out], driver_log))
            for nodes in groups:
                out = ["--out", str(workdir / f"{name}_bridge.json")]
                cmd = [*child, "--role", "robot", "--nodes", ",".join(nodes), *out]
                self.commands.append((cmd, workdir / f"{name}_{'+'.join(nodes)}.log"))
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self) -> None:
        for cmd, log_path in self.commands:
            with log_path.open("wb") as log:
                proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log)
            self.procs.append((proc, log_path))

    def wait_live(self, timeout_s: float) -> None:
        """Until every robot's bridge has seen its chain answer scans."""
        bridges = [log for _, log in self.commands if "actuator_bridge" in log.name]
        deadline = time.monotonic() + timeout_s
        while not all(LIVE in log.read_text(errors="replace") for log in bridges):
            dead = [log.name for proc, log in self.procs if proc.poll() is not None]
            if dead or time.monotonic() > deadline:
                why = f"{', '.join(dead)} exited" if dead else f"not live in {timeout_s:g} s"
                raise RuntimeError(f"{why}; logs:{self.tails()}")
            time.sleep(0.2)

    def stop(self) -> None:
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc, log in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                print(f"  {log.stem} did not stop on SIGINT: killed", flush=True)

    def tails(self) -> str:
        return "".join(
            f"\n--- {log.name}\n{log.read_text(errors='replace')[-1500:]}" for _, log in self.procs
        )

    def results(self, start_ns: int, end_ns: int) -> list[tuple[np.ndarray, int]]:
        """Per robot: the window's latencies (ms) and dropped commands."""
        out = []
        for robot in self.robots:
            name = robot or "robot"
            sent = json.loads((self.workdir / f"{name}_driver.json").read_text())
            pairs = json.loads((self.workdir / f"{name}_bridge.json").read_text())
            out.append(window_latencies(sent, dict(pairs), start_ns, end_ns))
        return out


def _remove_unused_shm_files() -> None:
    """Fast DDS leaves shared-memory files behind when the processes of a graph stop together,
    and every later discovery on the host slows down with them: the system tests' clean-up."""
    sys.path.insert(0, str(ROOT / "tests"))
    from support.shm import remove_unused_fastdds_files

    remove_unused_fastdds_files(min_age_s=2.0)


def run_case(
    case: str, install: Install, args: argparse.Namespace, workdir: Path
) -> list[tuple[np.ndarray, int]]:
    workdir.mkdir(parents=True)
    run = Case(case, install, args, workdir)
    try:
        run.start()
        run.wait_live(START_TIMEOUT_S)
        time.sleep(SETTLE_S)
        start_ns = time.time_ns()
        time.sleep(args.seconds)
        end_ns = time.time_ns()
        time.sleep(TAIL_S)
    finally:
        run.stop()
        _remove_unused_shm_files()
    # A node process that failed or would not stop has lost its data, and may have cost others.
    if failed := [log.name for proc, log in run.procs if proc.returncode != 0]:
        raise RuntimeError(f"{', '.join(failed)} did not exit cleanly; logs:{run.tails()}")
    return run.results(start_ns, end_ns)


# --- the run -------------------------------------------------------------------------------
def _make_install(label: str, prefix: Path, policy: str, workdir: Path) -> Install:
    env = install_env(prefix, os.environ)
    model = ""
    if policy == "onnx":
        model = str(workdir / f"{label or 'install'}_mlp.onnx")
        subprocess.run(
            [sys.executable, "-m", "fw_policy.model_file", "mlp", model, "--version", "bench"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return Install(label, prefix, env, model)


def pool(runs: Sequence[Sequence[tuple[np.ndarray, int]]]) -> tuple[Summary, list[Summary]]:
    """Repeats of one case pooled: over every robot, and per robot."""
    per_robot = [
        summarize([lat for lat, _ in robot], sum(d for _, d in robot))
        for robot in zip(*runs, strict=True)
    ]
    every = [x for run in runs for x in run]
    return summarize([lat for lat, _ in every], sum(d for _, d in every)), per_robot


def _cells(s: Summary) -> str:
    return f"{s.p50:.2f} | {s.p99:.2f} | {s.drops}/{s.sent}"


def _report(cases: Sequence[str], labels: Sequence[str], runs: Mapping[Any, Any]) -> bool:
    """The table, one column group per install, and each case's verdict; True if all met."""
    columns = ("p50 (ms)", "p99 (ms)", "drops")
    head = " | ".join(f"{label} {column}".strip() for label in labels for column in columns)
    print(f"\n| case | target | {head} | verdict |")
    print("|---" * (3 + 3 * len(labels)) + "|")
    all_met = True
    for case in cases:
        cells, robot_cells, verdicts = [], [], []
        for label in labels:
            pooled, per_robot = pool(runs[label, case])
            met = verdict(case, pooled, per_robot)
            all_met &= met
            cells.append(_cells(pooled))
            p99s = ", ".join(f"{s.p99:.2f}" for s in per_robot)
            robot_cells.append(f"— | {p99s} | {', '.join(str(s.drops) for s in per_robot)}")
            verdicts.append(f"{label} {'met' if met else 'NOT met'}".strip())
        target = f"p99 ≤ {TARGET_P99_MS[case]:g} ms, 0 drops"
        print(f"| {case} | {target} | {' | '.join(cells)} | {', '.join(verdicts)} |")
        if len(runs[labels[0], case][0]) > 1:
            print(f"| {case}, per robot | {target} | {' | '.join(robot_cells)} | |")
    return all_met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per case")
    parser.add_argument("--repeats", type=int, default=1, help="runs per case, pooled")
    parser.add_argument("--rate", type=float, default=20.0, help="scan rate (Hz)")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset")
    parser.add_argument("--robots", type=int, default=4, help="robots in the fleet case")
    parser.add_argument("--policy", default="onnx", help="the profile's policy.kind")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a sim-profile setting, as bringup --set does (repeatable)",
    )
    parser.add_argument(
        "--install",
        type=Path,
        default=ROOT / "ros2_ws" / "install",
        help="the colcon install every process runs against (default: this checkout's)",
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="PREFIX",
        help="also run every case against this install (before), interleaved with --install",
    )
    parser.add_argument(
        "--logs", type=Path, help="keep every process's log and data in this new folder"
    )
    parser.add_argument("--role", choices=("robot", "driver"), help=argparse.SUPPRESS)
    parser.add_argument("--nodes", default="", help=argparse.SUPPRESS)
    parser.add_argument("--namespace", default="", help=argparse.SUPPRESS)
    parser.add_argument("--model", default="", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "robot":
        return _robot_child(args)
    if args.role == "driver":
        return _driver_child(args)

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    if unknown := sorted(set(cases) - set(CASES)):
        parser.error(f"--cases: unknown {unknown}; known: {', '.join(CASES)}")
    prefixes = {"before": args.compare, "after": args.install} if args.compare else {}
    prefixes = prefixes or {"": args.install}
    for prefix in prefixes.values():
        if not (prefix / "setup.bash").is_file():
            parser.error(f"{prefix}: no setup.bash (not a colcon install)")
    runs: dict[tuple[str, str], list[list[tuple[np.ndarray, int]]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_latency_") as tmp:
        workdir = args.logs or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        installs = [
            _make_install(label, prefix.resolve(), args.policy, workdir)
            for label, prefix in prefixes.items()
        ]
        for install in installs:
            print(f"{install.label or 'install'}: {install.prefix}")
        print(
            f"scan → perception → policy ({args.policy}) → safety → actuator bridge; "
            f"{args.rate:g} Hz, {args.seconds:g} s per case, {args.repeats} repeat(s)",
            flush=True,
        )
        try:
            for rep in range(args.repeats):
                for case in cases:
                    # Each repeat swaps which install goes first, so that a drift in the
                    # host's load falls on both alike.
                    for install in installs if rep % 2 == 0 else installs[::-1]:
                        where = workdir / "_".join(
                            filter(None, (str(rep + 1), case, install.label))
                        )
                        robots = run_case(case, install, args, where)
                        runs.setdefault((install.label, case), []).append(robots)
                        run = f"#{rep + 1} {case} {install.label}".strip()
                        print(f"  {run}: p50 | p99 | drops = {_cells(pool([robots])[0])}")
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
        except RuntimeError as exc:  # a case that did not start: what its processes said
            print(f"bench_latency: {exc}", file=sys.stderr)
            return 1
    met = _report(cases, list(prefixes), runs)
    print(f"\ntargets: {'all met' if met else 'NOT all met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
