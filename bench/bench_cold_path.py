"""The control path's cores run cold: each stage's cost as the first call after a scan period.

The stack's chain runs once per scan (50 ms at 20 Hz). On a shared host the caches are cold by
then, and the first call into any code runs many times slower than the same call in a loop.
This runs the cores that sit between a scan and its command (perception's ``ScanCleaner``, the
observation spec's ``featurize``, onnxruntime through ``fw_policy``'s loader, the safety
supervisor's ``command`` + ``step``), with the sim profile's settings, on a 360-beam scan:

* ``cold``: one pass after ``time.sleep(period)``, as the robot meets it;
* ``warm``: the same pass repeated back to back (the baseline, same run).

The supervisor's per-scan work (``scan``: projection, zone preparation) runs before each pass
and is not timed, as it runs when the scan arrives, off the command's path.

Run it (holding the shared benchmark lock) from the repository root::

    . .venv/bin/activate && cd ros2_ws && . install/setup.bash && cd ..
    flock /tmp/fw-bench.lock python bench/bench_cold_path.py

A second table times the messages: the control path's own (the 360-beam scan, the commands)
and the side traffic (odometry at 50 Hz, IMU at 100 Hz, the fused state and goal), which runs
on the same executors as the scans and delays a scan that lands behind it. For each, rclpy's
conversion (``deserialize_message`` / ``serialize_message``, the work of a typed
subscription's take and of a publish) against what the nodes do instead
(``fw_common.cdr_fields`` reads from the raw bytes, ``SerializedTemplate`` writes), and
onnxruntime's plain ``InferenceSession.run`` against ``fw_policy``'s bound run, each as the
first call after a sleep.

A third table runs the whole chain after pauses of a few lengths (``--gaps``), sleeping and
busy-waiting: if only the sleeps made it slow, the CPU's idle states would be the cause; if a
busy-wait does too, the host's other work evicts the chain from the caches meanwhile.

No target: a diagnostic for bench_latency.py (docs/BENCHMARKS.md, "Control latency").
"""

from __future__ import annotations

import argparse
import array
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from geometry_msgs.msg import PoseStamped, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Imu, LaserScan

from fw_bringup.node_parameters import default_profile_path
from fw_common.cdr_fields import (
    read_imu,
    read_laser_scan,
    read_odometry,
    read_pose_stamped,
    read_twist_stamped,
)
from fw_common.observation import DEFAULT_SPEC
from fw_common.profile import load_profile
from fw_common.serialized_template import SerializedTemplate
from fw_common.twist_out import TwistStampedOut
from fw_perception.scan_filter import ScanCleaner
from fw_perception.scan_out import CleanedScanOut
from fw_policy.model_file import main as make_model
from fw_policy.onnx_model import load_model
from fw_safety.supervisor import POLICY, SafetySupervisor

BEAMS = 360
ANGLE_MIN, INCREMENT = -np.pi, 2 * np.pi / BEAMS


class ControlPath:
    """The cores between a scan and its command, with a clock for each stage."""

    def __init__(self, model_path: str) -> None:
        profile = load_profile(default_profile_path("sim"))
        self.cleaner = ScanCleaner.from_config(profile.perception)
        self.model = load_model(model_path, DEFAULT_SPEC)
        self.supervisor = SafetySupervisor(profile.safety)
        rng = np.random.default_rng(0)
        # As the nodes get them: a float32 view of the received bytes (cdr_fields).
        self.ranges = rng.uniform(1.0, 10.0, BEAMS).astype(np.float32)
        self.ranges.flags.writeable = False
        self.now_ns = 1_000_000_000
        self.stages: dict[str, list[float]] = {}

    def _timed(self, stage: str, call: Callable[..., Any], *args: Any) -> Any:
        start = time.perf_counter_ns()
        result = call(*args)
        self.stages.setdefault(stage, []).append((time.perf_counter_ns() - start) / 1e3)
        return result

    def arrive(self, period_ns: int) -> None:
        """Inputs of the next scan period (not timed: they run before the scan's chain)."""
        self.now_ns += period_ns
        now, sup = self.now_ns, self.supervisor
        sup.odometry(0.0, 0.0, now)
        sup.imu(0.0, 0.0, 0.0, 1.0, now)
        sup.heartbeat(True, now)
        sup.scan(ANGLE_MIN, np.pi - INCREMENT, INCREMENT, 0.1, 12.0, self.ranges, now)

    def run(self) -> float:
        """One scan's chain; returns its total time (µs)."""
        start = time.perf_counter_ns()
        cleaned = self._timed(
            "perception: clean", self.cleaner.clean, self.ranges, ANGLE_MIN, INCREMENT, 0.1, 12.0
        )
        obs = self._timed(
            "policy: featurize",
            DEFAULT_SPEC.featurize,
            cleaned.ranges,
            ANGLE_MIN,
            INCREMENT,
            (5.0, 1.0),
            0.3,
            0.1,
        )
        self._timed("policy: onnxruntime", self.model.run, obs)
        now = self.now_ns
        self._timed(
            "safety: command", self.supervisor.command, POLICY, 0.5, 0.2, "base_link", now, now
        )
        self._timed("safety: step", self.supervisor.step, now)
        return (time.perf_counter_ns() - start) / 1e3


def _busy_wait(seconds: float) -> None:
    """Keep this thread on the CPU for ``seconds`` (the CPU never idles, so no sleep state)."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


def _measure(
    path: ControlPath, passes: int, sleep_s: float, busy: bool = False
) -> dict[str, np.ndarray]:
    path.stages.clear()
    totals = []
    period_ns = int(0.05 * 1e9)
    for _ in range(passes):
        path.arrive(period_ns)
        if sleep_s > 0:
            (_busy_wait if busy else time.sleep)(sleep_s)
        totals.append(path.run())
    out = {stage: np.asarray(v) for stage, v in path.stages.items()}
    out["whole chain"] = np.asarray(totals)
    return out


_STAMP = ("header.stamp.sec", "header.stamp.nanosec")
_POSE = tuple(f"pose.pose.position.{a}" for a in "xyz") + tuple(
    f"pose.pose.orientation.{a}" for a in "xyzw"
)


def _control_messages(model: Any) -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    """(what, the default way, the nodes' way) for the scan, the commands and the inference."""
    rng = np.random.default_rng(1)
    scan = LaserScan()
    scan.header.frame_id = "laser"
    scan.angle_min, scan.angle_increment = ANGLE_MIN, INCREMENT
    scan.angle_max = np.pi - INCREMENT
    scan.range_min, scan.range_max = 0.1, 12.0
    scan.ranges = rng.uniform(1.0, 10.0, BEAMS).astype(np.float32).tolist()
    scan_bytes = serialize_message(scan)
    fields = read_laser_scan(scan_bytes)
    cleaned = rng.uniform(1.0, 10.0, BEAMS).astype(np.float32)
    scan_out = CleanedScanOut()
    twist = TwistStamped()
    twist.header.frame_id = "base_link"
    twist_bytes = serialize_message(twist)
    twist_out = TwistStampedOut("base_link")
    obs = np.full(DEFAULT_SPEC.size, 0.5, dtype=np.float32)

    def take_scan_rclpy() -> Any:  # a typed take, then the array the cleaner needs
        return np.array(deserialize_message(scan_bytes, LaserScan).ranges, dtype=np.float32)

    def publish_scan_rclpy() -> bytes:
        out = scan_out.message
        out.header.stamp.sec = 3
        out.ranges = array.array("f", cleaned.tobytes())
        return serialize_message(out)

    def publish_twist_rclpy() -> bytes:
        twist.header.stamp.sec, twist.twist.linear.x, twist.twist.angular.z = 3, 0.4, 0.1
        return serialize_message(twist)

    def plain_session_run() -> Any:
        return model.session.run(["action"], {"observation": obs.reshape(1, -1)})[0]

    return [
        ("take LaserScan (360 beams)", take_scan_rclpy, lambda: read_laser_scan(scan_bytes)),
        (
            "publish LaserScan (360 beams)",
            publish_scan_rclpy,
            lambda: scan_out.serialized(fields, cleaned, 0.15, 10.0),
        ),
        (
            "take TwistStamped",
            lambda: deserialize_message(twist_bytes, TwistStamped),
            lambda: read_twist_stamped(twist_bytes),
        ),
        ("publish TwistStamped", publish_twist_rclpy, lambda: twist_out.serialized(3, 0.4, 0.1)),
        ("onnxruntime: session.run / bound run", plain_session_run, lambda: model.run(obs)),
    ]


def _side_traffic() -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    """(message, rclpy's conversion, the nodes' replacement) for each side-traffic message."""
    odom = Odometry()
    odom.header.frame_id, odom.child_frame_id = "odom", "base_link"
    odom.pose.pose.orientation.w = 1.0
    imu = Imu()
    imu.header.frame_id = "imu_link"
    imu.orientation.w = 1.0
    goal = PoseStamped()
    goal.header.frame_id = "base_link"
    odom_bytes, imu_bytes = serialize_message(odom), serialize_message(imu)
    goal_bytes = serialize_message(goal)
    state = SerializedTemplate(odom, {"stamp": _STAMP, "pose": _POSE})
    write_stamp, write_pose = state.write["stamp"], state.write["pose"]

    def publish_state_rclpy() -> bytes:
        odom.header.stamp.sec, odom.header.stamp.nanosec = 1, 2
        odom.pose.pose.position.x, odom.pose.pose.position.y = 0.5, 0.25
        return serialize_message(odom)

    def publish_state_template() -> bytes:
        write_stamp(1, 2)
        write_pose(0.5, 0.25, 0.0, 0.0, 0.0, 0.0, 1.0)
        return state.data()

    return [
        (
            "take Odometry",
            lambda: deserialize_message(odom_bytes, Odometry),
            lambda: read_odometry(odom_bytes),
        ),
        ("take Imu", lambda: deserialize_message(imu_bytes, Imu), lambda: read_imu(imu_bytes)),
        (
            "take PoseStamped",
            lambda: deserialize_message(goal_bytes, PoseStamped),
            lambda: read_pose_stamped(goal_bytes),
        ),
        ("publish Odometry", publish_state_rclpy, publish_state_template),
    ]


def _measure_ways(
    ways: list[tuple[str, Callable[[], Any], Callable[[], Any]]], passes: int, sleep_s: float
) -> list[tuple[str, float, float, float, float]]:
    """Per row: cold p50 of the default way and of the nodes', and their warm p50s."""
    rows = []
    for name, rclpy_way, our_way in ways:
        times: dict[tuple[int, bool], list[float]] = {}
        for _ in range(passes):
            for k, call in enumerate((rclpy_way, our_way)):
                for cold in (True, False):
                    if cold:
                        time.sleep(sleep_s)
                    start = time.perf_counter_ns()
                    call()
                    times.setdefault((k, cold), []).append((time.perf_counter_ns() - start) / 1e3)
        p50 = {key: float(np.median(v[passes // 10 :])) for key, v in times.items()}
        rows.append((name, p50[(0, True)], p50[(1, True)], p50[(0, False)], p50[(1, False)]))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passes", type=int, default=300, help="timed passes per case")
    parser.add_argument("--period", type=float, default=0.05, help="sleep before a cold pass (s)")
    parser.add_argument(
        "--gaps",
        default="0.001,0.003,0.01,0.05",
        help="comma-separated pauses (s) for the gap table; empty skips it",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = str(Path(tmp) / "mlp.onnx")
        make_model(["mlp", model, "--version", "bench"])
        path = ControlPath(model)
        _measure(path, 50, 0.0)  # first-use allocations and caches out of the way
        rounds = 3
        cold: dict[str, list[np.ndarray]] = {}
        warm: dict[str, list[np.ndarray]] = {}
        for _ in range(rounds):  # interleaved, so load hits both alike
            for store, sleep_s in ((cold, args.period), (warm, 0.0)):
                for stage, times in _measure(path, args.passes // rounds, sleep_s).items():
                    store.setdefault(stage, []).append(times)
    print(f"first call after a {args.period * 1e3:g} ms sleep (cold) against back to back (warm)")
    print("| stage | cold p50 (µs) | cold p99 (µs) | warm p50 (µs) | cold / warm (p50) |")
    print("|---|---|---|---|---|")
    for stage in cold:
        c, w = np.concatenate(cold[stage]), np.concatenate(warm[stage])
        c50, w50 = float(np.median(c)), float(np.median(w))
        print(
            f"| {stage} | {c50:.1f} | {float(np.percentile(c, 99)):.1f} | {w50:.1f} | "
            f"{c50 / w50:.1f}× |"
        )
    print()
    print("messages: rclpy's conversion (onnxruntime's plain run) against the nodes' (p50, µs)")
    print("| message | default cold | nodes cold | default warm | nodes warm | cold ratio |")
    print("|---|---|---|---|---|---|")
    ways = _control_messages(path.model) + _side_traffic()
    for name, rc, oc, rw, ow in _measure_ways(ways, args.passes // 3, args.period):
        print(f"| {name} | {rc:.1f} | {oc:.1f} | {rw:.1f} | {ow:.1f} | {rc / oc:.1f}× |")
    gaps = [float(g) for g in args.gaps.split(",") if g.strip()]
    if gaps:
        _print_gap_table(path, gaps, args.passes // 3)
    return 0


def _print_gap_table(path: ControlPath, gaps: list[float], passes: int) -> None:
    """The whole chain after a pause, sleeping or busy-waiting, against back to back: whether
    the cold cost comes from the CPU idling (only the sleeps would pay it) or from the caches
    losing the chain's code and data while other work runs on the host (both would)."""
    back_to_back = float(np.median(_measure(path, passes, 0.0)["whole chain"]))
    print()
    print(f"the whole chain after a pause (p50, µs; back to back {back_to_back:.0f} µs)")
    print("| pause (ms) | sleeping | busy-waiting | busy-waiting / back to back |")
    print("|---|---|---|---|")
    for gap in gaps:
        slept = float(np.median(_measure(path, passes, gap)["whole chain"]))
        busy = float(np.median(_measure(path, passes, gap, busy=True)["whole chain"]))
        print(f"| {gap * 1e3:g} | {slept:.0f} | {busy:.0f} | {busy / back_to_back:.1f}× |")


if __name__ == "__main__":
    raise SystemExit(main())
