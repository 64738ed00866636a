"""Benchmark the simulator's real-time factor against bare PyBullet on the same world.

Three levels, for 1 and 4 robots, in one run:

* ``bare``: ``stepSimulation`` plus one 360-ray ``rayTestBatch`` per 0.1 s of sim time on the
  very bodies a :class:`SimWorld` loaded (the floor the simulator cannot beat);
* ``core``: :class:`fw_sim.world.SimWorld` stepping and reading every due sensor (scan 10 Hz,
  IMU 100 Hz, joint states 50 Hz, ground truth 50 Hz), commanded at 20 Hz;
* ``node``: the ``sim_node`` executable at ``real_time_factor:=0`` publishing everything,
  commanded at 20 Hz of sim time on ``fw/joint_commands`` (sent on its ``clock``) with the
  same wheel velocities as the other two levels (a parked robot steps about half as
  expensively but casts its rays among the start's obstacles: not the same world); the rate
  is read from its own ``clock`` topic by a probe in this process. One process per robot
  (namespaces ``/robot_N``), as a fleet host runs them; four robots share the two cores. The
  first window opens after the node has been stepping (and driving) for two seconds, so its
  start-up is not measured.

The levels are measured in interleaved rounds (bare, core, node; ``--rounds`` times, each
window ``--seconds`` long) and each ratio is taken within its round, because this machine's
speed drifts by ±15 % over tens of seconds. The node processes are paused (SIGSTOP) while
the in-process levels run, so no level shares the machine with another. Four bare/core
worlds run round-robin in this one process (``physicsClientId`` per world), so their rate is
per robot with all four sharing one core.

Run it (holding the shared benchmark lock) from the repository root::

    . .venv/bin/activate && cd ros2_ws && . install/setup.bash && cd ..
    flock /tmp/fw-bench.lock python bench/bench_sim.py
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time

import psutil
import pybullet as p

from fw_sim.world import Due, SimWorld

NAMES = ["front_left_wheel", "front_right_wheel", "rear_left_wheel", "rear_right_wheel"]


def _progress(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def _rss_mb(pid: int | None = None) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def bench_bare(worlds: list[SimWorld], seconds: float) -> float:
    """Sim seconds per wall second per robot, bare PyBullet."""
    for w in worlds:
        w.reset()
        p.setJointMotorControlArray(
            w.robot,
            w._wheel_ids,
            p.VELOCITY_CONTROL,
            targetVelocities=[2.0, 3.0, 2.0, 3.0],
            forces=[60.0] * 4,
            physicsClientId=w.client,
        )
    steps_per_scan = round(w.physics_rate / 10.0)
    rays = [(w.lidar._from, w.lidar._to) for w in worlds]
    mask = w.lidar._mask
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for w, (ray_from, ray_to) in zip(worlds, rays, strict=True):
            p.stepSimulation(physicsClientId=w.client)
            if steps % steps_per_scan == 0:
                p.rayTestBatch(
                    ray_from,
                    ray_to,
                    parentObjectUniqueId=w.robot,
                    parentLinkIndex=0,
                    collisionFilterMask=mask,
                    physicsClientId=w.client,
                )
        steps += 1
    return steps / w.physics_rate / (time.perf_counter() - start)


def bench_core(worlds: list[SimWorld], seconds: float) -> float:
    """Sim seconds per wall second per robot, SimWorld with every sensor read when due."""
    for w in worlds:
        w.reset()
    dues = [Due() for _ in worlds]
    steps_per_command = round(worlds[0].physics_rate / 20.0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for w, due in zip(worlds, dues, strict=True):
            if steps % steps_per_command == 0:
                w.apply_wheel_velocities(NAMES, [2.0, 3.0, 2.0, 3.0])
            w.step(due)
            if due.scan:
                w.scan()
            if due.imu:
                w.imu()
            if due.joint_states:
                w.joint_states()
            if due.ground_truth:
                w.ground_truth()
            if w.has_collisions:
                w.pop_collisions()
        steps += 1
    return steps / worlds[0].physics_rate / (time.perf_counter() - start)


class NodeProcesses:
    """``robots`` sim_node processes at ``real_time_factor:=0``, and a probe that drives them
    and reads their rate from their ``clock`` topics. ``pause``/``resume`` stop them (SIGSTOP)
    while the in-process levels run, so every level has the machine to itself."""

    def __init__(self, robots: int) -> None:
        import rclpy
        from rclpy.node import Node
        from rosgraph_msgs.msg import Clock
        from sensor_msgs.msg import JointState

        from fw_common import qos, topics
        from fw_common.spin import make_executor
        from fw_sim.sim_node import CLOCK_QOS

        env = dict(os.environ)
        env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
        self.robots = robots
        self.procs = [
            subprocess.Popen(
                [
                    "ros2_ws/install/lib/fw_sim/sim_node",
                    "--ros-args",
                    "-r",
                    f"__ns:=/robot_{i}",
                    "-p",
                    "real_time_factor:=0.0",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for i in range(robots)
        ]
        self._rclpy = rclpy
        rclpy.init()
        self.probe = probe = Node("bench_sim_probe")
        self.latest: dict[int, float] = {}
        command = JointState(name=NAMES, velocity=[2.0, 3.0, 2.0, 3.0])

        def subscribe(i: int) -> None:
            # The wheel watchdog counts sim time, so commands follow the node's clock (20 Hz).
            commander = probe.create_publisher(
                JointState, f"/robot_{i}/{topics.JOINT_COMMANDS}", qos.COMMAND
            )
            next_command = [0.0]

            def on_clock(msg: Clock) -> None:
                t = self.latest[i] = msg.clock.sec + msg.clock.nanosec * 1e-9
                if t >= next_command[0]:
                    commander.publish(command)
                    next_command[0] = t + 0.05

            probe.create_subscription(Clock, f"/robot_{i}/clock", on_clock, CLOCK_QOS)

        for i in range(robots):
            subscribe(i)
        # The probe takes a clock message per 10 ms of sim time from every robot: on the
        # default executor that alone kept a core busy; the stack's executor does not.
        self._executor = make_executor("auto")
        self._executor.add_node(probe)
        deadline = time.monotonic() + 60.0
        while len(self.latest) < robots and time.monotonic() < deadline:
            self._executor.spin_once(timeout_sec=0.1)
        if len(self.latest) < robots:
            self.close()
            raise RuntimeError("sim_node processes did not start publishing within 60 s")
        self._spin(2.0)  # start-up and the first commands are not measured

    def _spin(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._executor.spin_once(timeout_sec=0.05)

    def measure(self, seconds: float) -> float:
        """Mean sim s per wall s per robot over the next ``seconds``."""
        self._spin(0.3)  # let the clocks catch up after a resume
        first, start = dict(self.latest), time.monotonic()
        self._spin(seconds)
        wall = time.monotonic() - start
        return sum(self.latest[i] - first[i] for i in range(self.robots)) / wall / self.robots

    def pause(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGCONT)

    def rss_mb(self) -> float:
        return max(_rss_mb(proc.pid) for proc in self.procs)

    def close(self) -> None:
        self.resume()
        self._executor.shutdown()
        self.probe.destroy_node()
        self._rclpy.shutdown()
        for proc in self.procs:
            proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.terminate()
                proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="wall seconds per window")
    parser.add_argument("--rounds", type=int, default=7, help="windows per level")
    parser.add_argument("--robots", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    rows = []
    for n in args.robots:
        worlds = [SimWorld() for _ in range(n)]
        bench_core(worlds, 0.5)  # warm, and measured before rclpy is loaded into this process
        core_rss = _rss_mb()
        _progress(f"{n} robot(s): starting {n} sim_node process(es)")
        nodes = NodeProcesses(n)
        rates: dict[str, list[float]] = {"bare": [], "core": [], "node": []}
        try:
            for r in range(args.rounds):
                nodes.pause()
                rates["bare"].append(bench_bare(worlds, args.seconds))
                rates["core"].append(bench_core(worlds, args.seconds))
                nodes.resume()
                rates["node"].append(nodes.measure(args.seconds))
                _progress(
                    f"{n} robot(s), round {r + 1}/{args.rounds}: "
                    + ", ".join(f"{k} {v[-1]:.1f}×" for k, v in rates.items())
                )
            node_rss = nodes.rss_mb()
        finally:
            nodes.close()
        for w in worlds:
            w.close()
        for level, key, rss in (
            ("bare PyBullet (step + rayTestBatch)", "bare", None),
            ("SimWorld core (all sensors)", "core", core_rss),
            ("sim_node, real_time_factor 0", "node", node_rss),
        ):
            ratios = [x / b for x, b in zip(rates[key], rates["bare"], strict=True)]
            rows.append((n, level, statistics.median(rates[key]), ratios, rss))
    print(
        f"{args.rounds} interleaved rounds of {args.seconds:g} s per level; medians, "
        "and the ratio's range over rounds"
    )
    print("| robots | level | sim s / wall s per robot | vs bare (min–max) | RSS (MB) |")
    print("|---|---|---|---|---|")
    for n, level, rate, ratios, rss in rows:
        rss_text = "" if rss is None else f"{rss:.0f}"
        spread = f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"
        print(f"| {n} | {level} | {rate:.1f}× | {spread} | {rss_text} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
