"""Fleet soak benchmark: N simulated robots on missions on this host, and what overload costs.

Each robot is the real bringup (simulator, perception, the ``classic`` policy, safety, the
actuator bridge, the recorder and the mission node) in its own process and namespace, driving a
long list of its own scenario seeds with the expert labelling (``sim.supervisor.mode: label``)
and one recorded episode per scenario, at ``--rtf`` times real time, for ``--duration`` seconds.
A probe node in this process listens to every robot's ``fw/safety/events`` and
``fw/recorder/status``; the robots' logs give the actuator bridge's command watchdog.

Reported per phase, counted from each robot's first episode on (start-up is not a soak):

* **safety stops caused by overload** (target 0): the watchdogs (``stale_scan``, ``stale_odom``,
  ``stale_imu``), a driving source gone stale while moving (``stale_command``: with the expert
  only labelling nobody hands back, so it is the policy falling behind), and the bridge's own
  command timeouts (``no cmd_vel ... wheels -> 0``): each means a process did not keep up.
  Obstacle stops (``stop_zone``, ``slowdown_zone``, ``approach``) are the layer doing its job
  and are reported beside them, not counted;
* **messages lost by the recorders** (target 0): the recorders' own ``lost`` counters
  (``fw/recorder/status``, by reason);
* episodes finished and goals reached, for context.

The baseline, measured in the same run first: the same with one robot (``--baseline-duration``,
default the same duration). Run it (holding the shared benchmark lock) from the repository root::

    . .venv/bin/activate && cd ros2_ws && . install/setup.bash && cd ..
    export AMENT_PREFIX_PATH=$PWD/ros2_ws/install
    flock /tmp/fw-bench.lock python bench/bench_fleet_soak.py                # 4 robots, 600 s
    flock /tmp/fw-bench.lock python bench/bench_fleet_soak.py --robots 2 --duration 60
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("ROS_DOMAIN_ID", "37")
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"

#: Safety events that mean a process did not keep up (see the module docstring).
OVERLOAD_EVENTS = ("stale_scan", "stale_odom", "stale_imu", "stale_command")
#: Safety events that are the layer keeping the robot off obstacles.
OBSTACLE_EVENTS = ("stop_zone", "slowdown_zone", "approach")
#: The actuator bridge's command watchdog, as it logs it (it publishes no event).
BRIDGE_TIMEOUT = re.compile(r"^\[WARN\] \[(\d+\.\d+)\] \[[^\]]*actuator_bridge\]: no cmd_vel for")
#: Seeds a robot is given: more than any duration drives (an episode takes several seconds).
SEEDS_PER_ROBOT = 400


@dataclass
class RobotRun:
    """One robot process and what was seen of it."""

    robot_id: str
    process: subprocess.Popen[bytes]
    log_path: Path
    mission_log: Path
    #: (wall time, kind) of every safety event.
    events: list[tuple[float, str]] = field(default_factory=list)
    #: The recorder's latest counters (cumulative).
    recorder: dict[str, str] = field(default_factory=dict)


class Probe:
    """An rclpy node that listens to every robot's safety events and recorder status."""

    def __init__(self, robots: list[RobotRun]) -> None:
        import rclpy
        from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus

        from fw_common import qos, topics

        rclpy.init()
        self._rclpy = rclpy
        self.node = rclpy.create_node("fleet_soak_probe")
        for robot in robots:
            ns = f"/{robot.robot_id}/"
            self.node.create_subscription(
                DiagnosticStatus, ns + topics.SAFETY_EVENTS, self._on_event(robot), qos.EVENT
            )
            self.node.create_subscription(
                DiagnosticArray, ns + topics.RECORDER_STATUS, self._on_status(robot), qos.STATUS
            )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    @staticmethod
    def _on_event(robot: RobotRun) -> Any:
        def on_event(msg: Any) -> None:
            kind = next((kv.value for kv in msg.values if kv.key == "kind"), msg.name)
            robot.events.append((time.time(), kind))

        return on_event

    @staticmethod
    def _on_status(robot: RobotRun) -> Any:
        def on_status(msg: Any) -> None:
            for status in msg.status:
                robot.recorder = {kv.key: kv.value for kv in status.values}

        return on_status

    def _spin(self) -> None:
        while not self._stop.is_set():
            self._rclpy.spin_once(self.node, timeout_sec=0.05)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.node.destroy_node()
        self._rclpy.try_shutdown()


def _start_robot(index: int, out: Path, rtf: float, time_limit: float) -> RobotRun:
    robot_id = f"soak_{index}"
    folder = out / robot_id
    folder.mkdir(parents=True, exist_ok=True)
    first = index * 10_000
    seeds = list(range(first, first + SEEDS_PER_ROBOT))
    args = [
        sys.executable, "-m", "fw_bringup.main", "--profile", "sim",
        "--namespace", robot_id, "--robot-id", robot_id, "--seed", str(first),
        "--set", f"sim.real_time_factor={rtf}",
        "--set", f"recorder.spool_dir={folder / 'spool'}",
        "--set", f"mission.seeds={json.dumps(seeds)}",
        "--set", f"mission.log_path={folder / 'mission.jsonl'}",
        "--set", f"mission.time_limit={time_limit}",
    ]  # fmt: skip
    log_path = folder / "robot.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    return RobotRun(robot_id, process, log_path, folder / "mission.jsonl")


def _mission_lines(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    return lines


def _bridge_timeouts(log_path: Path, since: float) -> int:
    count = 0
    for line in log_path.read_text(errors="replace").splitlines():
        match = BRIDGE_TIMEOUT.match(line)
        if match and float(match.group(1)) >= since:
            count += 1
    return count


def run_phase(
    robots: int, duration: float, rtf: float, time_limit: float, out: Path
) -> dict[str, Any]:
    """Start ``robots`` robots, soak for ``duration`` s from the first episode of the last to
    start, stop them; the counts (see the module docstring)."""
    out.mkdir(parents=True, exist_ok=True)
    runs = [_start_robot(i, out, rtf, time_limit) for i in range(1, robots + 1)]
    probe = Probe(runs)
    try:
        # The soak starts once every robot is driving (its first episode opened).
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            opened = [
                "open requested episode" in r.log_path.read_text(errors="replace") for r in runs
            ]
            if all(opened):
                break
            for r in runs:
                if r.process.poll() is not None:
                    raise RuntimeError(f"{r.robot_id} died: see {r.log_path}")
            time.sleep(0.5)
        else:
            raise RuntimeError(f"the robots did not start driving within 180 s: see {out}")
        start = time.time()
        print(f"[soak] {robots} robot(s) driving; soaking {duration:.0f} s", flush=True)
        time.sleep(duration)
        end = time.time()
        recorders = {r.robot_id: dict(r.recorder) for r in runs}
    finally:
        for r in runs:
            if r.process.poll() is None:
                r.process.send_signal(signal.SIGINT)
        for r in runs:
            try:
                r.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(r.process.pid, signal.SIGKILL)
                r.process.wait()
        probe.close()

    overload: Counter[str] = Counter()
    obstacle: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    episodes = reached = 0
    per_robot = {}
    for r in runs:
        kinds = Counter(k for t, k in r.events if start <= t <= end)
        robot_overload = {k: kinds[k] for k in OVERLOAD_EVENTS if kinds[k]}
        bridge = _bridge_timeouts(r.log_path, start)
        if bridge:
            robot_overload["bridge_command_timeout"] = bridge
        overload.update(robot_overload)
        obstacle.update({k: kinds[k] for k in OBSTACLE_EVENTS if kinds[k]})
        status = recorders[r.robot_id]
        robot_lost = {
            k.removeprefix("lost."): int(v)
            for k, v in status.items()
            if k.startswith("lost.") and v.isdigit() and int(v)
        }
        lost.update(robot_lost)
        lines = [e for e in _mission_lines(r.mission_log) if "seed" in e]
        episodes += len(lines)
        reached += sum(1 for e in lines if e.get("reached"))
        per_robot[r.robot_id] = {
            "overload": robot_overload,
            "recorder_lost": robot_lost,
            "recorder_written": int(status.get("written", "0") or 0),
            "episodes": len(lines),
            # Every event the probe saw, start-up included: proof that it was listening.
            "events_seen": len(r.events),
        }
    return {
        "robots": robots,
        "duration_s": round(end - start, 1),
        "rtf": rtf,
        "overload_stops": sum(overload.values()),
        "overload_by_kind": dict(overload),
        "obstacle_stops_by_kind": dict(obstacle),
        "recorder_lost": sum(lost.values()),
        "recorder_lost_by_reason": dict(lost),
        "episodes": episodes,
        "reached": reached,
        "per_robot": per_robot,
    }


def _line(name: str, phase: dict[str, Any]) -> str:
    return (
        f"{name:<10} {phase['robots']:>2} robot(s) {phase['duration_s']:>6.0f} s  "
        f"overload stops {phase['overload_stops']:>4} {phase['overload_by_kind'] or ''}  "
        f"recorder lost {phase['recorder_lost']:>5} {phase['recorder_lost_by_reason'] or ''}  "
        f"obstacle stops {sum(phase['obstacle_stops_by_kind'].values()):>4}  "
        f"episodes {phase['episodes']} ({phase['reached']} reached)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--robots", type=int, default=4, help="robots of the soak (default 4)")
    parser.add_argument("--duration", type=float, default=600.0, help="soak seconds (600)")
    parser.add_argument(
        "--baseline-duration", type=float, help="seconds of the 1-robot baseline (default: same)"
    )
    parser.add_argument("--rtf", type=float, default=1.0, help="sim real-time factor (1)")
    parser.add_argument("--time-limit", type=float, default=40.0, help="sim s per episode (40)")
    parser.add_argument("--out", type=Path, help="folder for logs, spools and results")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="fw-bench-soak-"))
    baseline = run_phase(
        1, args.baseline_duration or args.duration, args.rtf, args.time_limit, out / "baseline"
    )
    print(_line("baseline", baseline), flush=True)
    soak = run_phase(args.robots, args.duration, args.rtf, args.time_limit, out / "soak")
    print(_line("soak", soak), flush=True)
    (out / "results.json").write_text(json.dumps({"baseline": baseline, "soak": soak}, indent=2))
    met = soak["overload_stops"] == 0 and soak["recorder_lost"] == 0
    print(
        f"targets (0 overload stops, 0 messages lost) with {args.robots} robots: "
        f"{'met' if met else 'NOT met'}; details in {out / 'results.json'}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
