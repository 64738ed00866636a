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
  window opens only after the node has been stepping (and driving) for two seconds, so its
  start-up is not measured.

Four bare/core worlds run round-robin in this one process (``physicsClientId`` per world), so
their rate is per robot with all four sharing one core.

Run it (holding the shared benchmark lock) from the repository root::

    . .venv/bin/activate && cd ros2_ws && . install/setup.bash && cd ..
    flock /tmp/fw-bench.lock python bench/bench_sim.py --seconds 8
"""

from __future__ import annotations

import argparse
import os
import signal
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


def bench_node(robots: int, seconds: float) -> tuple[float, float]:
    """(mean sim s per wall s per robot, max node RSS MB) for ``robots`` node processes."""
    import rclpy
    from rclpy.node import Node
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import JointState

    from fw_common import qos, topics
    from fw_sim.sim_node import CLOCK_QOS

    env = dict(os.environ)
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    procs = [
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
    rclpy.init()
    probe = Node("bench_sim_probe")
    latest: dict[int, float] = {}
    command = JointState(name=NAMES, velocity=[2.0, 3.0, 2.0, 3.0])

    def subscribe(i: int) -> None:
        # The wheel watchdog counts sim time, so commands follow the node's clock (20 Hz sim).
        commander = probe.create_publisher(
            JointState, f"/robot_{i}/{topics.JOINT_COMMANDS}", qos.COMMAND
        )
        next_command = [0.0]

        def on_clock(msg: Clock) -> None:
            t = latest[i] = msg.clock.sec + msg.clock.nanosec * 1e-9
            if t >= next_command[0]:
                commander.publish(command)
                next_command[0] = t + 0.05

        probe.create_subscription(Clock, f"/robot_{i}/clock", on_clock, CLOCK_QOS)

    for i in range(robots):
        subscribe(i)
    try:
        deadline = time.monotonic() + 60.0
        while len(latest) < robots and time.monotonic() < deadline:
            rclpy.spin_once(probe, timeout_sec=0.1)
        warm = time.monotonic() + 2.0
        while time.monotonic() < warm:
            rclpy.spin_once(probe, timeout_sec=0.05)
        first, start = dict(latest), time.monotonic()
        while time.monotonic() - start < seconds:
            rclpy.spin_once(probe, timeout_sec=0.05)
        wall = time.monotonic() - start
        rates = [(latest[i] - first[i]) / wall for i in range(robots)]
        rss = max(_rss_mb(pr.pid) for pr in procs)
    finally:
        probe.destroy_node()
        rclpy.shutdown()
        for pr in procs:
            pr.send_signal(signal.SIGINT)
        for pr in procs:
            try:
                pr.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pr.terminate()
                pr.wait()
    return sum(rates) / robots, rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="wall seconds per level")
    parser.add_argument("--robots", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    rows = []
    for n in args.robots:
        worlds = [SimWorld() for _ in range(n)]
        _progress(f"{n} robot(s): bare PyBullet for {args.seconds:g} s")
        bare = bench_bare(worlds, args.seconds)
        _progress(f"{n} robot(s): SimWorld core for {args.seconds:g} s")
        core = bench_core(worlds, args.seconds)
        core_rss = _rss_mb()
        for w in worlds:
            w.close()
        _progress(f"{n} robot(s): sim_node process(es) for {args.seconds:g} s")
        node, node_rss = bench_node(n, args.seconds)
        rows.append((n, "bare PyBullet (step + rayTestBatch)", bare, bare, None))
        rows.append((n, "SimWorld core (all sensors)", core, bare, core_rss))
        rows.append((n, "sim_node, real_time_factor 0", node, bare, node_rss))
    print("| robots | level | sim s / wall s per robot | vs bare | RSS (MB) |")
    print("|---|---|---|---|---|")
    for n, level, rate, base, rss in rows:
        rss_text = "" if rss is None else f"{rss:.0f}"
        print(f"| {n} | {level} | {rate:.1f}× | {rate / base:.2f} | {rss_text} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
