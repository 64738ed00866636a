"""Safety supervisor benchmark: reaction latencies and per-message cost against a relay.

A driver node in this process plays the robot and the policy: 360-beam scans at 20 Hz, odometry
at 50 Hz, IMU at 100 Hz and policy commands (``fw/cmd_vel_raw``, stamped with the system clock)
at 20 Hz; it listens to ``cmd_vel``. The node under test runs in its own process:

* ``safety``: the real ``fw_safety`` node with its default profile section;
* ``relay``: a pass-through node that subscribes to the same topics (scan, odom, imu, command)
  and republishes each command on ``cmd_vel`` unchanged, doing nothing else.

Measured, in one run:

1. **per-message cost**: command latency (stamp → ``cmd_vel`` arrival, matched by stamp) p50/p99
   and the node process's CPU time per command, for safety and relay; the ratio is the figure;
2. **e-stop → zero**: ``fw/estop`` publish → first zero ``cmd_vel`` (then release + reset);
3. **obstacle → zero**: a scan with a wall 0.6 m ahead of base_link (inside the stop zone) →
   first zero ``cmd_vel``;
4. **stale scan**: last scan published → first zero ``cmd_vel``, against timeout + one period.

Run it (holding the shared benchmark lock) from the repository root::

    . .venv/bin/activate && cd ros2_ws && . install/setup.bash && cd ..
    export AMENT_PREFIX_PATH=$PWD/ros2_ws/install
    flock /tmp/fw-bench.lock python bench/bench_safety.py --seconds 20

Targets: e-stop → zero p99 < 5 ms; stale scan detected within timeout + one control period;
safety cost ≤ 1.5 × relay.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("ROS_DOMAIN_ID", "38")
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"

RELAY = """
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from rclpy.node import Node
from sensor_msgs.msg import Imu, LaserScan
from fw_common import qos, topics
from fw_common.spin import run_node

class Relay(Node):
    def __init__(self):
        super().__init__("relay")
        pub = self.create_publisher(TwistStamped, topics.CMD_VEL, qos.COMMAND)
        self.create_subscription(TwistStamped, topics.CMD_VEL_RAW, pub.publish, qos.COMMAND)
        for t, n in ((LaserScan, topics.SCAN), (Odometry, topics.ODOM), (Imu, topics.IMU)):
            self.create_subscription(t, n, lambda _m: None, qos.SENSOR)

raise SystemExit(run_node(Relay))
"""

STOP_ZONE_WALL_M = 0.6  # from base_link: inside the default stop zone (front 0.495 + 0.3)
LASER_X = 0.2  # default robot.laser.x


def wall_ranges(distance: float | None) -> list[float]:
    angles = -math.pi + 2 * math.pi / 360 * np.arange(360)
    ranges = np.full(360, np.inf)
    if distance is not None:
        with np.errstate(divide="ignore"):
            r = (distance - LASER_X) / np.cos(angles)
        hit = (np.cos(angles) > 0) & (np.abs(r * np.sin(angles)) <= 1.0)
        ranges[hit] = r[hit]
    return ranges.astype(np.float32).tolist()


class Driver:
    """Publishes sensors and commands from threads; records cmd_vel arrivals."""

    def __init__(self) -> None:
        import rclpy
        from geometry_msgs.msg import TwistStamped
        from nav_msgs.msg import Odometry
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node
        from sensor_msgs.msg import Imu, LaserScan
        from std_msgs.msg import Bool

        from fw_common import qos, topics

        rclpy.init()
        self.node = Node("bench_safety_driver")
        self.lock = threading.Lock()
        self.arrivals: list[tuple[int, int, float]] = []  # (arrival ns, stamp ns, linear)
        self.node.create_subscription(TwistStamped, topics.CMD_VEL, self._on_cmd, qos.COMMAND)
        self.cmd_pub = self.node.create_publisher(TwistStamped, topics.CMD_VEL_RAW, qos.COMMAND)
        self.scan_pub = self.node.create_publisher(LaserScan, topics.SCAN, qos.SENSOR)
        self.odom_pub = self.node.create_publisher(Odometry, topics.ODOM, qos.SENSOR)
        self.imu_pub = self.node.create_publisher(Imu, topics.IMU, qos.SENSOR)
        self.estop_pub = self.node.create_publisher(Bool, topics.ESTOP, qos.LATCHED)
        self.Bool, self.TwistStamped = Bool, TwistStamped
        self.scan = LaserScan()
        self.scan.angle_min = -math.pi
        self.scan.angle_increment = 2 * math.pi / 360
        self.scan.angle_max = self.scan.angle_min + self.scan.angle_increment * 359
        self.scan.range_min, self.scan.range_max = 0.1, 12.0
        self.free = wall_ranges(None)
        self.wall = wall_ranges(STOP_ZONE_WALL_M)
        self.obstacle = False
        self.scans_on = True
        self.commands_sent = 0
        self.odom, self.imu = Odometry(), Imu()
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._spin, daemon=True),
            threading.Thread(target=self._loop, args=(20.0, self._tick_20), daemon=True),
            threading.Thread(target=self._loop, args=(100.0, self._tick_100), daemon=True),
        ]
        for t in self.threads:
            t.start()

    def now_ns(self) -> int:
        return time.time_ns()

    def _on_cmd(self, msg: Any) -> None:
        arrival = self.now_ns()
        stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        with self.lock:
            self.arrivals.append((arrival, stamp, msg.twist.linear.x))

    def _spin(self) -> None:
        while not self.stop.is_set():
            self.executor.spin_once(timeout_sec=0.05)

    def _loop(self, rate: float, tick: Any) -> None:
        period = 1.0 / rate
        next_t = time.monotonic()
        while not self.stop.is_set():
            tick()
            next_t += period
            time.sleep(max(0.0, next_t - time.monotonic()))

    def publish_scan(self) -> int:
        self.scan.ranges = self.wall if self.obstacle else self.free
        t = self.now_ns()
        self.scan.header.stamp.sec, self.scan.header.stamp.nanosec = divmod(t, 1_000_000_000)
        self.scan_pub.publish(self.scan)
        return t

    def _tick_20(self) -> None:
        if self.scans_on:
            self.publish_scan()
        msg = self.TwistStamped()
        msg.header.frame_id = "base_link"
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(self.now_ns(), 1_000_000_000)
        msg.twist.linear.x = 0.3
        self.cmd_pub.publish(msg)
        self.commands_sent += 1

    def _tick_100(self) -> None:
        self.odom.pose.pose.orientation.w = 1.0
        self.imu.orientation.w = 1.0
        self.imu_pub.publish(self.imu)
        self.odom_pub.publish(self.odom)

    def first_zero_after(self, t_ns: int, timeout: float = 2.0) -> float | None:
        """Seconds from ``t_ns`` to the first zero-linear cmd_vel arriving after it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [a for a, _s, lin in self.arrivals if a >= t_ns and lin == 0.0]
            if found:
                return (found[0] - t_ns) / 1e9
            time.sleep(0.001)
        return None

    def wait_moving(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.arrivals and self.arrivals[-1][2] > 0.25:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        import rclpy

        self.stop.set()
        for t in self.threads:
            t.join(timeout=2)
        self.node.destroy_node()
        rclpy.try_shutdown()


def start(kind: str) -> subprocess.Popen[bytes]:
    if kind == "relay":
        args = [sys.executable, "-c", RELAY]
    else:
        prefix = os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep)[0]
        args = [str(Path(prefix) / "lib" / "fw_safety" / "safety")]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def command_latency(driver: Driver, since_ns: int) -> np.ndarray:
    """Stamp → first arrival of each command (later outputs repeat the stamp: the steady
    control-rate stream carries the last command's stamp)."""
    first: dict[int, int] = {}
    with driver.lock:
        for arrival, stamp, linear in driver.arrivals:
            if arrival >= since_ns and linear > 0.25 and stamp not in first:
                first[stamp] = arrival
    return np.asarray([(a - s) / 1e6 for s, a in first.items()])


def measure_cost(
    driver: Driver, kind: str, seconds: float
) -> tuple[dict[str, float], subprocess.Popen[bytes]]:
    proc = start(kind)
    ps = psutil.Process(proc.pid)
    try:
        assert driver.wait_moving(30.0), f"{kind}: no command came through"
        time.sleep(2.0)  # warm-up
        cpu0, sent0, t0 = ps.cpu_times(), driver.commands_sent, driver.now_ns()
        time.sleep(seconds)
        cpu1, sent1 = ps.cpu_times(), driver.commands_sent
        latency = command_latency(driver, t0)
        cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
        return {
            "p50_ms": float(np.percentile(latency, 50)),
            "p99_ms": float(np.percentile(latency, 99)),
            "cpu_ms_per_cmd": cpu * 1e3 / max(sent1 - sent0, 1),
            "cpu_percent": 100.0 * cpu / seconds,
        }, proc
    except BaseException:
        proc.terminate()
        raise


def reactions(driver: Driver, repeats: int) -> dict[str, list[float]]:
    from std_srvs.srv import Trigger

    from fw_common import topics

    client = driver.node.create_client(Trigger, topics.SAFETY_RESET)
    assert client.wait_for_service(timeout_sec=10)
    out: dict[str, list[float]] = {"estop": [], "obstacle": [], "stale": []}
    for _ in range(repeats):
        assert driver.wait_moving()
        time.sleep(0.1 + 0.05 * np.random.rand())
        t = driver.now_ns()
        driver.estop_pub.publish(driver.Bool(data=True))
        out["estop"].append(driver.first_zero_after(t) or math.nan)
        driver.estop_pub.publish(driver.Bool(data=False))
        time.sleep(0.05)
        for _attempt in range(5):
            future = client.call_async(Trigger.Request())
            deadline = time.monotonic() + 2
            while not future.done() and time.monotonic() < deadline:
                time.sleep(0.005)
            if future.done() and future.result().success:
                break
    for _ in range(repeats):
        assert driver.wait_moving()
        time.sleep(0.1 + 0.05 * np.random.rand())
        driver.scans_on = False
        time.sleep(0.06)
        driver.obstacle = True
        t = driver.publish_scan()
        out["obstacle"].append(driver.first_zero_after(t) or math.nan)
        driver.obstacle = False
        driver.scans_on = True
    for _ in range(max(3, repeats // 6)):
        assert driver.wait_moving()
        driver.scans_on = False
        time.sleep(0.06)
        t = driver.publish_scan()  # the last scan
        out["stale"].append(driver.first_zero_after(t, timeout=3.0) or math.nan)
        driver.scans_on = True
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="cost window per node")
    parser.add_argument("--repeats", type=int, default=30, help="reaction measurements")
    args = parser.parse_args()
    from fw_common.profile import SafetyConfig

    defaults = SafetyConfig()
    driver = Driver()
    results: dict[str, Any] = {}
    try:
        for kind in ("relay", "safety"):
            results[kind], proc = measure_cost(driver, kind, args.seconds)
            if kind == "safety":
                results["reactions"] = reactions(driver, args.repeats)
            proc.terminate()
            proc.wait(timeout=15)
    finally:
        driver.close()

    relay, safety = results["relay"], results["safety"]
    print(f"host: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; 360-beam scans at 20 Hz")
    print(f"{'node':8} {'cmd p50 ms':>11} {'cmd p99 ms':>11} {'CPU ms/cmd':>11} {'CPU %':>7}")
    for kind in ("relay", "safety"):
        r = results[kind]
        print(
            f"{kind:8} {r['p50_ms']:11.2f} {r['p99_ms']:11.2f} "
            f"{r['cpu_ms_per_cmd']:11.3f} {r['cpu_percent']:7.1f}"
        )
    print(
        f"ratio safety/relay: latency p50 {safety['p50_ms'] / relay['p50_ms']:.2f}x, "
        f"p99 {safety['p99_ms'] / relay['p99_ms']:.2f}x, "
        f"CPU per command {safety['cpu_ms_per_cmd'] / relay['cpu_ms_per_cmd']:.2f}x "
        "(target <= 1.5x)"
    )
    stale_limit = defaults.watchdogs.scan_timeout + 1.0 / defaults.control_rate
    for name, values in results["reactions"].items():
        v = np.asarray(values) * 1e3
        ok = v[np.isfinite(v)]
        print(
            f"{name:9} -> zero: p50 {np.percentile(ok, 50):7.2f} ms  "
            f"p99 {np.percentile(ok, 99):7.2f} ms  max {ok.max():7.2f} ms  "
            f"missed {int(np.sum(~np.isfinite(v)))}/{len(v)}"
        )
    print(f"targets: estop p99 < 5 ms; stale <= timeout + period = {stale_limit * 1e3:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
